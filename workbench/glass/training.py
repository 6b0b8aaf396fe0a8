"""The one training loop of the GLASS method, for the SID models and the SASRec baseline alike.

A plain torch loop — AdamW, linear warm-up then linear decay, random mini-batches, gradient clipping —
because the models are tiny and the loop is the clearest place to see what each variant is fed: the
short window always, the SID-Tier vector when the model has the token, the true-c1 bucket when it
has hard search. ``train_model`` takes the model and a ``loss_fn(rows)`` of a batch of case indices;
``train_sid_model`` and ``baselines.train_sasrec`` only say what a batch's loss is.

What makes it fast on a GPU, and changes nothing on the CPU:

* bf16 autocast on CUDA (no loss scaling needed with bf16);
* the loss is read back to the host only every ``log_every`` steps — it is summed on the device in
  between, so the GPU is never stalled by a per-step ``.item()``;
* fused AdamW on CUDA.

Weight decay applies to the weight matrices and embeddings only (tensors with two or more
dimensions); biases and LayerNorm gains are not pulled to zero (two AdamW parameter groups).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from workbench.glass.features import CaseArrays
from workbench.glass.model import SeqRecModel
from workbench.progress import Progress
from workbench.training import TrainingSettings


@dataclass(frozen=True)
class TrainSettings(TrainingSettings):
    """The loop's settings (the shared fields: ``workbench.training``); ``weight_decay`` applies to the
    matrices and embeddings only (none on biases and norms)."""

    steps: int = 600
    batch_size: int = 256
    lr: float = 2e-3
    warmup: int = 50
    weight_decay: float = 0.01
    log_every: int = 25
    length_batches: bool = False
    """Draw each batch from cases of similar window length (``length_batches``) instead of uniformly:
    every case is still seen once per epoch, but short windows are no longer padded to the longest
    one in the batch (3x less encoder work on Amazon Beauty). Off for the synthetic world (full windows)."""
    clip: float = 1.0
    """Largest global gradient norm (clipped above it)."""


@dataclass
class Selection:
    """Best-on-validation selection, as cornac's TIGER and SASRec do (``model_selection="best"``): every
    ``every`` steps (and at the last) ``score(model)`` — higher is better, e.g. Recall@10 on validation
    cases — is computed in eval mode; the weights of the best check are restored when training ends.
    Without it the last step's weights are kept, which is what a short, decaying schedule wants; long
    runs overfit the training users and then the best check wins."""

    score: Callable[[nn.Module], float]
    every: int
    log: list[tuple[int, float]] = field(default_factory=list)
    """(step, score) of every check."""
    best_step: int = 0
    best_score: float = float("-inf")

    def check(self, model: nn.Module, step: int, best: dict | None) -> dict | None:
        """Score the model at ``step``; return a copy of its weights when it is the best so far, else ``best``."""
        model.eval()
        with torch.no_grad():
            value = float(self.score(model))
        model.train()
        self.log.append((step, value))
        if value > self.best_score:
            self.best_step, self.best_score = step, value
            return {k: v.detach().clone() for k, v in model.state_dict().items()}
        return best


def schedule(step: int, s: TrainSettings) -> float:
    """Learning-rate factor: linear warm-up to 1, then linear decay to 0.1."""
    if step < s.warmup:
        return (step + 1) / s.warmup
    return max(0.1, 1.0 - 0.9 * (step - s.warmup) / max(1, s.steps - s.warmup))


def length_batches(lengths: np.ndarray, batch_size: int, seed: int = 0, pool: int = 50):
    """Endless index batches of similar ``lengths``: each epoch is a fresh permutation cut into pools of
    ``pool`` batches; a pool is sorted by length, cut into batches, and the batches come in random order.

    >>> gen = length_batches(np.array([1, 9, 1, 9, 1, 9]), batch_size=3, seed=0, pool=2)
    >>> sorted(sorted(np.array([1, 9, 1, 9, 1, 9])[next(gen)].tolist()) for _ in range(2))
    [[1, 1, 1], [9, 9, 9]]
    """
    rng = np.random.default_rng(seed)
    n = len(lengths)
    while True:
        perm = rng.permutation(n)
        batches = []
        for start in range(0, n, batch_size * pool):
            chunk = perm[start : start + batch_size * pool]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
        for i in rng.permutation(len(batches)):
            yield batches[i]


def batch_rows(n: int, settings: TrainSettings, device, lengths: np.ndarray | None = None) -> Iterator[torch.Tensor]:
    """Endless batches of case indices on ``device``: uniform draws (a seeded generator), or groups of
    similar ``lengths`` when ``settings.length_batches``."""
    if settings.length_batches and lengths is not None:
        return (torch.as_tensor(rows, device=device) for rows in length_batches(lengths, settings.batch_size, settings.seed))
    gen = torch.Generator().manual_seed(settings.seed)
    size = min(settings.batch_size, n)
    return (torch.randint(n, (size,), generator=gen).to(device) for _ in itertools.count())


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW groups: matrices and embeddings (dim >= 2) decay, biases and norm gains (1-D) do not."""
    params = [p for p in model.parameters() if p.requires_grad]
    return [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]


def train_model(model: nn.Module, loss_fn: Callable[[torch.Tensor], torch.Tensor], n: int, settings: TrainSettings,
                device, progress: Progress | None = None, label: str = "training",
                lengths: np.ndarray | None = None, selection: Selection | None = None) -> list[float]:
    """Train ``model`` in place on ``n`` cases; ``loss_fn(rows)`` is the mean loss of the cases ``rows``.
    With ``selection``, the weights of its best validation check are the ones kept.

    Returns the mean loss of every ``log_every`` steps (the learning curve).
    """
    device = torch.device(device)
    cuda = device.type == "cuda"
    model.to(device).train()
    opt = torch.optim.AdamW(param_groups(model, settings.weight_decay), lr=settings.lr, fused=cuda)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: schedule(step, settings))
    batches = batch_rows(n, settings, device, lengths)
    curve: list[float] = []
    running = torch.zeros((), dtype=torch.float64, device=device)  # summed on the device, read at log steps
    since = 0
    best = None
    for step in range(settings.steps):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            loss = loss_fn(next(batches))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), settings.clip)
        opt.step()
        sched.step()
        running += loss.detach()
        since += 1
        if since == settings.log_every or step + 1 == settings.steps:
            curve.append(float(running) / since)
            running.zero_()
            since = 0
            if progress:
                progress(f"{label}: step {step + 1}/{settings.steps}, loss {curve[-1]:.3f}", (step + 1) / settings.steps)
        if selection and ((step + 1) % selection.every == 0 or step + 1 == settings.steps):
            best = selection.check(model, step + 1, best)
    if best is not None:
        model.load_state_dict(best)
    model.eval()
    return curve


def model_inputs(arrays: CaseArrays, device, rows: np.ndarray | slice = slice(None)) -> dict[str, torch.Tensor]:
    """The tensors a SID model reads for some cases (true-c1 bucket for teacher forcing)."""
    return {
        "window": torch.as_tensor(arrays.window[rows], device=device),
        "tier": torch.as_tensor(arrays.tier[rows], device=device),
        "target_codes": torch.as_tensor(arrays.target_codes[rows], device=device),
        "bucket": torch.as_tensor(arrays.true_bucket()[rows], device=device),
    }


def train_sid_model(model: SeqRecModel, arrays: CaseArrays, settings: TrainSettings, device,
                    progress: Progress | None = None, label: str = "training",
                    selection: Selection | None = None) -> list[float]:
    """Teacher forcing on the target's SID; returns the learning curve."""
    data = model_inputs(arrays, device)
    model.to(device).fit_tier_scaling(data["tier"])
    search = model.spec.hard_search

    def loss_fn(rows: torch.Tensor) -> torch.Tensor:
        b = {k: v[rows] for k, v in data.items()}
        return model.loss(b["window"], b["tier"], b["target_codes"], b["bucket"] if search else None)

    return train_model(model, loss_fn, len(arrays), settings, device, progress, label,
                       lengths=(arrays.window >= 0).sum(1), selection=selection)
