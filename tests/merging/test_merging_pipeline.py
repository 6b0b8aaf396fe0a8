"""The pipeline end to end: artifacts and claims of the smoke run, determinism, the parents' styles."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import torch

from workbench.claims import validate_rows
from workbench.lm import SFTSettings, TinyLMConfig, make_model, train_sft
from workbench.merging import pipeline, world
from workbench.merging.config import Config
from workbench.merging.parents import base_pairs, build_tokenizer, direct_pairs, thinking_pairs
from workbench.store import ArtifactStore

ARTIFACTS = ["base", "direct", "thinking", "losses.json", "outputs.parquet", "summary.parquet", "difficulty.parquet",
             "pareto.parquet", "examples.parquet", "weights.parquet", "metrics.json", "claims.json"]


@pytest.fixture(scope="module")
def smoke_run(smoke_store):
    run = smoke_store.latest("merging", "smoke")
    assert run is not None
    return run


def test_smoke_run_has_every_artifact_and_claim(smoke_run):
    for name in ARTIFACTS:
        assert smoke_run.exists(name), name
    rows = smoke_run.read_json("claims")
    validate_rows(rows)
    assert [r["id"] for r in rows] == [s.id for s in pipeline.CLAIMS]
    for r in rows:
        assert r["reproduced"] in (True, False) and r["profile"] == "smoke" and r["seeds"] == 1
        assert "problems x 2 samples per model; accuracy intervals ±" in r["note"]
    summary = smoke_run.read_parquet("summary")
    assert set(summary["method"]) == set(Config.for_profile("smoke").methods)
    assert summary["accuracy"].between(0, 1).all() and (summary["tokens"] > 0).all()
    assert (summary["accuracy_low"] <= summary["accuracy"]).all() and (summary["accuracy"] <= summary["accuracy_high"]).all()


def test_linear_grid_is_refined_across_the_transition(smoke_run):
    cfg = Config.for_profile("smoke")
    summary = smoke_run.read_parquet("summary")
    coarse = set(pd.Series([i * cfg.coarse_step for i in range(int(1 / cfg.coarse_step) + 1)]).round(4))
    linear = summary[summary.method == "linear"].sort_values("strength")
    extra = [s for s in linear["strength"] if s not in coarse and cfg.fine_edge < s < 1 - cfg.fine_edge]
    on_coarse = linear[linear["strength"].isin(coarse)]
    falling = on_coarse[(on_coarse["thinking_share"] < 0.9) & (on_coarse["thinking_share"] > 0.1)]
    if len(falling):  # a coarse point mid-transition: the fine points must bracket the whole fall
        assert extra
    share = dict(zip(linear["strength"], linear["thinking_share"]))
    for s in extra:  # every fine point lies inside the coarse bracket of the 90% -> 10% fall
        below = max(c for c in coarse if c <= s)
        above = min(c for c in coarse if c >= s)
        assert share[below] > 0.1 and share[above] < 0.9


def test_exact_endpoints_share_the_parents_evaluation(smoke_run):
    summary = smoke_run.read_parquet("summary").set_index(["method", "strength"])
    for method in ("slerp", "task_arithmetic"):
        for s in (0.0, 1.0):
            assert summary.loc[(method, s), "accuracy"] == summary.loc[("linear", s), "accuracy"]
            assert summary.loc[(method, s), "tokens"] == summary.loc[("linear", s), "tokens"]


def test_parents_learned_their_styles(smoke_run):
    summary = smoke_run.read_parquet("summary").set_index(["method", "strength"])
    thinking, direct = summary.loc[("linear", 0.0)], summary.loc[("linear", 1.0)]
    assert thinking["thinking_share"] > 0.8 and direct["thinking_share"] < 0.2
    assert thinking["tokens"] > 2 * direct["tokens"] and thinking["rechecks"] > direct["rechecks"]


def test_only_the_thinking_child_sees_rechecks():
    problems = world.make_problems(200, seed=0)
    assert not any(world.CHECK in c for _, c in base_pairs(problems, 0.5, 0))
    assert not any(world.CHECK in c for _, c in direct_pairs(problems))
    styles = [world.is_thinking(c) for _, c in base_pairs(problems, 0.5, 0)]
    assert 0.35 < sum(styles) / len(styles) < 0.65
    counts = [world.count_rechecks(c) for _, c in thinking_pairs(problems, 1, 3, 0)]
    assert min(counts) == 1 and max(counts) == 3


def test_a_deep_copy_of_a_trained_model_runs_its_own_weights():
    """Regression: TRL patched ``forward`` onto the instance, so a deepcopy ran the original's forward."""
    tok = build_tokenizer()
    model = make_model(TinyLMConfig(hidden=16, layers=1, heads=2, intermediate=32), tok, seed=0)
    train_sft(model, tok, [("Q : 1 + 1 = ?", "A : 2")] * 8, SFTSettings(steps=2, batch_size=4, device="cpu"))
    clone = copy.deepcopy(model)
    with torch.no_grad():
        for p in clone.parameters():
            p.add_(1.0)
    ids = tok(["Q : 1 + 1 = ?"], return_tensors="pt", add_special_tokens=False)
    assert not torch.allclose(model(**ids).logits, clone(**ids).logits)


TINY = {"hidden": 16, "intermediate": 32, "layers": 1, "base_steps": 6, "child_steps": 3, "n_eval": 12,
        "samples": 1, "methods": ("linear", "slerp", "dare_ties"), "coarse_step": 0.5, "fine_step": 0.25,
        "fine_edge": 0.0, "switch_window": 0.0, "other_step": 0.5, "n_boot": 50}


def test_build_is_deterministic_and_a_rebuild_is_a_noop(tmp_path):
    config = Config.for_profile("smoke", **TINY)
    first = pipeline.build(config, ArtifactStore(tmp_path / "a"))
    second = pipeline.build(config, ArtifactStore(tmp_path / "b"))
    pd.testing.assert_frame_equal(first.read_parquet("outputs"), second.read_parquet("outputs"))
    pd.testing.assert_frame_equal(first.read_parquet("summary"), second.read_parquet("summary"))
    assert first.read_json("claims") == second.read_json("claims")
    again = pipeline.build(config, ArtifactStore(tmp_path / "a"))
    assert again.path == first.path and again.manifest["created"] == first.manifest["created"]
    other = pipeline.build(Config.for_profile("smoke", **{**TINY, "seed": 1}), ArtifactStore(tmp_path / "a"))
    assert not first.read_parquet("outputs")["tokens"].equals(other.read_parquet("outputs")["tokens"])
