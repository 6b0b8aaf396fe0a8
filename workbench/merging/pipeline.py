"""The thinking-spectrum pipeline: world -> base -> parents -> sweeps -> analysis -> claims, as jobs.

The job graph of one seed ``s`` (``plan``; names under ``seed{s}/``; functions in ``workbench.merging.jobs``)::

    parents ─► linear-coarse-1, -2 ─► linear-fine, slerp, task_arithmetic ─► analysis
            └► ties, dare_linear, dare_ties, magnitude_prune ───────────────┘

The coarse linear chunks' thinking shares locate the transition window that ``linear-fine`` and
``slerp`` add to their grids, and their rows at λ = 0 and 1 (the parents) serve SLERP and task
arithmetic. Seeds are independent jobs; ``write`` combines them (every claim by the one rule of
``workbench.claims``, see ``claims``).

Artifacts of a run (the app page and the notebook read these):

- ``base/``, ``direct/``, ``thinking/``   the three models of the first seed (save_pretrained folders, one tokenizer)
- ``losses.json``                        training curves of the three models (first seed)
- ``outputs.parquet``                    one row per (seed, method, strength, problem, sample)
- ``summary.parquet``                    per (method, strength): accuracy, tokens, intervals, Δ vs parents (first seed)
- ``difficulty.parquet``                 per (method, strength, n_ops) (first seed)
- ``pareto.parquet``                     point-estimate Pareto improvements over each parent (+ significance; first seed)
- ``examples.parquet``                   sample generations (first seed) per (method, strength)
- ``weights.parquet``                    per-tensor weight differences of the parents (first seed)
- ``metrics.json``                       per seed: parents, transition, token trend, SLERP gap, grid sizes
- ``claims.json``                        the claims rows (every seed)
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from workbench.runner import Job, gpu_share
from workbench.merging import claims
from workbench.merging.config import Config
from workbench.merging.jobs import ANALYSIS, PARENTS
from workbench.merging.parents import MODELS, load_parents_from
from workbench.merging.sweep import chunks, coarse_names, window

TITLE = "Thinking spectrum"
CLAIMS = claims.CLAIMS
DATASETS: dict[str, str] = {}
"""Real checkpoints and GSM8K-style benchmarks go through ``workbench merge`` / ``workbench eval``."""
PARENT_ROWS = claims.PARENT_ROWS
STEP_COST = 0.15
"""≈ single-thread CPU seconds of one training step of a parent (demo size)."""
EVAL_COST = 0.0015
"""≈ single-thread CPU seconds of one problem x sample evaluated (the demo's 73 x 2,004 evaluations
took about as long as its 1,200 training steps)."""
BOOT_COST = 1e-7
"""≈ CPU seconds of one (summary row x problem x bootstrap resample) of a seed's analysis."""


def _window_guess(cfg: Config) -> int:
    """Points of a typical transition window (its true size is known only after the coarse chunks)."""
    return len(window(0.4 - cfg.switch_window, 0.6 + cfg.switch_window, cfg.fine_step))


def plan(config: Config, seeds: list[int]) -> list[Job]:
    """Per seed: the parents, one job per sweep chunk, the analysis (see the module docstring)."""
    resources = {"threads": 1, "gpu_share": gpu_share(config.device)}
    jobs = []
    for seed in seeds:
        cfg = dataclasses.replace(config, seed=seed, seeds=())
        spec = {"config": cfg.to_dict()}
        here = f"seed{seed}"
        parents = f"{here}/{PARENTS}"
        jobs.append(Job(parents, "workbench.merging.jobs:train", spec,
                        cost=STEP_COST * (cfg.base_steps + 2 * cfg.child_steps), **resources))
        coarse = tuple(f"{here}/{name}" for name in coarse_names(cfg))
        per_point = cfg.n_eval * cfg.samples * EVAL_COST
        sweep_jobs = []
        for chunk in chunks(cfg):
            points = len(chunk.strengths) + (_window_guess(cfg) if chunk.window else 0)
            deps = (parents, *(coarse if chunk.needs_coarse else ()))
            jobs.append(Job(f"{here}/{chunk.name}", "workbench.merging.jobs:sweep", {**spec, "chunk": chunk.name}, deps,
                            cost=round(max(points, 1) * per_point, 2), **resources))
            sweep_jobs.append(jobs[-1].name)
        n_rows = sum(len(c.strengths) for c in chunks(cfg)) + 2 * _window_guess(cfg)
        jobs.append(Job(f"{here}/{ANALYSIS}", "workbench.merging.jobs:analyse", spec, (parents, *sweep_jobs),
                        cost=round(n_rows * cfg.n_eval * cfg.n_boot * BOOT_COST, 2), **resources))
    return jobs


def write(run, config: Config, seeds: list[int], results: dict[str, dict], folder: Path) -> None:
    """The run's artifacts from the jobs' folders (see the module docstring)."""
    first = folder / f"seed{seeds[0]}"
    parents = load_parents_from(first / PARENTS)
    for name in MODELS:
        run.save_model(name, getattr(parents, name), parents.tokenizer)
    run.write_json("losses", json.loads((first / PARENTS / "losses.json").read_text()))
    run.write_parquet("outputs", pd.concat([pd.read_parquet(folder / f"seed{s}" / ANALYSIS / "outputs.parquet")
                                            for s in seeds], ignore_index=True))
    for table in ("summary", "difficulty", "pareto", "examples", "weights"):
        run.write_parquet(table, pd.read_parquet(first / ANALYSIS / f"{table}.parquet"))
    analyses = [results[f"seed{s}/{ANALYSIS}"] for s in seeds]
    run.write_json("metrics", {
        "per_seed": [a["metrics"] for a in analyses], "n_problems": analyses[0]["n_problems"],
        "samples": config.samples, "temperature": config.temperature, "top_p": config.top_p,
        "parent_rows": PARENT_ROWS,
    })
    summary = pd.read_parquet(first / ANALYSIS / "summary.parquet")
    half = float(((summary["accuracy_high"] - summary["accuracy_low"]) / 2).median())
    size = (f"{analyses[0]['n_problems']} problems x {config.samples} samples per model; accuracy intervals "
            f"±{half:.3f} (median half-width)")
    evidence = [claims.Evidence.load(folder / f"seed{s}" / ANALYSIS) for s in seeds]
    run.write_json("claims", claims.claim_rows(evidence, config.n_boot, size, config.dataset, config.profile))
