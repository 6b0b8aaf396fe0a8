"""Strength sweeps: merge the parents at every grid point of every method and evaluate the merge.

Grids (strength = direct weight λ): a coarse grid over [0, 1], fine steps near both parents, and fine
steps across the *transition* — where the linear merges stop opening ``<think>`` (the share that
thinks falls from 90% to 10%, padded by ``switch_window``) — found adaptively from the coarse points. SLERP shares the linear grid points it
needs for the SLERP-vs-linear comparison; the task-vector methods get a coarser grid each.

Every model answers the same problems with the same sampling seed (common random numbers), so the
paired comparisons in ``analysis`` see the merge's effect and little sampling noise. Merges whose
endpoints are exactly the parents (linear, SLERP, task arithmetic) reuse the parents' evaluation there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.merging import world
from workbench.merging.analysis import crossing
from workbench.merging.checkpoints import merge_models
from workbench.merging.evaluate import Sampling, evaluate_arithmetic
from workbench.merging.methods import get
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


@dataclass
class Sweeper:
    """Evaluates merges of one set of parents, remembering every (method, strength) it evaluated."""

    parents: Parents
    problems: Sequence[world.Problem]
    sampling: Sampling
    seed: int = 0
    density: float = 0.5
    merge_seed: int = 0
    examples_per_level: int = 2
    progress: Progress = silent
    frames: dict[tuple[str, float], pd.DataFrame] = field(default_factory=dict)
    examples: list[pd.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        by_level: dict[int, list[int]] = {}
        for p in self.problems:
            by_level.setdefault(p.n_ops, []).append(p.id)
        self._example_ids = {i for ids in by_level.values() for i in ids[: self.examples_per_level]}

    def model(self, method: str, strength: float):
        """The merged model (the parents themselves at the exact endpoints of exact methods)."""
        spec = get(method)
        if spec.exact_endpoints and strength in (0.0, 1.0):
            return self.parents.direct if strength == 1.0 else self.parents.thinking
        return merge_models(self.parents.direct, self.parents.thinking, self.parents.base, method=method,
                            strength=strength, density=self.density, seed=self.merge_seed)

    def evaluate(self, method: str, strength: float, progress: Progress | None = None) -> pd.DataFrame:
        strength = round(float(strength), 4)
        key = (method, strength)
        if key in self.frames:
            return self.frames[key]
        spec = get(method)
        endpoint = spec.exact_endpoints and strength in (0.0, 1.0)
        reuse = next((f for (m, s), f in self.frames.items() if endpoint and s == strength and get(m).exact_endpoints), None)
        if reuse is not None:  # identical weights, identical seed: identical outputs
            frame = reuse.copy()
        else:
            frame = evaluate_arithmetic(self.model(method, strength), self.parents.tokenizer, self.problems,
                                        self.sampling, seed=self.seed, progress=progress)
        frame["method"], frame["strength"] = method, strength
        self.examples.append(frame[(frame["sample"] == 0) & frame["problem"].isin(self._example_ids)].copy())
        self.frames[key] = frame.drop(columns=["text"], errors="ignore")
        return self.frames[key]

    def run(self, method: str, strengths: Sequence[float], progress: Progress | None = None) -> None:
        progress = progress or silent
        todo = [s for s in strengths if (method, round(float(s), 4)) not in self.frames]
        for i, s in enumerate(todo):
            self.evaluate(method, s, scaled(progress, i / len(todo), (i + 1) / len(todo)))
            progress(f"{method} λ={s:.2f} ({i + 1}/{len(todo)})", (i + 1) / len(todo))

    def table(self) -> pd.DataFrame:
        return pd.concat(self.frames.values(), ignore_index=True)

    def example_table(self) -> pd.DataFrame:
        frame = pd.concat(self.examples, ignore_index=True)
        prompts = {p.id: world.prompt(p) for p in self.problems}
        frame["prompt"] = frame["problem"].map(prompts)
        return frame[["method", "strength", "problem", "n_ops", "prompt", "text", "correct", "tokens", "thinking"]]


def thinking_share(sweeper: Sweeper, method: str) -> tuple[list[float], list[float]]:
    keys = sorted(s for m, s in sweeper.frames if m == method)
    return keys, [float(sweeper.frames[(method, s)]["thinking"].mean()) for s in keys]


def run_sweeps(cfg, parents: Parents, problems: Sequence[world.Problem], progress: Progress | None = None) -> Sweeper:
    """All sweeps of a config: linear (coarse + edges, then the transition window), SLERP, the rest."""
    progress = progress or silent
    sampling = Sampling(samples=cfg.samples, temperature=cfg.temperature, top_p=cfg.top_p, batch_size=cfg.batch_size)
    sweeper = Sweeper(parents, problems, sampling, seed=cfg.seed, density=cfg.density, merge_seed=cfg.merge_seed)
    linear_grid = grid(cfg.coarse_step, cfg.fine_step, cfg.fine_edge)
    n_window = len(window(0.4 - cfg.switch_window, 0.6 + cfg.switch_window, cfg.fine_step))  # a guess, for progress
    plan = {"linear": len(linear_grid) + n_window}
    if "slerp" in cfg.methods:
        plan["slerp"] = len(grid(cfg.slerp_step)) + n_window
    for method in cfg.methods:
        plan.setdefault(method, len(grid(cfg.other_step)))
    total, done = sum(plan.values()), 0

    def part(method: str, n: int) -> Progress:
        nonlocal done
        start = done / total
        done = min(done + n, total)
        return scaled(progress, start, done / total)

    sweeper.run("linear", linear_grid, part("linear", len(linear_grid)))
    fine = transition_window(*thinking_share(sweeper, "linear"), step=cfg.fine_step, pad=cfg.switch_window)
    sweeper.run("linear", fine, part("linear", n_window))
    if "slerp" in cfg.methods:
        sweeper.run("slerp", grid(cfg.slerp_step, extra=fine), part("slerp", plan["slerp"]))
    for method in cfg.methods:
        if method not in ("linear", "slerp"):
            sweeper.run(method, grid(cfg.other_step), part(method, plan[method]))
    progress("sweeps done", 1.0)
    return sweeper


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
) -> tuple[dict, pd.DataFrame]:
    """Merge the parents at one exact strength (in memory) and evaluate ``n_problems`` fresh problems
    (balanced 1-6 ops, the same for every call with this seed): the app's live button."""
    from workbench.merging.evaluate import summarize
    from workbench.merging.parents import TEST_STREAM

    progress = progress or silent
    progress(f"merging {method} at λ={strength:.3f}", 0.0)
    merged = merge_models(parents.direct, parents.thinking, parents.base, method=method, strength=strength,
                          density=density, seed=merge_seed)
    problems = world.make_problems(n_problems, seed * 100 + TEST_STREAM + 1)
    frame = evaluate_arithmetic(merged, parents.tokenizer, problems, Sampling(samples=samples), seed=seed,
                                progress=scaled(progress, 0.05, 1.0))
    prompts = {p.id: world.prompt(p) for p in problems}
    frame.insert(0, "prompt", frame["problem"].map(prompts))
    progress("done", 1.0)
    return summarize(frame), frame
