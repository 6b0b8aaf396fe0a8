"""The merge-method registry: typed, validated per-tensor merge functions of two models.

Every method merges one tensor of model ``a`` with the same tensor of model ``b`` (and, for the
task-vector methods, of their shared ``base``). One convention for all of them:

    ``strength`` = the weight of ``a``;  ``strength = 1`` leans fully on ``a``, ``0`` fully on ``b``.

In the thinking spectrum ``a`` is the direct parent and ``b`` the thinking parent, so ``strength`` is
the paper's Instruct weight λ_I. Task vectors are ``tau = theta - theta_base``.

==================  ============================================================  ================
method              tensor                                                        endpoints
==================  ============================================================  ================
linear              s*a + (1-s)*b                                                 = parents
slerp               spherical interpolation of the flattened tensors (b -> a)     = parents
task_arithmetic     base + scale*(s*tau_a + (1-s)*tau_b)                          = parents
ties                trim tau to top-density, elect signs, disjoint weighted mean  trimmed parents
dare_linear         drop tau entries w.p. 1-density, rescale 1/density, add       dropped parents
dare_ties           DARE drop + rescale, then TIES election and disjoint mean     dropped parents
magnitude_prune     trim tau to top-density by magnitude, then task arithmetic    trimmed parents
low_rank            tau of each matrix cut to its top-density singular directions low-rank parents
low_rank_ties       low-rank tau, then TIES election and disjoint mean            low-rank parents
activation_informed per-layer linear merge, each layer's strength from activations = parents
==================  ============================================================  ================

The task-vector methods after task arithmetic are one family, composed as mergekit composes them:
a *sparsification* of each task vector (``magnitude`` trim, ``random`` drop-and-rescale, or ``svd``
low rank; ``SPARSIFIERS``) times a *consensus* rule (``none``: the weighted sum; ``sign``: TIES'
election and disjoint mean) — ``composed`` registers one pair under its name (``ties`` = magnitude x
sign, ``dare_linear`` = random x none, ...), so a new variant is one line, not a new function.

``activation_informed`` (ACM-style, arXiv 2505.14009) is the one *calibrated* method: its per-tensor
function takes a ``layer_weight`` that ``activation_weights`` computes once per pair of models from
their activations on a small calibration set (no gradient); ``checkpoints.merge_models`` passes each
tensor its layer's weight.

Why hand-written and not ``peft.utils.merge_utils`` or mergekit: peft's kernels merge LoRA task
tensors without a base or a SLERP, and its TIES convention (sign vote on unweighted tensors, mean by
count) does not reproduce a parent at strength 1; mergekit works on whole checkpoints from YAML and
takes 6-8 s per call. Our kernels are small, follow mergekit's conventions (checked against
``mergekit-yaml`` in tests/merging) and agree with peft where the conventions coincide (equal
weights; tested, and the difference tested where they do not).

>>> import torch
>>> a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
>>> merge("linear", a, b, strength=0.25)
tensor([0.2500, 0.7500])
>>> merge("slerp", a, b, strength=0.5)  # a quarter turn: both coordinates sin(pi/4)
tensor([0.7071, 0.7071])
>>> merge("linear", a, b, strength=1.5)
Traceback (most recent call last):
...
workbench.errors.WorkbenchError: strength=1.5 is outside [0, 1] for linear; use a value between 0 (all b) and 1 (all a).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import torch

from workbench.errors import WorkbenchError

Convention = Literal["mergekit", "peft"]


@dataclass(frozen=True)
class MergeMethod:
    """One registered merge function and what it needs."""

    name: str
    fn: Callable[..., torch.Tensor]
    needs_base: bool
    """Whether it works on task vectors (then a shared base checkpoint is required)."""
    uses_density: bool
    """Whether ``density`` (share of task-vector entries kept) applies."""
    stochastic: bool
    """Whether it draws random masks (then ``seed`` matters)."""
    exact_endpoints: bool
    """Whether strength 1 / 0 give back model a / b exactly."""
    summary: str
    calibrated: bool = False
    """Whether each tensor needs a ``layer_weight`` computed from the models' activations
    (``activation_weights``); then only whole models in memory can be merged."""

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()


REGISTRY: dict[str, MergeMethod] = {}


def register(needs_base: bool, uses_density: bool = False, stochastic: bool = False, exact_endpoints: bool = True,
             name: str | None = None, calibrated: bool = False):
    """Decorator adding a per-tensor merge function to ``REGISTRY`` under ``name`` (default: its own)."""

    def wrap(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        summary = (fn.__doc__ or "").strip().splitlines()[0]
        key = name or fn.__name__
        REGISTRY[key] = MergeMethod(key, fn, needs_base, uses_density, stochastic, exact_endpoints, summary, calibrated)
        return fn

    return wrap


def get(name: str) -> MergeMethod:
    """The registered method ``name``; one clear error for an unknown name."""
    if name not in REGISTRY:
        raise WorkbenchError(f"Unknown merge method {name!r}; choose one of {', '.join(REGISTRY)}.")
    return REGISTRY[name]


# ---- validation -----------------------------------------------------------------------------------
def check_strength(strength: float, method: str) -> float:
    if not isinstance(strength, (int, float)) or math.isnan(strength) or not 0.0 <= strength <= 1.0:
        raise WorkbenchError(
            f"strength={strength} is outside [0, 1] for {method}; use a value between 0 (all b) and 1 (all a)."
        )
    return float(strength)


def check_density(density: float, method: str) -> float:
    if not isinstance(density, (int, float)) or math.isnan(density) or not 0.0 < density <= 1.0:
        raise WorkbenchError(f"density={density} is outside (0, 1] for {method}; it is the share of task-vector entries kept.")
    return float(density)


def check_tensors(method: str, name: str, *tensors: torch.Tensor | None) -> None:
    shapes = [tuple(t.shape) for t in tensors if t is not None]
    if len(set(shapes)) > 1:
        raise WorkbenchError(
            f"Cannot merge {name} with {method}: shapes {' vs '.join(map(str, shapes))} differ; "
            "merge checkpoints of one architecture only."
        )
    for t in tensors:
        if t is not None and not t.is_floating_point():
            raise WorkbenchError(f"Cannot merge {name} with {method}: it holds {t.dtype} values, not floating point.")


def merge(
    method: str,
    a: torch.Tensor,
    b: torch.Tensor,
    base: torch.Tensor | None = None,
    *,
    strength: float,
    density: float = 1.0,
    seed: int = 0,
    name: str = "tensor",
    **options,
) -> torch.Tensor:
    """Validate the inputs and merge one tensor with a registered method (computed in float32,
    returned in ``a``'s dtype). ``name`` only labels error messages; ``options`` go to the method."""
    spec = get(method)
    strength = check_strength(strength, method)
    if spec.uses_density:
        density = check_density(density, method)
    if spec.needs_base and base is None:
        raise WorkbenchError(f"{method} works on task vectors and needs the shared base model; pass --base DIR.")
    check_tensors(method, name, a, b, base if spec.needs_base else None)
    work = torch.float64 if a.dtype == torch.float64 else torch.float32
    args = [a.to(work), b.to(work)] + ([base.to(work)] if spec.needs_base else [])
    kwargs = dict(strength=strength, **options)
    if spec.uses_density:
        kwargs["density"] = density
    if spec.stochastic:
        kwargs["generator"] = torch.Generator().manual_seed(int(seed))
    return spec.fn(*args, **kwargs).to(a.dtype)


# ---- building blocks ------------------------------------------------------------------------------
def trim_by_magnitude(tau: torch.Tensor, density: float) -> torch.Tensor:
    """Keep the ``max(1, int(density * n))`` largest-magnitude entries, zero the rest (mergekit's rule).

    >>> trim_by_magnitude(torch.tensor([0.1, -3.0, 2.0, 0.5]), 0.5)
    tensor([ 0., -3.,  2.,  0.])
    """
    if density >= 1.0 or tau.numel() == 0:
        return tau
    k = max(1, int(density * tau.numel()))
    keep = torch.zeros(tau.numel(), dtype=torch.bool, device=tau.device)
    keep[torch.topk(tau.abs().reshape(-1), k, sorted=False).indices] = True
    return tau * keep.reshape(tau.shape)


def random_drop(tau: torch.Tensor, density: float, generator: torch.Generator) -> torch.Tensor:
    """DARE's drop-and-rescale: keep each entry with probability ``density``, divide by ``density``.

    Unbiased: the expectation over masks is ``tau`` itself (mergekit 0.1.5 instead rescales each
    tensor to its original L1 norm, which is data-dependent; see tests/merging).
    """
    if density >= 1.0:
        return tau
    mask = (torch.rand(tau.shape, generator=generator) < density).to(tau.device)
    return tau * mask / density


@contextmanager
def single_thread():
    """Run a block on one torch thread (restored after): LAPACK's SVD and BLAS matmuls split their work
    by thread count, and the low-rank merge then differed in the last bits between 1 and 2 threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def low_rank(tau: torch.Tensor, density: float) -> torch.Tensor:
    """The best rank-``max(1, int(density * min(rows, cols)))`` approximation of a matrix (truncated
    SVD, computed in float64 on one thread: the same bits for any thread count); tensors that are not
    matrices are kept whole (a norm's scale has no singular directions).

    >>> t = torch.tensor([[3.0, 0.0], [0.0, 1.0]])
    >>> low_rank(t, 0.5)
    tensor([[3., 0.],
            [0., 0.]])
    """
    if tau.dim() != 2 or density >= 1.0 or min(tau.shape) == 0:
        return tau
    rank = max(1, int(density * min(tau.shape)))
    with single_thread():
        u, sv, vh = torch.linalg.svd(tau.double(), full_matrices=False)
        return ((u[:, :rank] * sv[:rank]) @ vh[:rank]).to(tau.dtype)


def elect_and_merge(taus: list[torch.Tensor], weights: list[float], convention: Convention = "mergekit") -> torch.Tensor:
    """TIES' sign election and disjoint merge of (already trimmed/dropped) task vectors.

    - ``mergekit`` (ours): weight the task vectors first, elect each entry's sign by the sign of the
      weighted sum, and average the agreeing entries weighted, dividing by the sum of agreeing
      weights. With weights (1, 0) this returns the first task vector: the endpoint is a parent.
    - ``peft``: elect on the unweighted sum and divide the weighted sum of agreeing entries by
      their count (``peft.utils.merge_utils.ties``). The two agree when all weights are 1.
    Entries that are exactly zero never count as agreeing (their sign is 0).
    """
    stacked = torch.stack(taus)
    w = torch.tensor(weights, dtype=stacked.dtype, device=stacked.device).reshape(-1, *([1] * (stacked.dim() - 1)))
    weighted = stacked * w
    vote = weighted.sum(0) if convention == "mergekit" else stacked.sum(0)
    majority = torch.where(vote >= 0, 1.0, -1.0).to(stacked.dtype)
    agree = (stacked.sign() == majority).to(stacked.dtype)
    mixed = (weighted * agree).sum(0)
    if convention == "mergekit":
        divisor = (w * agree).sum(0)
        divisor[divisor == 0] = 1.0
    else:
        divisor = agree.sum(0).clamp(min=1.0)
    return mixed / divisor


# ---- the methods ----------------------------------------------------------------------------------
@register(needs_base=False)
def linear(a: torch.Tensor, b: torch.Tensor, *, strength: float) -> torch.Tensor:
    """Weighted average ``s*a + (1-s)*b`` (mergekit ``linear`` with weights s, 1-s; normalized).

    Written as ``torch.lerp(b, a, s)``: one pass and one allocation instead of three (4x faster on a
    100M-parameter pair, where linear was the one method slower than mergekit); exact at s = 0 and 1.
    """
    return torch.lerp(b, a, strength)


def fixed_order_dot(x: torch.Tensor, y: torch.Tensor, chunk: int = 1 << 14) -> torch.Tensor:
    """``x @ y`` of two flat tensors, summed in float64, with the same bits for any torch thread count.

    A plain ``x @ y`` (or ``norm``) splits one long sum across threads, so SLERP's angle, and with it
    every merged weight, differed in the last bits between 1 and 2 threads. Here each row of
    ``chunk`` entries is one ``vecdot`` that a single thread computes in a fixed order, and the row
    sums are added in float64 (a few thousand numbers: never split). No copy of the tensors is made,
    so this costs ~0.1 s for a 25M-entry embedding (a float64 copy took 0.6 s).
    """
    n = x.numel() // chunk * chunk
    head = torch.linalg.vecdot(x[:n].view(-1, chunk), y[:n].view(-1, chunk)).double().sum()
    return head + (x[n:].double() * y[n:].double()).sum()


@register(needs_base=False)
def slerp(a: torch.Tensor, b: torch.Tensor, *, strength: float, dot_threshold: float = 0.9995) -> torch.Tensor:
    """Spherical interpolation of the flattened tensors from ``b`` (s=0) to ``a`` (s=1).

    The angle comes from the normalized tensors; the coefficients sin((1-s)θ)/sin θ and sin(sθ)/sin θ
    multiply the raw tensors (mergekit ``slerp`` with ``base_model`` = b and t = s). Nearly parallel
    tensors (|cos θ| > ``dot_threshold``) fall back to linear interpolation, so SLERP of parallel
    tensors equals the linear merge.
    """
    va, vb = a.reshape(-1), b.reshape(-1)
    na, nb = fixed_order_dot(va, va).sqrt(), fixed_order_dot(vb, vb).sqrt()
    if va.numel() == 0 or na < 1e-8 or nb < 1e-8:
        return linear(a, b, strength=strength)
    dot = torch.clamp(fixed_order_dot(va, vb) / (na * nb), -1.0, 1.0).to(a.dtype)
    if dot.abs() > dot_threshold:
        return linear(a, b, strength=strength)
    theta = torch.acos(dot)
    sin_theta = torch.sin(theta)
    coef_b = torch.sin((1.0 - strength) * theta) / sin_theta
    coef_a = torch.sin(strength * theta) / sin_theta
    return coef_a * a + coef_b * b


@register(needs_base=True)
def task_arithmetic(a: torch.Tensor, b: torch.Tensor, base: torch.Tensor, *, strength: float, scale: float = 1.0) -> torch.Tensor:
    """``base + scale*(s*tau_a + (1-s)*tau_b)``; with scale 1 this is exactly the linear merge
    (mergekit ``task_arithmetic`` with weights s, 1-s and lambda = scale; peft ``task_arithmetic``)."""
    # = lerp(base, lerp(b, a, s), scale): two passes and two allocations instead of seven
    return torch.lerp(base, torch.lerp(b, a, strength), scale)


# ---- the task-vector family: sparsification x consensus (mergekit's composition) ------------------------
def _magnitude(tau: torch.Tensor, density: float, generator: torch.Generator | None) -> torch.Tensor:
    return trim_by_magnitude(tau, density)


def _random(tau: torch.Tensor, density: float, generator: torch.Generator | None) -> torch.Tensor:
    return random_drop(tau, density, generator)


def _svd(tau: torch.Tensor, density: float, generator: torch.Generator | None) -> torch.Tensor:
    return low_rank(tau, density)


SPARSIFIERS: dict[str, Callable[[torch.Tensor, float, torch.Generator | None], torch.Tensor]] = {
    "magnitude": _magnitude, "random": _random, "svd": _svd,
}
"""How each task vector is thinned before the consensus step (``density`` = share kept: of the
entries for ``magnitude`` and ``random``, of each matrix's singular directions for ``svd``)."""
CONSENSUS = ("none", "sign")
"""``none``: base + s*tau_a + (1-s)*tau_b; ``sign``: TIES' election and disjoint mean (``elect_and_merge``)."""


def composed(name: str, sparsification: str, consensus: str, doc: str) -> None:
    """Register the task-vector merge ``sparsification`` x ``consensus`` under ``name``; ``doc`` is its
    docstring (the first line is the registry summary). Random sparsification makes it stochastic."""
    if sparsification not in SPARSIFIERS or consensus not in CONSENSUS:
        raise ValueError(f"unknown composition {sparsification} x {consensus}")
    thin = SPARSIFIERS[sparsification]

    def fn(a: torch.Tensor, b: torch.Tensor, base: torch.Tensor, *, strength: float, density: float,
           generator: torch.Generator | None = None, convention: Convention = "mergekit") -> torch.Tensor:
        tau_a = thin(a - base, density, generator)
        tau_b = thin(b - base, density, generator)
        if consensus == "sign":
            return base + elect_and_merge([tau_a, tau_b], [strength, 1.0 - strength], convention)
        return base + strength * tau_a + (1.0 - strength) * tau_b

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    fn.sparsification, fn.consensus = sparsification, consensus
    register(needs_base=True, uses_density=True, stochastic=sparsification == "random", exact_endpoints=False)(fn)


composed("ties", "magnitude", "sign", """TIES: trim each task vector to its top-``density`` entries by magnitude, elect a sign per
    entry, and take the weighted mean of the entries that agree (see ``elect_and_merge`` for the
    mergekit and peft conventions). At strength 1 it gives the *trimmed* ``a``, not ``a``.""")
composed("dare_linear", "random", "none", """DARE + task arithmetic: drop each task-vector entry with probability 1-density, rescale the
    survivors by 1/density (unbiased), then ``base + s*tau_a' + (1-s)*tau_b'``. Seeded by ``seed``.""")
composed("dare_ties", "random", "sign", """DARE + TIES: DARE's drop and 1/density rescale, then TIES' sign election and disjoint weighted
    mean (normalized by the agreeing weights, like our ``ties``; mergekit's own dare_ties default
    skips that normalization — pass ``normalize: true`` there to compare).""")
composed("magnitude_prune", "magnitude", "none", """Trim each task vector to its top-``density`` entries by magnitude, then task arithmetic
    (peft ``magnitude_prune`` plus the base; no sign election).""")
composed("low_rank", "svd", "none", """Low-rank task arithmetic: each matrix's task vector cut to its top-``density`` share of
    singular directions (``low_rank``; vectors kept whole), then ``base + s*tau_a' + (1-s)*tau_b'``
    (LoRE-style; long-to-short study arXiv 2503.20641). At density 1 it is task arithmetic.""")
composed("low_rank_ties", "svd", "sign", """Low-rank task vectors (``low_rank``), then TIES' sign election and disjoint weighted mean.""")


# ---- activation-informed per-layer merge ------------------------------------------------------------
@register(needs_base=False, calibrated=True)
def activation_informed(a: torch.Tensor, b: torch.Tensor, *, strength: float, layer_weight: float = 1.0) -> torch.Tensor:
    """Per-layer linear merge: layer strength ``1 - (1-s)**w`` from the layer's activation weight ``w``.

    ``w`` (``activation_weights``: mean 1 over the decoder layers, 1 outside them) says how much the
    parents' activations differ in that layer relative to the others (ACM-style, arXiv 2505.14009,
    with 1 - cosine similarity standing in for 1 - normalized mutual information). ``1 - (1-s)**w`` is
    ``≈ w*s`` for small ``s`` — a layer where the parents differ most moves toward ``a`` fastest — and
    keeps both endpoints exact (0 -> b, 1 -> a) for any ``w``. With every ``w`` = 1 it is ``linear``.
    """
    return torch.lerp(b, a, layer_strength(strength, layer_weight))


def layer_strength(strength: float, weight: float) -> float:
    """``1 - (1 - s)**w`` (exactly ``s`` at w = 1, exactly 0 and 1 at the ends).

    >>> layer_strength(0.2, 1.0), round(layer_strength(0.2, 2.0), 4), layer_strength(1.0, 0.5)
    (0.2, 0.36, 1.0)
    """
    if weight == 1.0 or strength in (0.0, 1.0):
        return float(strength)
    return 1.0 - (1.0 - float(strength)) ** float(weight)


LAYER_RE = re.compile(r"(?:^|\.)layers\.(\d+)\.")


def layer_of(name: str) -> int | None:
    """The decoder layer a tensor belongs to (``model.layers.3.mlp.up_proj.weight`` -> 3), else None.

    >>> layer_of("model.layers.3.mlp.up_proj.weight"), layer_of("lm_head.weight")
    (3, None)
    """
    match = LAYER_RE.search(name)
    return int(match.group(1)) if match else None


@torch.no_grad()
def activation_weights(a_model: torch.nn.Module, b_model: torch.nn.Module, tokenizer, texts: list[str]) -> dict[str, float]:
    """Each tensor's ``layer_weight`` for ``activation_informed``, from the two models' hidden states
    on calibration ``texts`` (no gradient): per decoder layer ``l``, ``d_l = 1 - cos`` averaged over
    the real tokens of the layer's outputs; ``w_l = d_l / mean(d)``. Tensors outside the decoder layers
    (embeddings, final norm, head) get 1. Computed on one thread, so the weights do not depend on the
    thread count."""
    with single_thread():
        enc = tokenizer(list(texts), return_tensors="pt", padding=True)
        mask = enc["attention_mask"].bool()
        states = []
        for model in (a_model, b_model):
            device = next(model.parameters()).device
            out = model(input_ids=enc["input_ids"].to(device), attention_mask=enc["attention_mask"].to(device),
                        output_hidden_states=True)
            states.append([h.detach().to("cpu", torch.float64) for h in out.hidden_states[1:]])
        distance = []
        for ha, hb in zip(*states):
            cos = torch.nn.functional.cosine_similarity(ha[mask], hb[mask], dim=-1)
            distance.append(float((1.0 - cos).mean()))
    mean = sum(distance) / len(distance)
    weights = [d / mean if mean > 0 else 1.0 for d in distance]
    out = {}
    for name, _ in a_model.named_parameters():
        layer = layer_of(name)
        out[name] = float(weights[layer]) if layer is not None and layer < len(weights) else 1.0
    return out


METHOD_NAMES = tuple(REGISTRY)
