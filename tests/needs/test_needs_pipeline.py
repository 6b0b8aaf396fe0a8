"""The needs pipeline as jobs: artifacts and claims of the smoke build, the job graph, the same bytes
whoever runs the jobs, every seed in the claims, a failing job named with its log, errors."""

import numpy as np
import pandas as pd
import pytest

import tiny_builds
from workbench import claims, methods
from workbench.errors import WorkbenchError
from workbench.runner import Runner, gpu_share
from workbench.needs import pipeline
from workbench.needs.config import Config
from workbench.needs.evaluate import VARIANTS, slice_mask
from workbench.needs.prompts import parse_chain
from workbench.store import ArtifactStore

pytestmark = pytest.mark.slow
TABLES = ("records", "cases", "predictions", "metrics", "sft_curves", "rl_curves")


def tiny(**extra):
    """The smoke profile cut further (tests/tiny_builds.py: 40 users, three variants, a few steps), one seed."""
    return Config.for_profile("smoke", **{**tiny_builds.NEEDS, "seeds": (), **extra})


def build(config, root, workers=1):
    return methods.build_many([config], ArtifactStore(root), runner=Runner(workers=workers))[0]


def test_smoke_build_has_every_artifact_and_claim(smoke_store):
    run = smoke_store.latest("needs", "smoke")
    for name in ("records", "users", "merchants", "phrases", "categories", "cases", "predictions", "metrics",
                 "sft_curves", "rl_curves"):
        assert len(run.read_parquet(name)) > 0, name
    predictions = run.read_parquet("predictions")
    assert set(predictions["variant"]) == set(run.config["variants"]) and set(run.config["variants"]) <= set(VARIANTS)
    assert set(predictions["failed_stage"]) <= {"need", "category", "service", "none"}
    for completion in predictions.loc[predictions["variant"] != "flat", "completion"]:
        assert parse_chain(completion) is not None
    records = run.read_parquet("records")
    assert records.loc[records["split"] != "test", "umap_x"].notna().sum() > 0
    rl = run.read_parquet("rl_curves")
    assert {"frac_reward_zero_std", "format", "need_semantic", "need_exact", "full_path"} <= set(rl.columns)
    rows = run.read_json("claims")
    claims.validate_rows(rows)
    assert [r["id"] for r in rows] == [c.id for c in methods.load("needs").CLAIMS]
    assert all(r["value"] is not None and r["interval"] is not None and isinstance(r["reproduced"], bool) for r in rows)
    assert set(run.read_json("jobs")) == {j.name for j in pipeline.plan(Config.for_profile("smoke"), [0])}
    assert run.exists("model_full/config.json")


def test_the_job_graph():
    jobs = {j.name: j for j in pipeline.plan(Config.for_profile("smoke", seeds=(3,)), [0, 3])}
    assert set(jobs) == {"umap", *(f"seed{s}/{n}" for s in (0, 3) for n in
                                   ("data", "clustered_sft", "flat", "raw_sft", "full", "rl_sparse", "sft_more"))}
    assert jobs["seed3/flat"].deps == ("seed3/data",)
    assert jobs["seed3/full"].deps == ("seed3/data", "seed3/clustered_sft")
    assert jobs["umap"].deps == ("seed0/data",)
    share = gpu_share(Config.for_profile("smoke").device)  # the runner's one rule: a quarter of a GPU on CUDA, else 0
    assert all(j.threads == 1 and j.gpu_share == share for n, j in jobs.items() if n != "umap" and not n.endswith("data"))
    assert [n for n, j in jobs.items() if j.spec.get("save")] == ["seed0/clustered_sft", "seed0/full", "seed3/clustered_sft"]


def test_two_seeds_same_bytes_inline_and_in_two_workers_and_claims_use_both(tiny_builds):
    config = tiny(seeds=(1,))
    inline, pooled = tiny_builds.inline["needs"], tiny_builds.pool["needs"]  # the session's two runner calls
    for name in TABLES:
        pd.testing.assert_frame_equal(inline.read_parquet(name), pooled.read_parquet(name), check_exact=True, obj=name)
    assert inline.read_json("claims") == pooled.read_json("claims")

    # every claim row rests on both seeds: its value is the mean of the per-seed differences
    rows = {r["id"]: r for r in inline.read_json("claims")}
    assert all(r["seeds"] == 2 for r in rows.values())
    predictions = inline.read_parquet("predictions")
    assert sorted(predictions["seed"].unique()) == [0, 1]
    overall = predictions[slice_mask(predictions, "overall")]
    hit3 = overall.groupby(["seed", "variant"])["hit3"].mean().unstack()
    per_seed = (hit3["full"] - hit3["isolated"]).to_numpy()
    assert len(set(per_seed.round(6))) == 2, "the two seeds should differ"
    assert rows["needs.joint_vs_isolated"]["value"] == pytest.approx(per_seed.mean())
    quality = inline.read_json("filter")["quality"]
    assert [q["seed"] for q in quality] == [0, 1]
    assert rows["needs.filter"]["value"] == pytest.approx(np.mean([min(q["precision"], q["recall"]) for q in quality]))
    low, high = rows["needs.filter"]["interval"]
    assert low <= rows["needs.filter"]["value"] <= high

    again = build(config, tiny_builds.root / "inline")
    assert again.path == inline.path and again.manifest["created"] == inline.manifest["created"]


def test_a_failing_job_fails_the_build_naming_the_job_and_its_log(tmp_path):
    bad = tiny(variants=("clustered_sft",), base_checkpoint=str(tmp_path / "no-checkpoint"))
    with pytest.raises(WorkbenchError, match=r"Job needs-\w+/seed0/clustered_sft failed: No checkpoint at .*"
                                             r"\(log: .*seed0/clustered_sft/log\.txt\)"):
        build(bad, tmp_path / "store", workers=2)
    assert not list((tmp_path / "store").rglob("manifest.json")), "nothing half written"


def test_unknown_dataset_and_missing_path_are_one_sentence(tmp_path):
    with pytest.raises(WorkbenchError, match="Unknown dataset"):
        build(tiny(dataset="imaginary"), tmp_path)
    with pytest.raises(WorkbenchError, match="does not exist"):  # the store apart from the input (never into an input)
        build(tiny(dataset="foursquare", data_path=str(tmp_path / "nowhere")), tmp_path / "store")
    assert not any(tmp_path.rglob("manifest.json")), "nothing half written"
