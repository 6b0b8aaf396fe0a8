"""The mergekit comparison (benchmarks/bench_peers_mergekit.py): its method mapping comes from the
merge registry, every configuration it writes is one mergekit accepts, and a tiny run times both
sides. No speed bars."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("mergekit")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_peers_mergekit as bench  # noqa: E402
from workbench.merging.merge_methods import REGISTRY, MergeMethod  # noqa: E402

PATHS = {"a": Path("/models/a"), "b": Path("/models/b"), "base": Path("/models/base")}


def test_every_registered_method_is_compared_with_what_mergekit_calls_it():
    recipes = {r.ours: r for r in bench.merge_recipes()}
    assert list(recipes) == list(REGISTRY)
    # the mapping the bench wrote by hand before it was derived (and checked weight by weight in
    # tests/merging/test_merging_vs_mergekit.py)
    assert {name: (r.mergekit, r.parameters, r.merge_parameters) for name, r in recipes.items()} == {
        "linear": ("linear", {}, {}), "slerp": ("slerp", {}, {}), "task_arithmetic": ("task_arithmetic", {}, {}),
        "ties": ("ties", {"density": 0.5}, {}), "dare_linear": ("dare_linear", {"density": 0.5}, {}),
        "dare_ties": ("dare_ties", {"density": 0.5}, {"normalize": True}),
        "magnitude_prune": ("breadcrumbs", {"density": 0.5, "gamma": 0.0}, {}),
        # mergekit 0.1.5 has no low-rank and no activation-informed merge
        "low_rank": (None, {"density": 0.5}, {}), "low_rank_ties": (None, {"density": 0.5}, {}),
        "activation_informed": (None, {}, {}),
    }
    assert all(r.needs_base == REGISTRY[name].needs_base for name, r in recipes.items())


def test_a_new_registry_method_shows_up_with_or_without_a_mergekit_twin(monkeypatch):
    linear = REGISTRY["linear"]
    monkeypatch.setitem(REGISTRY, "model_stock", MergeMethod("model_stock", linear.fn, True, False, False, True, "x"))
    monkeypatch.setitem(REGISTRY, "low_rank", MergeMethod("low_rank", linear.fn, True, True, False, False, "x"))
    recipes = {r.ours: r for r in bench.merge_recipes()}
    assert recipes["model_stock"].mergekit == "model_stock"  # mergekit has one of that name
    assert recipes["low_rank"].mergekit is None and recipes["low_rank"].parameters == {"density": 0.5}


@pytest.mark.parametrize("recipe", [r for r in bench.merge_recipes() if r.mergekit], ids=lambda r: r.ours)
def test_every_configuration_is_one_mergekit_accepts(recipe):
    from mergekit.config import MergeConfiguration

    config = bench.mergekit_config(recipe, PATHS, 0.3)
    parsed = MergeConfiguration.model_validate(config)
    assert parsed.merge_method == recipe.mergekit
    assert (config.get("base_model") is not None) == (recipe.needs_base or recipe.mergekit == "slerp")


def test_settings_are_read_when_the_bench_runs_not_at_import(monkeypatch):
    assert bench.Settings.from_env() == bench.Settings()
    monkeypatch.setenv("BENCH_PEERS_MERGE_LAYERS", "2")
    monkeypatch.setenv("BENCH_PEERS_MERGE_ROUNDS", "1")
    assert bench.Settings.from_env() == bench.Settings(layers=2, rounds=1)
    monkeypatch.setenv("BENCH_PEERS_MERGE_ROUNDS", "many")
    with pytest.raises(SystemExit, match="BENCH_PEERS_MERGE_ROUNDS='many' is not a whole number"):
        bench.Settings.from_env()


def test_a_tiny_run_times_both_sides_and_says_what_mergekit_lacks(monkeypatch):
    recipes = [r for r in bench.merge_recipes() if r.ours in ("linear", "magnitude_prune")]
    recipes.append(bench.MergeRecipe("nothing_like_it", None, False))
    monkeypatch.setitem(REGISTRY, "nothing_like_it", REGISTRY["linear"])  # ours runs it as linear
    monkeypatch.setattr(bench, "merge_recipes", lambda: recipes)
    rows = bench.merge_rows(layers=1, rounds=1, progress=lambda *_: None, hidden=32, heads=2, intermediate=64, vocab=64)
    by_method = {r["method"]: r for r in rows}
    assert list(by_method) == ["linear", "magnitude_prune", "nothing_like_it"]
    assert by_method["magnitude_prune"]["mergekit as"] == "breadcrumbs"
    for name in ("linear", "magnitude_prune"):
        assert by_method[name]["ours (s)"] > 0 and by_method[name]["mergekit run_merge (s)"] > 0
    assert by_method["nothing_like_it"]["mergekit run_merge (s)"] is None
    assert by_method["nothing_like_it"]["mergekit as"] == "(no mergekit counterpart)"
