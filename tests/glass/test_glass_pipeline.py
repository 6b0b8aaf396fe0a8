"""The pipeline contract on the smoke profile: artifacts, claim rows, determinism, rebuild no-op."""

import numpy as np
import pytest

from workbench import methods
from workbench.claims import validate_rows
from workbench.errors import WorkbenchError
from workbench.glass import pipeline
from workbench.glass.study import setup_sids
from workbench.glass.verdicts import CLAIMS
from workbench.store import ArtifactStore

TINY = {"train_users": 120, "test_users": 60, "cases_per_user": 3, "steps": 15, "sasrec_steps": 10,
        "systems": "popularity,tiger,glass", "workers": 1}


def test_smoke_run_has_every_artifact_and_claim_row(smoke_store):
    run = smoke_store.latest("glass", "smoke")
    assert run is not None
    for name in ("summary.json", "results.parquet", "diagnostics.json", "items.parquet", "test_cases.parquet",
                 "beams_tiger.parquet", "beams_glass.parquet", "walkthrough.safetensors", "glass.safetensors",
                 "claims.json", "per_case/glass.parquet"):
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


def test_saved_model_reloads_and_decodes_the_same_beams(smoke_store):
    run = smoke_store.latest("glass", "smoke")
    config = pipeline.Config(**run.config)
    data, _, _ = pipeline.load_data(config)
    setup = setup_sids(data, config, tuple(config.codebook), config.seed)
    from workbench.glass.study import run_beams

    model = pipeline.load_sid_model(run, "glass")
    beams = run_beams(model, setup.test, setup.trie, config.beam, "cpu")
    stored = run.read_parquet("beams_glass")
    assert np.array_equal(beams.items[:, :10].ravel(), stored["item"].to_numpy())


def test_same_settings_same_numbers_and_rebuild_is_a_no_op(tmp_path):
    first = methods.build("glass", "smoke", TINY, store=ArtifactStore(tmp_path / "a"))
    second = methods.build("glass", "smoke", TINY, store=ArtifactStore(tmp_path / "b"))
    a, b = first.read_parquet("results"), second.read_parquet("results")
    assert a.drop(columns=[]).equals(b)
    again = methods.build("glass", "smoke", TINY, store=ArtifactStore(tmp_path / "a"))
    assert again.path == first.path and again.manifest["created"] == first.manifest["created"]


def test_unknown_dataset_or_missing_path_is_one_clear_error(tmp_path):
    with pytest.raises(WorkbenchError, match="needs --data-path"):
        methods.build("glass", "smoke", {"dataset": "movielens"}, store=ArtifactStore(tmp_path))
    with pytest.raises(WorkbenchError, match="Unknown dataset"):
        methods.build("glass", "smoke", {"dataset": "netflix", "data_path": str(tmp_path)}, store=ArtifactStore(tmp_path))
    assert not list((tmp_path / "glass").glob("*/manifest.json")) if (tmp_path / "glass").exists() else True
