"""Where the demo build's CPU goes: every job of a method's demo build run under ``cProfile``
(``Runner(profile_jobs=True)``, ``workbench.profiling``), one row per job with its CPU seconds and
their split into phases (training forward / backward / optimizer / the trainer's own loop,
evaluation, generation, data, imports, other).

Each method is one build in the bench's own store, published when it finishes (its profiles are in
the run's ``logs/``): a rerun reads what is built and builds only the missing methods, so methods can
be profiled one at a time (``BENCH_DEMO_PROFILE_METHODS=needs``) and their rows land in the same file.

The profiler adds its own CPU time (most where Python makes many small calls), so the profiled build's
CPU seconds overstate the job's. With ``BENCH_DEMO_PROFILE_BASELINE`` (a store holding a plain build
of the same settings) the ``CPU s`` column is that build's and ``profiled CPU s`` the profiled one's;
the phase split (shares of the profiled time) applies to either.

Writes ``docs/data/demo-profile.json`` (rows, command, commit, date; the performance page's table is
generated from it). Environment: ``BENCH_DEMO_PROFILE_METHODS`` (default ``needs,glass,merging``),
``BENCH_DEMO_PROFILE_STORE`` (default ``data/bench-demo-profile`` in the checkout),
``BENCH_DEMO_PROFILE_PROFILE`` (default ``demo``; the test runs ``smoke``), ``BENCH_DEMO_PROFILE_OUT``
(default ``docs/data/demo-profile.json``), ``BENCH_DEMO_PROFILE_BASELINE`` (optional, above).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

TITLE = "Demo build: each job's CPU seconds and where they go (cProfile)"
HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "docs" / "data" / "demo-profile.json"
SHORT = {"train_forward": "fwd %", "train_backward": "bwd %", "train_optimizer": "optim %", "train_loop": "trainer %",
         "evaluation": "eval %", "generation": "gen %", "data": "data %", "import": "import %", "other": "other %"}
"""Column names of the phases (``workbench.profiling.PHASES``)."""


def job_rows(run, baseline=None) -> list[dict]:
    """One row per job of ``run`` (built with profiled jobs), largest first, then the method's total.
    ``baseline``: a plain build of the same settings, whose CPU seconds fill ``CPU s``."""
    from workbench.profiling import PHASES

    jobs = run.read_json("jobs")
    plain = baseline.read_json("jobs") if baseline is not None else {}
    rows, cpu, profiled = [], 0.0, 0.0
    for name, timing in jobs.items():
        path = run.path / "logs" / f"{name.replace('/', '__')}.profile.json"
        summary = json.loads(path.read_text())
        top = summary["top_own"][0] if summary["top_own"] else {}
        row = {"method": run.method, "job": name, "CPU s": plain.get(name, timing)["cpu_seconds"],
               "profiled CPU s": timing["cpu_seconds"]}
        row.update({SHORT[p]: round(100 * summary["phases"][p]["share"], 1) for p in PHASES})
        row["most own time"] = f"{top.get('function', '-')} ({round(100 * top.get('own_s', 0) / max(summary['profiled_seconds'], 1e-9))}%)"
        rows.append(row)
        cpu += row["CPU s"]
        profiled += row["profiled CPU s"]
    rows.sort(key=lambda r: -r["CPU s"])
    total = {"method": run.method, "job": "all jobs", "CPU s": round(cpu, 1), "profiled CPU s": round(profiled, 1)}
    for p in PHASES:  # the method's split: each job's shares weighted by its CPU seconds
        total[SHORT[p]] = round(sum(r[SHORT[p]] * r["CPU s"] for r in rows) / max(cpu, 1e-9), 1)
    return rows + [{**total, "most own time": ""}]


def run() -> list[dict]:
    from workbench import methods
    from workbench.progress import tqdm_progress
    from workbench.runner import Runner
    from workbench.store import ArtifactStore, versions

    profile = os.environ.get("BENCH_DEMO_PROFILE_PROFILE", "demo")
    chosen = [m for m in os.environ.get("BENCH_DEMO_PROFILE_METHODS", "needs,glass,merging").split(",") if m]
    store = ArtifactStore(os.environ.get("BENCH_DEMO_PROFILE_STORE", HERE.parent / "data" / "bench-demo-profile"))
    baseline = os.environ.get("BENCH_DEMO_PROFILE_BASELINE")
    out = Path(os.environ.get("BENCH_DEMO_PROFILE_OUT", OUT))
    kept = json.loads(out.read_text())["rows"] if out.exists() else []
    rows = [r for r in kept if r["method"] not in chosen]  # the other methods' rows stay as measured
    runner = Runner.from_env(profile_jobs=True)
    start = time.perf_counter()
    for method in chosen:
        config = methods.make_config(method, profile)
        with tqdm_progress(f"{method} ({profile}), every job under cProfile") as bar:
            run_ = methods.build_many([config], store, bar, runner)[0]
        plain = ArtifactStore(baseline).find(method, config) if baseline else None
        rows += job_rows(run_, plain)
    order = {m: i for i, m in enumerate(methods.METHODS)}
    rows.sort(key=lambda r: order.get(r["method"], len(order)))  # methods in registry order, rows as job_rows made them
    doc = {"title": "demo-profile", "profile": profile, "rows": rows,
           "command": f"BENCH_DEMO_PROFILE_METHODS={','.join(chosen)} python benchmarks/run.py demo_profile",
           "commit": versions()["commit"], "created": time.strftime("%Y-%m-%d"),
           "measured": ("CPU s: " + ("a plain build's jobs.json" if baseline else "the profiled build's jobs.json")
                        + "; phase shares: cProfile's time of each job, each function's own time given to the phase "
                          "of the innermost phase root that called it (workbench.profiling)"),
           "wall_seconds": round(time.perf_counter() - start, 1)}
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return rows
