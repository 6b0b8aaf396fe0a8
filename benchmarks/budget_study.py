"""What the two budget benchmarks share: reading ``BENCH_<METHOD>_BUDGET_*`` when run (``STEPS``,
``SET``, ``STORE``, ``OUT``, ``PROFILE`` — default ``demo``; the test runs ``smoke`` — and, for a
study cut short on purpose, ``PLANNED``: the budgets it was meant to have, and ``CUT``: why the
others were not built), and the study (``workbench.budget_curves.run_study``)."""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_method(method: str, steps: str, settings: str) -> list[dict]:
    from workbench.budget_curves import path_of, run_study
    from workbench.progress import tqdm_progress
    from workbench.runner import Runner
    from workbench.store import ArtifactStore

    prefix = f"BENCH_{method.upper()}_BUDGET_"
    env = {k[len(prefix):]: v for k, v in os.environ.items() if k.startswith(prefix)}
    budgets = [int(s) for s in env.get("STEPS", steps).split(",")]
    text = env.get("SET", settings)
    overrides = [part.strip() for part in text.split(";") if part.strip()]
    if any("=" not in o for o in overrides):
        raise SystemExit(f"{prefix}SET={text!r}: write key=value pairs joined by ';'")
    store = ArtifactStore(env.get("STORE", HERE.parent / "data" / f"bench-{method}-budget"))
    out = Path(env.get("OUT", path_of(method)))
    command = " ".join([*(f"{prefix}{k}={v!r}" for k, v in sorted(env.items()) if k in ("STEPS", "SET")),
                        f"python benchmarks/run.py {method}_budget"])
    planned = [int(s) for s in env["PLANNED"].split(",")] if env.get("PLANNED") else None
    doc = run_study(method, budgets, overrides, store, out, Runner.from_env(), command, tqdm_progress,
                    profile=env.get("PROFILE", "demo"), planned=planned, cut=env.get("CUT", ""))
    return doc["rows"]
