"""Method 1: does the joint model catch the isolated pipeline with budget, and where? (issue 10, item 1)

One thing changes at a time: the SFT budget (``sft_steps``) for two model sizes (``hidden x layers``),
everything else the demo profile's settings, seed 0. At every point the three variants the question
is about are built: the isolated pipeline (need classifier + separate recommender: no language model,
so its numbers do not move with the budget — it is the line to catch), clustered SFT and the full
framework (clustered SFT + curriculum GRPO at the demo's 60 steps).

Each point is one runner call (``methods.build_many``: its jobs — data, isolated pipeline, SFT, GRPO —
run side by side on as many workers as the runner has) and a normal run in the bench's own store,
published when it finishes: an interrupted bench keeps the points it finished and a rerun builds only
the missing ones. Points go cheapest first (SFT steps x hidden^2 x layers), so a short session still
gets the low-budget end of both curves.

Writes ``workbench/reference/needs-budget.json`` (rows, command, commit, date): the Needs & services
page and the needs notebook draw the curve from it.

Environment: ``BENCH_NEEDS_BUDGET_STEPS`` (default ``1000,3000,10000``), ``BENCH_NEEDS_BUDGET_SIZES``
(default ``96x2,128x4``; a size's points above ``BENCH_NEEDS_BUDGET_MAX_BIG`` steps, default 3000, are
skipped for sizes above 96x2 — 10k steps of 128x4 is ~1 h on 2 cores), ``BENCH_NEEDS_BUDGET_SEED``
(default 0), ``BENCH_NEEDS_BUDGET_STORE`` (default ``data/bench-needs-budget`` in the checkout),
``BENCH_NEEDS_BUDGET_PROFILE`` (default ``demo``; the test runs ``smoke``), ``BENCH_NEEDS_BUDGET_OUT``
(default ``workbench/reference/needs-budget.json``), ``BENCH_NEEDS_BUDGET_SET`` (extra settings for
every point, ``key=value`` joined by ``;`` — e.g. ``evidence=16`` for the evidence study, written to
``workbench/reference/needs-evidence.json`` with ``BENCH_NEEDS_BUDGET_OUT``).

The evidence study (issue 10 item 2: does the chain catch up when its prompt lists the user's
merchants with their counts?)::

    BENCH_NEEDS_BUDGET_SET="evidence=16" BENCH_NEEDS_BUDGET_SIZES=96x2 BENCH_NEEDS_BUDGET_STEPS=1000,3000 \
    BENCH_NEEDS_BUDGET_STORE=data/bench-needs-evidence BENCH_NEEDS_BUDGET_OUT=workbench/reference/needs-evidence.json \
    python benchmarks/run.py needs_budget
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

TITLE = "Living needs → services: the SFT budget curve (clustered SFT, full, isolated)"
HERE = Path(__file__).resolve().parent


def points() -> list[tuple[int, int, int]]:
    """(hidden, layers, sft_steps) of every point, in build order."""
    steps = [int(s) for s in os.environ.get("BENCH_NEEDS_BUDGET_STEPS", "1000,3000,10000").split(",")]
    sizes = [tuple(int(x) for x in s.split("x")) for s in os.environ.get("BENCH_NEEDS_BUDGET_SIZES", "96x2,128x4").split(",")]
    max_big = int(os.environ.get("BENCH_NEEDS_BUDGET_MAX_BIG", "3000"))
    chosen = [(h, n, s) for h, n in sizes for s in steps if (h, n) == sizes[0] or s <= max_big]
    return sorted(chosen, key=lambda p: p[2] * p[0] ** 2 * p[1])


def extra_settings() -> dict[str, str]:
    """``BENCH_NEEDS_BUDGET_SET`` as settings (values as on the command line's ``--set``)."""
    text = os.environ.get("BENCH_NEEDS_BUDGET_SET", "").strip()
    pairs = [part.split("=", 1) for part in text.split(";") if part.strip()]
    if any(len(p) != 2 for p in pairs):
        raise SystemExit(f"BENCH_NEEDS_BUDGET_SET={text!r}: write key=value pairs joined by ';'")
    return {k.strip(): v.strip() for k, v in pairs}


def config_of(hidden: int, layers: int, steps: int, seed: int, profile: str = "demo", extra: dict | None = None):
    from workbench import methods
    from workbench.needs.budget import VARIANTS

    return methods.make_config("needs", profile, {**(extra or {}), "hidden": hidden, "layers": layers, "sft_steps": steps,
                                                 "variants": VARIANTS, "seed": seed})


def run() -> list[dict]:
    from workbench import methods
    from workbench.needs.budget import REFERENCE, curve_rows, test_cases, verdict_rows
    from workbench.progress import tqdm_progress
    from workbench.store import ArtifactStore, versions

    seed = int(os.environ.get("BENCH_NEEDS_BUDGET_SEED", "0"))
    profile = os.environ.get("BENCH_NEEDS_BUDGET_PROFILE", "demo")
    out = Path(os.environ.get("BENCH_NEEDS_BUDGET_OUT", REFERENCE))
    store = ArtifactStore(os.environ.get("BENCH_NEEDS_BUDGET_STORE", HERE.parent / "data" / "bench-needs-budget"))
    extra = extra_settings()
    configs = [config_of(h, n, s, seed, profile, extra) for h, n, s in points()]
    start = time.perf_counter()
    runs = []
    for i, config in enumerate(configs, 1):
        with tqdm_progress(f"needs budget point {i}/{len(configs)}: {config.hidden}x{config.layers}, "
                           f"{config.sft_steps} SFT steps") as bar:
            runs += methods.build_many([config], store, bar)
    curve = [row for r in runs for row in curve_rows(r)]
    rows = curve + verdict_rows(curve)
    doc = {"rows": rows, "seed": seed, "profile": profile, "test cases": test_cases(runs[0]),
           "changed": f"sft_steps and hidden x layers only; everything else the {profile} profile's settings"
                      + "".join(f", {k}={v}" for k, v in extra.items()),
           "command": " ".join([*(f"BENCH_NEEDS_BUDGET_{k}={os.environ[f'BENCH_NEEDS_BUDGET_{k}']!r}"
                                  for k in ("SET", "SIZES", "STEPS") if os.environ.get(f"BENCH_NEEDS_BUDGET_{k}")),
                                "python benchmarks/run.py needs_budget"]), "commit": versions()["commit"],
           "created": time.strftime("%Y-%m-%d"), "wall_seconds": round(time.perf_counter() - start, 1)}
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return rows
