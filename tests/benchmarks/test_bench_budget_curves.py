"""The GLASS / merging budget benches end to end on the smoke profile: two budgets of a tiny merging,
each a runner call into the bench's own store, the study written after each budget with its stable-
budget verdict, and a rerun that builds nothing new (issue 26, item 1)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_merging_budget  # noqa: E402

from workbench import budget_curves  # noqa: E402

TINY = ("hidden=16;intermediate=32;layers=1;base_steps=6;n_eval=6;samples=1;methods=linear,slerp;coarse_step=0.5;"
        "fine_step=0.25;fine_edge=0.0;switch_window=0.0;slerp_step=0.5;other_step=0.5;n_boot=50")


def test_the_stable_budget_needs_a_larger_budget_that_confirms_it():
    row = lambda b, claim, e, r: {"budget": b, "claim": claim, "estimate": e, "low": e - .02, "high": e + .02,  # noqa: E731
                                   "reproduced": r}
    flips = [row(600, "x", .0, False), row(2400, "x", .05, True), row(6000, "x", .06, True), row(600, "y", .1, True),
             row(2400, "y", .1, True), row(6000, "y", .2, True)]
    verdict = budget_curves.stable_budget(flips)  # y still moves beyond 2,400's interval
    assert verdict["budget"] is None and "these claims still move: y;" in verdict["why"]
    assert verdict["why"].endswith("the verdicts alone are the same from 2,400 on")  # x flipped at 2,400, then held
    assert budget_curves.stable_budget(flips[:3])["budget"] == 2400
    assert budget_curves.stable_budget([row(600, "x", .0, False)])["budget"] is None


@pytest.mark.slow
def test_the_merging_budget_bench_writes_the_study_and_resumes(tmp_path, monkeypatch):
    out = tmp_path / "merging-budget.json"
    for key, value in {"STEPS": "3,6", "SET": TINY, "PROFILE": "smoke", "STORE": str(tmp_path / "store"),
                       "OUT": str(out)}.items():
        monkeypatch.setenv(f"BENCH_MERGING_BUDGET_{key}", value)
    monkeypatch.setenv("WORKBENCH_WORKERS", "1")
    rows = bench_merging_budget.run()
    doc = json.loads(out.read_text())
    assert doc["built"] == [3, 6] and doc["not built"] == [] and doc["rows"] == rows
    claims = {r["claim"] for r in rows}
    assert {"merging.tokens_rise", "merging.sharp_transition"} <= claims
    assert all(sum(r["budget"] == b for r in rows) == len(claims) for b in (3, 6))
    assert doc["stable"] == budget_curves.stable_budget(rows) and "BENCH_MERGING_BUDGET_STEPS='3,6'" in doc["command"]
    study = budget_curves.load("merging", out)
    assert list(study["curve"]["budget"].unique()) == [3, 6]

    again = bench_merging_budget.run()  # both runs are built: found, nothing rebuilt
    assert again == rows
