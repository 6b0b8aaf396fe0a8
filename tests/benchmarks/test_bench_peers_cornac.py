"""The cornac comparison (benchmarks/bench_peers_cornac.py) on a tiny world: same split on both sides, every
model scored, and the two harnesses agree on one set of rankings. No speed or quality bars."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cornac")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_peers_cornac as bench_peers  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny():
    config = bench_peers.world_config(n_topics=6, n_subtopics=2, styles=4, history_min=20, history_max=30, window=8,
                                      codebook=(6, 4, 4), beam=10, d_model=16, d_ff=32, batch_size=32)
    return bench_peers.synthetic(config, users=30, max_length=10), config


def test_cornac_sees_our_split(tiny):
    data, _ = tiny
    method = bench_peers.cornac_split(data)
    counts = bench_peers.check_same_split(data, method)
    assert counts == {"valid targets": 30, "test targets": 30, "training cases": len(data.split("train"))}


def test_split_check_catches_a_moved_target(tiny):
    data, _ = tiny
    method = bench_peers.cornac_split(data)
    cases = data.cases.copy()
    test = cases.index[cases["split"] == "test"][0]
    cases.loc[test, "target"] = (cases.loc[test, "target"] + 1) % data.n_items
    with pytest.raises(AssertionError, match="test targets differ"):
        bench_peers.check_same_split(replace(data, cases=cases), method)


def test_both_harnesses_give_the_same_numbers():
    ranked = np.array([[3, 1, 2, 0], [0, 1, 2, 3], [2, 3, 0, 1]])
    targets = np.array([1, 3, 2])
    ours, theirs = bench_peers.ours_metrics(ranked, targets), bench_peers.cornac_metrics(ranked, targets)
    assert ours.keys() == theirs.keys()
    assert ours["Recall@5"] == 1.0 and ours["NDCG@5"] == pytest.approx((1 / np.log2(3) + 1 / np.log2(5) + 1) / 3)
    for name in ours:
        assert ours[name] == pytest.approx(theirs[name], abs=1e-12)


def test_comparison_runs_end_to_end(tiny):
    data, config = tiny
    # ours: 7 steps x 32 cases = 1 epoch, so cornac fits each recipe once, for 1 epoch
    rows = bench_peers.compare(data, config, budget_s=0.0, label="tiny", progress=lambda *_: None,
                               shrink=bench_peers.TINY_CORNAC, min_steps=7)
    tables = {r["table"].split(" (")[0] for r in rows}
    assert {*(f"tiny: {b}" for b in bench_peers.BUDGETS), "tiny: ratios ours / cornac"} <= tables
    models = [(r["side"], r["model"]) for r in rows if r["table"].startswith("tiny: equal wall-clock")]
    assert models == [("ours", "TIGER"), ("ours", "SASRec"), ("cornac", "TIGER GRID"), ("cornac", "TIGER Paischer"),
                      ("cornac", "SASRec")]
    for r in rows:
        if "side" in r:
            assert all(0.0 <= r[m] <= 1.0 for m in bench_peers.METRICS) and r["Recall@10"] >= r["Recall@5"]
            assert r["train (s)"] > 0 and r["epochs"] > 0
    agreement = [r for r in rows if "metric agreement" in r["table"]]
    assert len(agreement) == 5  # our two models + cornac's three, each scored by both harnesses
    assert all(r["max |diff|"] < 1e-9 for r in agreement)


def test_equal_epochs_cap_is_labelled(tiny):
    data, config = tiny
    # ours: 14 steps x 32 cases = 2 epochs; cornac capped at 1 must say it was owed 2
    rows = bench_peers.compare(data, config, budget_s=0.0, label="tiny", progress=lambda *_: None,
                               shrink=bench_peers.TINY_CORNAC, min_steps=14, max_epochs=1)
    cornac = [r for r in rows if r["table"].startswith("tiny: equal epochs") and r["side"] == "cornac"]
    assert len(cornac) == 3 and all(r["epochs"] == "1 (capped; equal = 2)" for r in cornac)
    ratios = [r for r in rows if r["table"] == "tiny: ratios ours / cornac" and r["budget"].startswith("equal epochs")]
    assert all(r["budget"] == "equal epochs (cornac 1 of 2 epochs)" for r in ratios)


def test_models_can_be_compared_alone(tiny):
    data, config = tiny
    rows = bench_peers.compare(data, config, budget_s=0.0, label="tiny", progress=lambda *_: None,
                               shrink=bench_peers.TINY_CORNAC, min_steps=7, models=("SASRec",))
    assert {r["model"] for r in rows if "side" in r} == {"SASRec"}
    assert [r["pair"] for r in rows if "pair" in r] == ["SASRec vs cornac SASRec"] * 2


def test_short_times_keep_their_milliseconds():
    assert bench_peers.seconds(0.0432) == 0.043 and bench_peers.seconds(0.0004) == 0.0 and bench_peers.seconds(12.34) == 12.3


def test_settings_are_read_when_the_bench_runs_not_at_import(monkeypatch):
    assert bench_peers.Settings.from_env() == bench_peers.Settings()  # conftest sets none of them
    monkeypatch.setenv("BENCH_PEERS_BUDGET_S", "5")
    monkeypatch.setenv("BENCH_PEERS_MODELS", "SASRec")
    monkeypatch.setenv("BENCH_PEERS_PARTS", "synthetic")
    settings = bench_peers.Settings.from_env()
    assert (settings.budget_s, settings.models, settings.parts) == (5.0, ("SASRec",), ("synthetic",))
    monkeypatch.setenv("BENCH_PEERS_MAX_EPOCHS", "two")
    with pytest.raises(SystemExit, match="BENCH_PEERS_MAX_EPOCHS='two' is not a whole number"):
        bench_peers.Settings.from_env()


def test_cornac_recipes_are_named_dataclasses():
    recipes = bench_peers.cornac_recipes(n_train=100, window=8, codebook=4, shrink=bench_peers.TINY_CORNAC)
    assert [(r.name, r.model) for r in recipes] == [("TIGER GRID", "TIGER"), ("TIGER Paischer", "TIGER"),
                                                    ("SASRec", "SASRec")]
    assert all(r.label.endswith("(shrunk for the test)") for r in recipes)
    grid = recipes[0].make(3)
    assert grid.n_epochs == 3 and grid.d_model == 16  # the recipe, with the test's shrink on top
