"""The variant registry is what the jobs and the plan read: one place per variant."""

import pytest

from workbench.needs import jobs, rewards, variants
from workbench.needs.config import Config
from workbench.needs.pipeline import plan
from workbench.needs.prepare import CASES


def test_every_variant_is_complete_and_consistent():
    for name, v in variants.REGISTRY.items():
        assert v.name == name and v.training in ("sft", "continued_sft", "grpo", "none") and v.cost > 0
        assert v.train_cases in CASES and v.test_cases in CASES
        if v.starts_from:  # a continuation comes after the model it continues
            assert list(variants.REGISTRY).index(v.starts_from) < list(variants.REGISTRY).index(name)
        assert bool(v.schedule) == (v.training == "grpo"), name
        assert set(v.schedule) | set(v.gates) | set(v.gates.values()) <= set(rewards.REWARDS)
    with pytest.raises(TypeError):
        variants.REGISTRY["full"].schedule["service"] = 0.0  # the registry cannot be changed by a caller


def test_the_plan_reads_the_registry():
    config = Config.for_profile("smoke").with_overrides({"variants": ("isolated", "rl_sparse", "flat")})
    jobs_ = {j.name: j for j in plan(config, [0, 1])}
    assert jobs.needed(config) == ["clustered_sft", "flat", "rl_sparse"]
    for s in (0, 1):
        assert jobs_[f"seed{s}/rl_sparse"].deps == (f"seed{s}/data", f"seed{s}/clustered_sft")
        assert jobs_[f"seed{s}/flat"].deps == (f"seed{s}/data",)
        ratio = jobs_[f"seed{s}/rl_sparse"].cost / jobs_[f"seed{s}/clustered_sft"].cost
        assert ratio == pytest.approx(variants.REGISTRY["rl_sparse"].cost)


def test_the_greedy_chain_is_the_full_model_scored_again_and_equals_it_with_one_path(tmp_path):
    """``full_greedy`` trains nothing: it waits for each seed's full model, which is then saved for it
    (and only then, beyond the main seed's for the app); with ``chain_beams=1`` the full framework's own
    chain is the greedy one, so the two variants predict the same services on every case."""
    from workbench import methods
    from workbench.store import ArtifactStore

    config = Config.for_profile("smoke").with_overrides({"variants": ("history", "full", "full_greedy"), "chain_beams": 1})
    jobs_ = {j.name: j for j in plan(config, [0, 1])}
    assert jobs_["seed1/full_greedy"].deps == ("seed1/data", "seed1/full") and jobs_["seed1/full"].spec["save"]
    plain = {j.name: j for j in plan(config.with_overrides({"variants": ("history", "full")}), [0, 1])}
    assert plain["seed0/full"].spec["save"] and not plain["seed1/full"].spec["save"]
    run = methods.build_many([config], ArtifactStore(tmp_path / "store"))[0]
    p = run.read_parquet("predictions")
    full, greedy = (p[p["variant"] == v].sort_values("record").reset_index(drop=True) for v in ("full", "full_greedy"))
    assert len(full) == len(greedy) > 0
    assert [list(s) for s in full["services"]] == [list(s) for s in greedy["services"]]
    assert full["category_pred"].tolist() == greedy["category_pred"].tolist()
    assert run.read_json("compute")["variants"]["full_greedy"] == {"sequences": 0, "kind": "the model of full"}
