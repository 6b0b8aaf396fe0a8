"""Strength sweeps: merge the parents at every grid point of every method and evaluate the merge.

Grids (strength = direct weight λ): a coarse grid over [0, 1], fine steps near both parents, and fine
steps across the *transition* — where the linear merges stop opening ``<think>`` (the share that
thinks falls from 90% to 10%, padded by ``switch_window``) — found adaptively from the coarse points.
SLERP shares the linear grid points it needs for the SLERP-vs-linear comparison; the task-vector
methods get a coarser grid each.

A seed's sweep is cut into ``chunks`` (one job each, see ``workbench.merging.jobs``): the coarse
linear grid in interleaved segments, then the transition window, SLERP, and one chunk per other method.

Every model answers the same problems with the same sampling seed (common random numbers), so the
paired comparisons in ``analysis`` see the merge's effect and little sampling noise, and a chunk's
numbers do not depend on which other chunks ran, or where. Merges whose endpoints are exactly the
parents (linear, SLERP, task arithmetic) reuse the parents' evaluation there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.merging import world
from workbench.merging.analysis import crossing
from workbench.merging.checkpoints import merge_models
from workbench.merging.evaluate import Sampling, evaluate_arithmetic
from workbench.merging.merge_methods import get
from workbench.merging.parents import Parents
from workbench.progress import Progress, scaled, silent


def grid(step: float, fine_step: float = 0.0, fine_edge: float = 0.0, extra: Iterable[float] = ()) -> list[float]:
    """Sorted strengths: multiples of ``step`` in [0, 1], plus ``fine_step`` steps within ``fine_edge``
    of either end, plus ``extra`` (rounded to 4 decimals, clipped to [0, 1]).

    >>> grid(0.5, 0.1, 0.2)
    [0.0, 0.1, 0.2, 0.5, 0.8, 0.9, 1.0]
    """
    points = set(np.round(np.arange(0.0, 1.0 + 1e-9, step), 4)) if step > 0 else {0.0, 1.0}
    points |= {0.0, 1.0}
    if fine_step > 0 and fine_edge > 0:
        for x in np.arange(0.0, fine_edge + 1e-9, fine_step):
            points |= {round(float(x), 4), round(1.0 - float(x), 4)}
    points |= {round(float(x), 4) for x in extra if 0.0 <= x <= 1.0}
    return sorted(float(p) for p in points)


def window(low: float, high: float, step: float) -> list[float]:
    """Points of the ``step`` lattice in [low, high] clipped to [0, 1] (empty when a bound is nan).

    >>> window(0.41, 0.49, 0.02)
    [0.42, 0.44, 0.46, 0.48]
    """
    if not (np.isfinite(low) and np.isfinite(high)) or step <= 0:
        return []
    lo, hi = max(0.0, low), min(1.0, high)
    start = np.ceil(lo / step - 1e-9) * step
    return [round(float(x), 4) for x in np.arange(start, hi + 1e-9, step)]


def transition_window(strengths: Sequence[float], share: Sequence[float], step: float, pad: float) -> list[float]:
    """Fine points across the fall of the thinking share: from where it reaches 90% to where it
    reaches 10% (linear interpolation of the coarse curve), padded by ``pad`` on both sides.

    >>> transition_window([0.0, 0.4, 0.6, 1.0], [1.0, 0.8, 0.0, 0.0], step=0.05, pad=0.05)
    [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]
    """
    hi, lo = crossing(strengths, share, 0.9), crossing(strengths, share, 0.1)
    return window(hi - pad, lo + pad, step)


# ---- the chunks of a sweep ----------------------------------------------------------------------------
COARSE_SEGMENTS = 2
"""The coarse linear grid is split into this many interleaved segments (one job each), so that two
workers share the part every later chunk waits for."""


@dataclass(frozen=True)
class Chunk:
    """One piece of a seed's sweep: one method at some strengths (one job)."""

    name: str
    method: str
    strengths: tuple[float, ...]
    """Fixed grid points."""
    window: bool = False
    """Also the transition window's points (found from the coarse linear chunks' thinking shares)."""
    needs_coarse: bool = False
    """Reads the coarse linear chunks: for the window, or for the parents' rows at λ = 0 and 1."""

    def points(self, window_points: Sequence[float] = ()) -> list[float]:
        return sorted({*self.strengths, *(window_points if self.window else ())})


def chunks(cfg) -> list[Chunk]:
    """The chunks of one seed's sweep, in plan order: linear (coarse + edges, in segments; then the
    transition window), SLERP (its grid plus the window), then every other method on its grid.

    Linear always runs: its endpoints are the parents' rows and its curve locates the transition.
    Methods whose endpoints are exactly the parents (SLERP, task arithmetic) reuse the coarse linear
    chunks' rows at λ = 0 and 1 (identical weights and seed give identical outputs).
    """
    coarse = grid(cfg.coarse_step, cfg.fine_step, cfg.fine_edge)
    out = [Chunk(f"linear-coarse-{i + 1}", "linear", tuple(coarse[i::COARSE_SEGMENTS]))
           for i in range(COARSE_SEGMENTS) if coarse[i::COARSE_SEGMENTS]]
    out.append(Chunk("linear-fine", "linear", (), window=True, needs_coarse=True))
    if "slerp" in cfg.methods:
        out.append(Chunk("slerp", "slerp", tuple(grid(cfg.slerp_step)), window=True, needs_coarse=True))
    for method in dict.fromkeys(cfg.methods):
        if method not in ("linear", "slerp"):
            out.append(Chunk(method, method, tuple(grid(cfg.other_step)), needs_coarse=get(method).exact_endpoints))
    return out


def coarse_names(cfg) -> list[str]:
    return [c.name for c in chunks(cfg) if c.name.startswith("linear-coarse")]


def window_from(coarse_results: Sequence[dict], cfg) -> list[float]:
    """The transition window from the coarse linear chunks' results (their ``thinking_share`` pairs)."""
    pairs = sorted((float(s), float(v)) for r in coarse_results for s, v in r["thinking_share"])
    return transition_window([s for s, _ in pairs], [v for _, v in pairs], step=cfg.fine_step, pad=cfg.switch_window)


CALIBRATION_STREAM = 11
"""Problem stream of the calibration set (offset from the seed like ``parents``' streams)."""


def calibration_texts(seed: int, n: int = 36) -> list[str]:
    """The calibration set of ``activation_informed``: ``n`` fresh problems (balanced 1-6 ops, not the
    evaluation's) written out as prompt + a thinking answer with one re-check — the text on which
    the parents' layers are compared (no gradient, no labels used)."""
    return [f"{world.prompt(p)} {world.thinking_completion(p, 1)}"
            for p in world.make_problems(n, seed * 100 + CALIBRATION_STREAM)]


def layer_weights_of(parents: Parents, method: str, seed: int = 0) -> dict[str, float] | None:
    """``activation_informed``'s per-tensor layer weights for these parents (None for other methods)."""
    if not get(method).calibrated:
        return None
    from workbench.merging.merge_methods import activation_weights

    return activation_weights(parents.direct, parents.thinking, parents.tokenizer, calibration_texts(seed))


def merged_model(parents: Parents, method: str, strength: float, density: float, merge_seed: int,
                 layer_weights: dict[str, float] | None = None):
    """The merged model (the parents themselves at the exact endpoints of exact methods)."""
    if get(method).exact_endpoints and strength in (0.0, 1.0):
        return parents.direct if strength == 1.0 else parents.thinking
    return merge_models(parents.direct, parents.thinking, parents.base, method=method, strength=strength,
                        density=density, seed=merge_seed, layer_weights=layer_weights)


def example_ids(problems: Sequence[world.Problem], per_level: int = 2) -> set[int]:
    """The problems whose first sample is kept as an example: the first ``per_level`` of each difficulty."""
    by_level: dict[int, list[int]] = {}
    for p in problems:
        by_level.setdefault(p.n_ops, []).append(p.id)
    return {i for ids in by_level.values() for i in ids[:per_level]}


def examples_of(frame: pd.DataFrame, problems: Sequence[world.Problem]) -> pd.DataFrame:
    """Sample generations of one evaluation (with text): the first sample of each example problem."""
    prompts = {p.id: world.prompt(p) for p in problems}
    rows = frame[(frame["sample"] == 0) & frame["problem"].isin(example_ids(problems))].copy()
    rows["prompt"] = rows["problem"].map(prompts)
    return rows[["method", "strength", "problem", "n_ops", "prompt", "text", "correct", "tokens", "thinking"]]


def evaluate_points(parents: Parents, problems: Sequence[world.Problem], cfg, method: str, strengths: Sequence[float],
                    progress: Progress | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge and evaluate ``method`` at each strength: (outputs without text, examples with text)."""
    progress = progress or silent
    sampling = Sampling(samples=cfg.samples, temperature=cfg.temperature, top_p=cfg.top_p, batch_size=cfg.batch_size,
                        budget_rechecks=world.Overthinking(cfg.overthink).budget_rechecks)
    frames, examples = [], []
    weights = layer_weights_of(parents, method, cfg.seed)
    for i, s in enumerate(strengths):
        model = merged_model(parents, method, s, cfg.density, cfg.merge_seed, weights)
        frame = evaluate_arithmetic(model, parents.tokenizer, problems, sampling, seed=cfg.seed,
                                    progress=scaled(progress, i / len(strengths), (i + 1) / len(strengths)))
        frame["method"], frame["strength"] = method, float(s)
        examples.append(examples_of(frame, problems))
        frames.append(frame.drop(columns=["text"]))
        progress(f"{method} λ={s:.2f} ({i + 1}/{len(strengths)})", (i + 1) / len(strengths))
    return _concat(frames), _concat(examples)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def evaluate_strength(
    parents: Parents,
    method: str,
    strength: float,
    n_problems: int = 60,
    samples: int = 1,
    density: float = 0.5,
    merge_seed: int = 0,
    seed: int = 0,
    progress: Progress | None = None,
    overthink: float = 0.0,
) -> tuple[dict, pd.DataFrame]:
    """Merge the parents at one exact strength (in memory) and evaluate ``n_problems`` fresh problems
    (balanced 1-6 ops, the same for every call with this seed): the app's live button. ``overthink``:
    the run's dial, whose generation budget the evaluation keeps."""
    from workbench.merging.evaluate import summarize
    from workbench.merging.parents import TEST_STREAM

    progress = progress or silent
    progress(f"merging {method} at λ={strength:.3f}", 0.0)
    merged = merge_models(parents.direct, parents.thinking, parents.base, method=method, strength=strength,
                          density=density, seed=merge_seed, layer_weights=layer_weights_of(parents, method, seed))
    problems = world.make_problems(n_problems, seed * 100 + TEST_STREAM + 1)
    sampling = Sampling(samples=samples, budget_rechecks=world.Overthinking(overthink).budget_rechecks)
    frame = evaluate_arithmetic(merged, parents.tokenizer, problems, sampling, seed=seed,
                                progress=scaled(progress, 0.05, 1.0))
    prompts = {p.id: world.prompt(p) for p in problems}
    frame.insert(0, "prompt", frame["problem"].map(prompts))
    progress("done", 1.0)
    return summarize(frame), frame
