"""A minimal method used to test the shared machinery (runner, store, claims, CLI, app) on its own.

It follows the pipeline contract of workbench/methods.py: TITLE, Config, CLAIMS, DATASETS, plan(),
write(). One job per seed scores a model and a baseline on the same cases; ``write`` decides the
claim with the one rule (``claims.compare``).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from workbench.claims import ClaimSpec, compare, row
from workbench.config import MethodConfig
from workbench.errors import WorkbenchError
from workbench.runner import Job

TITLE = "Toy"
DATASETS = {"numbers": "a text file of numbers, one per line"}
CLAIMS = [ClaimSpec("toy.better", "toy", "The model beats the baseline.", "accuracy model - baseline")]


@dataclass(frozen=True)
class Config(MethodConfig):
    n: int = 200
    """Number of cases."""
    skill: float = 0.8
    """Probability that the model is right."""
    fail: bool = False
    """Make the seed job of the last seed raise (to test failures, cancellation, nothing half-written)."""
    seeds: tuple[int, ...] = ()
    """Extra seeds."""
    pause: float = 0.0
    """Seconds each seed job waits before it ends (so a test can kill a build between two jobs)."""

    METHOD: ClassVar[str] = "toy"
    PRESETS: ClassVar[dict] = {"smoke": {"n": 50}, "full": {"n": 2000, "seeds": (1, 2)}}
    DATASET_PRESETS: ClassVar[dict] = {"numbers": {"n": 300, "skill": 0.7}}


def plan(config: Config, seeds: list[int]) -> list[Job]:
    spec = config.to_dict()
    return [Job(f"seed{s}/score", "toy_pipeline:score", {"config": spec, "seed": s, "fail": config.fail and s == seeds[-1]})
            for s in seeds]


def score(ctx) -> dict:
    """One seed: per-case right/wrong of the model and of a coin-flip baseline (a parquet file)."""
    n, skill = ctx.spec["config"]["n"], ctx.spec["config"]["skill"]
    rng = np.random.default_rng(ctx.spec["seed"])
    seconds = float(os.environ.get("TOY_JOB_SECONDS", "0"))  # a slow build to watch (the app's build tests)
    for tick in range(int(seconds * 10)):
        ctx.progress(f"waiting {tick / 10:.1f}/{seconds:g} s", 0.5 * tick / (seconds * 10))
        time.sleep(0.1)
    frame = pd.DataFrame({"model": (rng.random(n) < skill).astype(float), "baseline": (rng.random(n) < 0.5).astype(float)})
    ctx.progress("scored", 0.5)
    print(f"seed {ctx.spec['seed']}: {n} cases")  # goes to the job's log
    if ctx.spec["fail"]:
        raise WorkbenchError("toy build failed on purpose")
    frame.to_parquet(ctx.folder / "cases.parquet", index=False)
    time.sleep(ctx.spec["config"].get("pause", 0.0))
    return {"model": float(frame["model"].mean()), "baseline": float(frame["baseline"].mean())}


def write(run, config: Config, seeds: list[int], results: dict, folder) -> None:
    frames = [pd.read_parquet(folder / f"seed{s}" / "score" / "cases.parquet") for s in seeds]
    run.write_json("metrics", {"model": float(np.mean([results[f"seed{s}/score"]["model"] for s in seeds])),
                               "baseline": float(np.mean([results[f"seed{s}/score"]["baseline"] for s in seeds])),
                               "per_seed": json.loads(json.dumps([results[f"seed{s}/score"] for s in seeds]))})
    run.write_parquet("cases", pd.concat([f.assign(seed=s) for s, f in zip(seeds, frames)], ignore_index=True))
    cmp = compare([f["model"].to_numpy() for f in frames], [f["baseline"].to_numpy() for f in frames])
    claim = row(CLAIMS[0], cmp, seeds=cmp.seeds, dataset=config.dataset, profile=config.profile)
    run.write_json("claims", [claim.to_dict()])


def cli_env(folder) -> dict:
    """Environment variables under which ``python -m workbench.cli`` knows the toy method: a
    ``sitecustomize`` shim in ``folder`` registers it (the CLI runs in a subprocess, as a user runs it)."""
    folder.mkdir(parents=True, exist_ok=True)
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    (folder / "sitecustomize.py").write_text(f"import sys; sys.path.insert(0, {tests_dir!r})\n"
                                             "from workbench import methods\nmethods.METHODS['toy'] = 'toy_pipeline'\n")
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(folder), tests_dir, os.environ.get("PYTHONPATH", "")) if p)}


def run_files(run) -> dict[str, bytes]:
    """A run's files, less those that record how and when it was built (manifest, job timings, logs):
    what two builds of the same settings must have byte for byte."""
    return {str(p.relative_to(run.path)): p.read_bytes() for p in sorted(run.path.rglob("*"))
            if p.is_file() and p.name not in ("manifest.json", "jobs.json") and "logs" not in p.relative_to(run.path).parts}


def build(config: Config, store, progress=None, runner=None):
    """Shorthand for the tests: the template's build of one toy config (registered for the call)."""
    from unittest import mock

    from workbench import methods

    with mock.patch.dict(methods.METHODS, {"toy": "toy_pipeline"}):
        return methods.build_many([config], store, progress, runner)[0]


_BOOT = ("import sys; sys.path.insert(0, {tests!r}); from workbench import methods; "
         "methods.METHODS['toy'] = 'toy_pipeline'; from workbench import background; sys.exit(background.main(sys.argv[1:]))")


def background_command(root, profile, methods, lock_fd) -> list[str]:
    """``workbench.background.command`` for a build process that knows the toy method too (the tests'
    registry is not the child's): the same ``background.main``, after registering ``toy``."""
    import sys
    from pathlib import Path

    from workbench import background

    boot = _BOOT.format(tests=str(Path(__file__).resolve().parent))
    return [sys.executable, "-c", boot, *background.arguments(root, profile, methods, lock_fd)]
