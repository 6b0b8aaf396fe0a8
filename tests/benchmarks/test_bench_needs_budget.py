"""The budget bench end to end on the smoke profile: two budgets of one tiny size, each a runner call
into the bench's own store, rows and the reference file written, a rerun builds nothing new."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_needs_budget  # noqa: E402

pytestmark = pytest.mark.slow


def test_points_follow_the_environment(monkeypatch):
    monkeypatch.setenv("BENCH_NEEDS_BUDGET_STEPS", "1000,3000,10000")
    monkeypatch.setenv("BENCH_NEEDS_BUDGET_SIZES", "96x2,128x4")
    monkeypatch.setenv("BENCH_NEEDS_BUDGET_MAX_BIG", "3000")
    # cheapest first: steps x hidden^2 x layers
    assert bench_needs_budget.points() == [(96, 2, 1000), (96, 2, 3000), (128, 4, 1000), (96, 2, 10000), (128, 4, 3000)]


def test_extra_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("BENCH_NEEDS_BUDGET_SET", "evidence=16; need_classifier=logreg")
    assert bench_needs_budget.extra_settings() == {"evidence": "16", "need_classifier": "logreg"}
    assert bench_needs_budget.config_of(96, 2, 1000, 0, extra=bench_needs_budget.extra_settings()).evidence == 16
    monkeypatch.setenv("BENCH_NEEDS_BUDGET_SET", "evidence")
    with pytest.raises(SystemExit, match="key=value"):
        bench_needs_budget.extra_settings()


def test_bench_builds_each_point_once_and_writes_the_study(tmp_path, monkeypatch):
    out = tmp_path / "needs-budget.json"
    for key, value in {"STEPS": "6,12", "SIZES": "32x1", "PROFILE": "smoke", "STORE": str(tmp_path / "store"),
                       "OUT": str(out), "SET": "evidence=4"}.items():
        monkeypatch.setenv(f"BENCH_NEEDS_BUDGET_{key}", value)
    rows = bench_needs_budget.run()
    curve = [r for r in rows if r["table"] == "budget curve"]
    assert [(r["sft_steps"], r["variant"]) for r in curve] == [(s, v) for s in (6, 12) for v in ("isolated", "clustered_sft", "full")]
    assert all(0 <= r["HR@1"] <= r["HR@3"] <= 1 and r["evidence"] == 4 for r in curve)
    isolated = {r["HR@1"] for r in curve if r["variant"] == "isolated"}
    assert len(isolated) == 1  # no language model in it: the SFT budget cannot move it
    doc = json.loads(out.read_text())
    assert doc["rows"] == json.loads(json.dumps(rows)) and doc["profile"] == "smoke"
    assert doc["changed"].endswith(", evidence=4") and doc["command"].startswith("BENCH_NEEDS_BUDGET_SET='evidence=4'")
    runs = sorted((tmp_path / "store" / "needs").iterdir())
    assert len(runs) == 2
    again = bench_needs_budget.run()  # both points found in the store
    assert again == rows and sorted((tmp_path / "store" / "needs").iterdir()) == runs
