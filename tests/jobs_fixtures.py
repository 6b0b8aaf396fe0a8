"""Job functions for tests/test_jobs.py (importable by spawned workers and Ray: no pickled closures)."""

from __future__ import annotations

import time

from workbench.errors import WorkbenchError


def write_number(ctx) -> dict:
    """Writes its spec's number to a file; reports progress twice; prints to its log."""
    ctx.progress("half way", 0.5)
    (ctx.folder / "number.txt").write_text(str(ctx.spec["x"]))
    print(f"wrote {ctx.spec['x']}")
    return {"x": ctx.spec["x"]}


def add_deps(ctx) -> dict:
    """Reads each dependency's file and its returned dict; returns the sum of both."""
    from_files = sum(int((ctx.dep_folder(d) / "number.txt").read_text()) for d in ctx.job.deps)
    from_results = sum(r["x"] for r in ctx.results.values())
    return {"x": from_files + ctx.spec.get("extra", 0), "check": from_results}


def fail(ctx) -> dict:
    print("about to fail")
    raise WorkbenchError("this job fails on purpose")


def slow_marker(ctx) -> dict:
    """Sleeps, then leaves a marker — a cancelled job never leaves it."""
    time.sleep(ctx.spec.get("seconds", 20))
    (ctx.folder / "finished.txt").write_text("yes")
    return {}


def threads_seen(ctx) -> dict:
    import torch

    return {"threads": torch.get_num_threads()}
