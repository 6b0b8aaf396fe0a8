"""The thinking-spectrum pipeline: world -> base -> parents -> sweeps -> analysis -> claims.

Artifacts of a run (the app page and the notebook read these):

- ``base/``, ``direct/``, ``thinking/``   the three models (save_pretrained folders, one tokenizer)
- ``losses.json``                        training curves of the three models
- ``outputs.parquet``                    one row per (seed, method, strength, problem, sample)
- ``summary.parquet``                    per (method, strength): accuracy, tokens, intervals, Δ vs parents
- ``difficulty.parquet``                 per (method, strength, n_ops)
- ``pareto.parquet``                     point-estimate Pareto improvements over each parent (+ significance)
- ``examples.parquet``                   sample generations (first seed) per (method, strength)
- ``weights.parquet``                    per-tensor weight differences of the parents
- ``metrics.json``                       parents, transition, token trend, SLERP gap, grid sizes
- ``claims.json``                        the claims rows
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from workbench.claims import Claim
from workbench.merging import analysis, findings
from workbench.merging.config import METHOD, Config
from workbench.merging.parents import eval_problems, train_parents
from workbench.merging.sweep import run_sweeps
from workbench.progress import Progress, scaled, silent
from workbench.runtime import StepTimer, seed_everything
from workbench.store import ArtifactStore, Run

TITLE = "Thinking spectrum"
CLAIMS = findings.CLAIMS
DATASETS: dict[str, str] = {}
"""Real checkpoints and GSM8K-style benchmarks go through ``workbench merge`` / ``workbench eval``."""
PARENT_ROWS = {"direct": ("linear", 1.0), "thinking": ("linear", 0.0)}


def study_one_seed(cfg: Config, timer: StepTimer, progress: Progress) -> dict:
    """Train the parents and run every sweep for one seed; returns the tables and the findings."""
    seed_everything(cfg.seed)
    with timer.step(f"parents (seed {cfg.seed})"):
        parents, losses = train_parents(cfg, scaled(progress, 0.0, 0.55))
    problems = eval_problems(cfg)
    with timer.step(f"sweeps (seed {cfg.seed})"):
        sweeper = run_sweeps(cfg, parents, problems, scaled(progress, 0.55, 0.97))
    with timer.step(f"analysis (seed {cfg.seed})"):
        progress("analysing the sweeps", 0.97)
        frame = sweeper.table()
        summary = analysis.summarize_sweep(frame, PARENT_ROWS, n_boot=cfg.n_boot, seed=cfg.seed)
        pareto = analysis.pareto_improvements(summary, PARENT_ROWS)
        trans = analysis.transition(frame, n_boot=min(cfg.n_boot, 500), seed=cfg.seed)
        trend = analysis.token_trend(frame, n_boot=min(cfg.n_boot, 500), seed=cfg.seed)
        gap = analysis.method_gap(frame, "slerp", "linear", n_boot=cfg.n_boot, seed=cfg.seed)
        weights = analysis.weight_differences(parents.direct, parents.thinking, parents.base)
        rel_l2 = analysis.global_difference(parents.direct, parents.thinking)
        parent_tokens = {name: float(summary.set_index(["method", "strength"]).loc[row, "tokens"])
                         for name, row in PARENT_ROWS.items()}
        found = {
            "merging.tokens_rise": findings.tokens_rise_finding(trend),
            "merging.sharp_transition": findings.transition_finding(trans),
            "merging.pareto": findings.pareto_finding(pareto, parent_tokens, summary, PARENT_ROWS),
            "merging.slerp_linear": findings.slerp_finding(gap, rel_l2),
            "merging.parents": findings.parents_finding(frame, cfg.n_boot, cfg.seed),
        }
    return {
        "parents": parents, "losses": losses, "frame": frame.assign(seed=cfg.seed), "summary": summary,
        "difficulty": analysis.per_difficulty(frame), "pareto": pareto, "examples": sweeper.example_table(),
        "weights": weights, "findings": found, "n_problems": len(problems),
        "metrics": {"seed": cfg.seed, "transition": trans, "token_trend": trend, "slerp_vs_linear": gap,
                    "parents_rel_l2": rel_l2, "parent_tokens": parent_tokens,
                    "grid_sizes": summary.groupby("method").size().to_dict()},
    }


def build(config: Config, store: ArtifactStore, progress: Progress | None = None) -> Run:
    """Build (or find) the run of ``config``."""
    if existing := store.find(METHOD, config):
        return existing
    progress = progress or silent
    timer = StepTimer()
    seeds = [config.seed, *[s for s in config.seeds if s != config.seed]]
    with store.create(METHOD, config) as run:
        studies = []
        for i, seed in enumerate(seeds):
            cfg = dataclasses.replace(config, seed=seed)
            studies.append(study_one_seed(cfg, timer, scaled(progress, i / len(seeds), (i + 1) / len(seeds))))
        with timer.step("write"):
            main = studies[0]
            parents = main["parents"]
            for name in ("base", "direct", "thinking"):
                run.save_model(name, getattr(parents, name), parents.tokenizer)
            run.write_json("losses", main["losses"])
            run.write_parquet("outputs", pd.concat([s["frame"] for s in studies], ignore_index=True))
            for table in ("summary", "difficulty", "pareto", "examples", "weights"):
                run.write_parquet(table, main[table])
            run.write_json("metrics", {
                "per_seed": [s["metrics"] for s in studies], "n_problems": main["n_problems"],
                "samples": config.samples, "temperature": config.temperature, "top_p": config.top_p,
                "parent_rows": PARENT_ROWS,
            })
            half = float(((main["summary"]["accuracy_high"] - main["summary"]["accuracy_low"]) / 2).median())
            size = (f"{main['n_problems']} problems x {config.samples} samples per model; accuracy intervals "
                    f"±{half:.3f} (median half-width)")
            rows = []
            for spec in CLAIMS:
                per_seed = [s["findings"][spec.id] for s in studies]
                f = findings.combine(per_seed, findings.RULES[spec.id])
                rows.append(Claim.from_spec(
                    spec, value=f.value, reference=f.reference, interval=f.interval, reproduced=f.reproduced,
                    seeds=len(studies), dataset=config.dataset, profile=config.profile,
                    note=f"{f.note} ({size})",
                ).to_dict())
            run.write_json("claims", rows)
        progress("done", 1.0)
        return run.finish(timer.as_dict(), seeds=seeds)
