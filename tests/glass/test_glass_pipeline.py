"""The pipeline contract on the smoke profile: artifacts, claim rows, jobs, determinism, rebuild no-op."""

import numpy as np
import pytest

import tiny_builds

from workbench import methods
from workbench.claims import compare, validate_rows
from workbench.errors import WorkbenchError
from workbench.glass import pipeline
from workbench.glass.systems import run_beams, setup_sids
from workbench.glass.claims import CLAIMS
from workbench.glass.world import make_world, noisy_twin
from workbench.runner import Runner
from workbench.store import ArtifactStore

TINY = tiny_builds.GLASS


def test_smoke_run_has_every_artifact_and_claim_row(smoke_store):
    run = smoke_store.latest("glass", "smoke")
    assert run is not None
    for name in ("summary.json", "results.parquet", "diagnostics.json", "items.parquet", "test_cases.parquet",
                 "beams_tiger.parquet", "beams_glass.parquet", "walkthrough.safetensors", "glass.safetensors",
                 "claims.json", "per_case/glass.parquet", "jobs.json"):
        assert run.exists(name), name
    rows = run.read_json("claims")
    validate_rows(rows)
    assert [r["id"] for r in rows] == [c.id for c in CLAIMS]
    measured = [r for r in rows if r["reproduced"] is not None]
    assert {r["id"] for r in measured} >= {"glass.overall", "glass.absent_slice", "glass.noise"}
    for r in measured:  # verdicts follow the numbers: an interval above 0 is what "reproduced" rests on
        assert r["reproduced"] == (r["interval"][0] > 0) or r["id"] == "glass.absent_slice"
    results = run.read_parquet("results")
    assert {"TIGER", "GLASS", "SASRec", "Popularity"} <= set(results["system"])
    assert set(results["slice"]) == {"all", "absent", "continuing"}
    diag = run.read_json("diagnostics")
    assert diag["glass"]["unconstrained"]["invalid rate"] >= 0
    assert diag["glass"]["invalid rate (constrained)"] == 0.0
    assert [r["depth"] for r in diag["glass"]["rank progression"]] == [1, 2, 3, 4]
    jobs = run.read_json("jobs")
    assert "seed0/data" in jobs and "seed0/glass" in jobs and jobs["seed0/glass"]["cpu_seconds"] >= 0


def test_plan_is_a_data_job_per_seed_and_a_job_per_system():
    config = pipeline.Config.for_profile("smoke").with_overrides({"systems": "popularity,tiger,glass,noise"})
    jobs = {j.name: j for j in pipeline.plan(config, [0, 3])}
    assert set(jobs) == {f"seed{s}/{n}" for s in (0, 3)
                         for n in ("data", "popularity", "tiger", "glass", "tiger_noisy", "glass_noisy")}
    assert jobs["seed3/glass"].deps == ("seed3/data",) and jobs["seed0/data"].deps == ()
    assert jobs["seed0/glass"].spec["keep"] and not jobs["seed3/glass"].spec["keep"]
    assert all(j.threads == 1 and j.gpu_share == 0.0 for j in jobs.values())  # CPU here
    assert jobs["seed0/glass"].cost > jobs["seed0/tiger"].cost > jobs["seed0/popularity"].cost
    assert jobs["seed0/data"].cost > jobs["seed0/popularity"].cost


def test_noisy_twin_is_the_same_world_with_noisier_embeddings():
    kw = dict(n_topics=6, n_subtopics=2, styles=3, n_train_users=30, n_test_users=10, seed=4)
    world = make_world(**kw)
    twin, regenerated = noisy_twin(world, 0.6, seed=4), make_world(**{**kw, "noise": 0.6}).data
    assert np.array_equal(twin.item_emb, regenerated.item_emb) and twin.item_emb.dtype == regenerated.item_emb.dtype
    assert twin.cases.equals(world.data.cases) and twin.cases.equals(regenerated.cases)  # the cases pair up
    assert not np.allclose(twin.item_emb, world.data.item_emb)


def test_saved_model_reloads_and_decodes_the_same_beams(smoke_store):
    run = smoke_store.latest("glass", "smoke")
    config = pipeline.Config(**run.config)
    data, _, _ = pipeline.load_data(config)
    setup = setup_sids(data, config, tuple(config.codebook), config.seed)
    model = pipeline.load_sid_model(run, "glass")
    beams = run_beams(model, setup.test, setup.trie, config.beam, "cpu")
    stored = run.read_parquet("beams_glass")
    assert np.array_equal(beams.items[:, :10].ravel(), stored["item"].to_numpy())


@pytest.fixture(scope="module")
def two_runners(tiny_builds):
    """The TINY two-seed build run inline (workers=1) and in two spawned workers (the session's two
    runner calls for every method's tiny build)."""
    return tiny_builds.root, tiny_builds.inline["glass"], tiny_builds.pool["glass"]


def test_same_numbers_whatever_runs_the_jobs_and_rebuild_is_a_no_op(two_runners):
    root, inline, pooled = two_runners
    for name in ("results", "per_case/glass", "per_case/glass_noisy", "beams_glass", "items", "test_cases"):
        a, b = inline.file(f"{name}.parquet"), pooled.file(f"{name}.parquet")
        assert a.read_bytes() == b.read_bytes(), name
    assert inline.file("glass.safetensors").read_bytes() == pooled.file("glass.safetensors").read_bytes()
    assert inline.read_json("claims") == pooled.read_json("claims")
    again = methods.build("glass", "smoke", TINY, store=ArtifactStore(root / "inline"))
    assert again.path == inline.path and again.manifest["created"] == inline.manifest["created"]


def test_ray_gives_the_same_bytes(two_runners, tmp_path, local_ray):
    """The same TINY build as Ray tasks on the session's local Ray: byte-equal tables, weights and claims."""
    _, inline, _ = two_runners
    on_ray = methods.build("glass", "smoke", TINY, store=ArtifactStore(tmp_path / "ray"), runner=Runner("ray", workers=2))
    for name in ("results", "per_case/glass", "per_case/tiger", "beams_glass"):
        assert inline.file(f"{name}.parquet").read_bytes() == on_ray.file(f"{name}.parquet").read_bytes(), name
    assert inline.file("glass.safetensors").read_bytes() == on_ray.file("glass.safetensors").read_bytes()
    assert inline.read_json("claims") == on_ray.read_json("claims")
    assert on_ray.manifest["runner"] == {"executor": "ray", "workers": 2}


def test_two_seed_claims_use_both_seeds(two_runners):
    _, run, _ = two_runners
    results = run.read_parquet("results")
    assert sorted(results["seed"].unique()) == [0, 1]
    r10 = results[results["slice"] == "all"].pivot(index="seed", columns="key", values="Recall@10")
    claims = {r["id"]: r for r in run.read_json("claims")}
    assert all(r["seeds"] == 2 for r in claims.values())
    overall = claims["glass.overall"]
    assert overall["a_value"] == pytest.approx(r10["glass"].mean(), abs=1e-12)
    assert overall["b_value"] == pytest.approx(r10["tiger"].mean(), abs=1e-12)
    # the value is the difference the interval is of, not GLASS's own number
    assert overall["value"] == overall["diff"] == pytest.approx((r10["glass"] - r10["tiger"]).mean(), abs=1e-12)
    assert overall["interval"][0] <= overall["value"] <= overall["interval"][1] and overall["reference"] == 0.0
    per_seed = (r10["glass"] - r10["tiger"]) - (r10["glass_noisy"] - r10["tiger_noisy"])
    noise = claims["glass.noise"]
    assert noise["value"] == pytest.approx(per_seed.mean(), abs=1e-12)
    # the interval rests on both seeds: it is not the first seed's own paired-bootstrap interval
    r = {name: run.read_parquet(f"per_case/{name}")["Recall@10"].to_numpy()
         for name in ("glass", "tiger", "glass_noisy", "tiger_noisy")}
    first_only = compare([r["glass"] - r["tiger"]], [r["glass_noisy"] - r["tiger_noisy"]])
    assert noise["interval"] != pytest.approx(first_only.interval)


def test_unknown_dataset_or_missing_path_is_one_clear_error(tmp_path):
    with pytest.raises(WorkbenchError, match="needs --data-path"):
        methods.build("glass", "smoke", {"dataset": "movielens"}, store=ArtifactStore(tmp_path))
    with pytest.raises(WorkbenchError, match="Unknown dataset"):
        methods.build("glass", "smoke", {"dataset": "netflix", "data_path": str(tmp_path)}, store=ArtifactStore(tmp_path))
    assert not list((tmp_path / "glass").glob("*/manifest.json")) if (tmp_path / "glass").exists() else True
