"""GLASS: each claim's quantity as the SID models' training budget grows (issue 26, item 1).

One setting changes, ``steps`` (optimiser steps per SID model; the demo has 600), everything else the
demo profile's settings, seed 0 — except ``systems``: the two ablations no claim reads (``fixed_gate``,
``neighbours``) are left out to save a fifth of the cost. Each budget is one runner call and a normal
run in the bench's store; with the job cache an interrupted study resumes at the job it stopped at.
Writes ``workbench/reference/glass-budget.json`` (``workbench.budget_curves``: rows, the stable budget
and why, command, commit, date).

Environment: ``BENCH_GLASS_BUDGET_STEPS`` (default ``600,2400,6000``), ``BENCH_GLASS_BUDGET_SET``
(settings for every point, ``key=value`` joined by ``;``; default the systems above),
``BENCH_GLASS_BUDGET_STORE`` (default ``data/bench-glass-budget``), ``BENCH_GLASS_BUDGET_OUT``.
"""

from __future__ import annotations

from budget_study import run_method

TITLE = "GLASS: the claims as the SID models' training budget grows"
SYSTEMS = "popularity,sasrec,tiger,tier_only,search_only,glass,resized,noise"


def run() -> list[dict]:
    return run_method("glass", "600,2400,6000", f"systems={SYSTEMS}")
