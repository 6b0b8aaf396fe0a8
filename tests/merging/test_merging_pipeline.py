"""The pipeline end to end: artifacts and claims of the smoke run, the job graph, the same numbers
whatever runs the jobs, several seeds by the one rule, the parents' styles."""

from __future__ import annotations

import copy
import math
import re

import numpy as np
import pandas as pd
import pytest
import torch

import tiny_builds
from workbench import methods
from workbench.claims import validate_rows
from workbench.runner import Runner
from workbench.lm import SFTSettings, TinyLMConfig, make_model, train_sft
from workbench.merging import analysis, pipeline, world
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


def test_plan_lays_out_one_graph_per_seed():
    config = Config.for_profile("smoke", seeds=(1,))
    jobs = {j.name: j for j in pipeline.plan(config, [0, 1])}
    for seed in (0, 1):
        here = f"seed{seed}"
        assert jobs[f"{here}/parents"].deps == ()
        coarse = (f"{here}/linear-coarse-1", f"{here}/linear-coarse-2")
        for name in coarse + tuple(f"{here}/{m}" for m in ("ties", "dare_linear", "dare_ties", "magnitude_prune")):
            assert jobs[name].deps == (f"{here}/parents",), name
        for name in ("linear-fine", "slerp", "task_arithmetic"):
            assert jobs[f"{here}/{name}"].deps == (f"{here}/parents", *coarse), name
        assert set(jobs[f"{here}/analysis"].deps) == {n for n in jobs if n.startswith(here) and not n.endswith("analysis")}
    assert all(j.threads == 1 and j.gpu_share == 0.0 and j.cost > 0 for j in jobs.values())
    assert jobs["seed0/linear-coarse-1"].spec["config"]["seed"] == 0 and jobs["seed1/ties"].spec["config"]["seed"] == 1


TINY = tiny_builds.MERGING
TABLES = ("outputs", "summary", "difficulty", "pareto", "examples", "weights")


def build_tiny(root, runner: Runner):
    return methods.build_many([Config.for_profile("smoke", **TINY)], ArtifactStore(root), runner=runner)[0]


@pytest.fixture(scope="module")
def tiny(tiny_builds):
    """The reduced two-seed build, inline and in two workers (the session's two runner calls)."""
    return {"root": tiny_builds.root, "inline": tiny_builds.inline["merging"], "pool": tiny_builds.pool["merging"]}


def test_the_numbers_do_not_depend_on_the_workers(tiny):
    inline, pool = tiny["inline"], tiny["pool"]
    for table in TABLES:
        assert (inline.path / f"{table}.parquet").read_bytes() == (pool.path / f"{table}.parquet").read_bytes(), table
    assert inline.read_json("metrics") == pool.read_json("metrics")
    assert inline.read_json("claims") == pool.read_json("claims")
    assert set(inline.read_json("jobs")) == {j.name for j in pipeline.plan(Config.for_profile("smoke", **TINY), [0, 1])}


def test_a_rebuild_is_a_noop_and_each_seed_has_its_own_numbers(tiny):
    first = tiny["inline"]
    again = build_tiny(tiny["root"] / "inline", Runner(workers=1))
    assert again.path == first.path and again.manifest["created"] == first.manifest["created"]
    outputs = first.read_parquet("outputs")
    assert sorted(outputs["seed"].unique()) == [0, 1]
    one, two = (outputs[outputs.seed == s].reset_index(drop=True) for s in (0, 1))
    assert len(one) == len(two) and not one["tokens"].equals(two["tokens"])


def _mean_or_none(values):
    mean = float(np.mean(values))
    return None if math.isnan(mean) else pytest.approx(mean)


def test_two_seeds_give_claims_over_both(tiny):
    run = tiny["inline"]
    rows = {r["id"]: r for r in run.read_json("claims")}
    validate_rows(list(rows.values()))
    assert all(r["seeds"] == 2 for r in rows.values())
    per_seed = run.read_json("metrics")["per_seed"]
    assert [m["seed"] for m in per_seed] == [0, 1]
    statistic = {
        "merging.tokens_rise": lambda m: m["token_trend"]["rho"],
        "merging.sharp_transition": lambda m: m["transition"]["width"],
        "merging.slerp_linear": lambda m: m["slerp_vs_linear"]["d_acc"],
        "merging.parents": lambda m: m["parents"]["hard_thinking"] - m["parents"]["hard_direct"],
    }
    for claim, value in statistic.items():
        assert rows[claim]["value"] == _mean_or_none([value(m) for m in per_seed]), claim
    pareto = rows["merging.pareto"]
    if pareto["value"] is not None:  # the reported merge's relative token change, averaged over the seeds
        method, strength, parent = re.match(r"(\S+) λ=([\d.]+) vs (\w+) parent", pareto["note"]).groups()
        outputs = run.read_parquet("outputs")
        cuts = [analysis.summarize_sweep(outputs[outputs.seed == s], pipeline.PARENT_ROWS, n_boot=10)
                .set_index(["method", "strength"]).loc[(method, float(strength)), f"rel_tok_{parent}"] for s in (0, 1)]
        assert pareto["value"] == pytest.approx(np.mean(cuts))


def test_the_overthinking_dial_is_a_checked_setting():
    from workbench.errors import WorkbenchError
    from workbench.merging.config import Config

    assert Config().overthink == 0.0 and Config(overthink=0.5).overthink == 0.5
    try:
        Config(overthink=1.5).check()
    except WorkbenchError as err:
        assert "overthink" in str(err)
    else:
        raise AssertionError("overthink=1.5 was accepted")
