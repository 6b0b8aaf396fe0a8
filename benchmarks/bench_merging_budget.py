"""Merging: each claim's quantity as the children's fine-tuning budget grows (issue 26, item 1).

One setting changes, ``child_steps`` (the demo has 300), everything else the demo profile's settings,
seed 0. Each budget is one runner call and a normal run in the bench's store; with the job cache an
interrupted study resumes at the job it stopped at. Writes ``workbench/reference/merging-budget.json``
(``workbench.budget_curves``: rows, the stable budget and why, command, commit, date).

Environment: ``BENCH_MERGING_BUDGET_STEPS`` (default ``300,1200,3000``), ``BENCH_MERGING_BUDGET_SET``
(settings for every point, ``key=value`` joined by ``;``), ``BENCH_MERGING_BUDGET_STORE`` (default
``data/bench-merging-budget``), ``BENCH_MERGING_BUDGET_OUT``.
"""

from __future__ import annotations

from budget_study import run_method

TITLE = "Merging: the claims as the children's fine-tuning budget grows"


def run() -> list[dict]:
    return run_method("merging", "300,1200,3000", "")
