"""The variant registry is what the jobs and the plan read: one place per variant."""

import pytest

from workbench.needs import jobs, rewards, variants
from workbench.needs.config import Config
from workbench.needs.pipeline import plan
from workbench.needs.prepare import CASES


def test_every_variant_is_complete_and_consistent():
    for name, v in variants.REGISTRY.items():
        assert v.name == name and v.training in ("sft", "continued_sft", "grpo") and v.cost > 0
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
