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
    found, weighted = [], dict.fromkeys(PHASES, 0.0)
    for name, timing in jobs.items():
        summary = json.loads((run.path / "logs" / f"{name.replace('/', '__')}.profile.json").read_text())
        seconds = plain.get(name, timing)["cpu_seconds"]
        top = summary["top_own"][0] if summary["top_own"] else {}
        share = round(100 * top.get("own_s", 0) / max(summary["profiled_seconds"], 1e-9))
        row = {"method": run.method, "job": name, "CPU s": round(seconds), "profiled CPU s": round(timing["cpu_seconds"])}
        row.update({SHORT[p]: round(100 * summary["phases"][p]["share"]) for p in PHASES})
        row["most own time"] = f"`{top['function']}` ({share}%)" if top else "–"
        found.append((seconds, timing["cpu_seconds"], row))
        for p in PHASES:  # the method's split: each job's shares weighted by its CPU seconds
            weighted[p] += seconds * summary["phases"][p]["share"]
    cpu, profiled = sum(f[0] for f in found), sum(f[1] for f in found)
    total = {"method": run.method, "job": "all jobs", "CPU s": round(cpu), "profiled CPU s": round(profiled),
             **{SHORT[p]: round(100 * weighted[p] / cpu) if cpu else 0 for p in PHASES}, "most own time": ""}
    return [row for *_, row in sorted(found, key=lambda f: -f[0])] + [total]


def run() -> list[dict]:
    from workbench import methods
    from workbench.progress import tqdm_progress
    from workbench.runner import Runner
    from workbench.store import ArtifactStore

    profile = os.environ.get("BENCH_DEMO_PROFILE_PROFILE", "demo")
    chosen = [m for m in os.environ.get("BENCH_DEMO_PROFILE_METHODS", "needs,glass,merging").split(",") if m]
    store = ArtifactStore(os.environ.get("BENCH_DEMO_PROFILE_STORE", HERE.parent / "data" / "bench-demo-profile"))
    baseline = os.environ.get("BENCH_DEMO_PROFILE_BASELINE")
    out = Path(os.environ.get("BENCH_DEMO_PROFILE_OUT", OUT))
    kept = json.loads(out.read_text()) if out.exists() else {}
    rows = [r for r in kept.get("rows", []) if r["method"] not in chosen]  # the other methods' rows stay as measured
    runs = {m: r for m, r in kept.get("runs", {}).items() if m not in chosen}
    runner = Runner.from_env(profile_jobs=True)
    for method in chosen:
        config = methods.make_config(method, profile)
        with tqdm_progress(f"{method} ({profile}), every job under cProfile") as bar:
            run_ = methods.build_many([config], store, bar, runner)[0]
        plain = ArtifactStore(baseline).find(method, config) if baseline else None
        rows += job_rows(run_, plain)
        runs[method] = {"commit": run_.manifest["versions"].get("commit"), "created": run_.manifest["created"][:10],
                        "build_seconds": run_.manifest.get("build_seconds"), "cpu_s": "plain build" if plain else "profiled build"}
    order = {m: i for i, m in enumerate(methods.METHODS)}
    rows.sort(key=lambda r: order.get(r["method"], len(order)))  # methods in registry order, rows as job_rows made them
    runs = dict(sorted(runs.items(), key=lambda item: order.get(item[0], len(order))))
    doc = {"title": "demo-profile", "profile": profile, "rows": rows, "runs": runs,
           "command": "python benchmarks/run.py demo_profile  (BENCH_DEMO_PROFILE_METHODS=needs etc. for one method)",
           "commit": ", ".join(f"{m} {r['commit']}" for m, r in runs.items()),
           "created": ", ".join(sorted({r["created"] for r in runs.values()})),
           "measured": ("CPU s from each job's jobs.json (" + "; ".join(f"{m}: {r['cpu_s']}" for m, r in runs.items())
                        + "); shares: cProfile's time of each job, each function's own time given to the phase of the "
                          "innermost phase root that called it (workbench.profiling)")}
    if kept.get("note"):
        doc["note"] = kept["note"]  # a note written by hand about these runs stays with them
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return rows
