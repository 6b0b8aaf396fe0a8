"""The needs pipeline: artifacts and claims of the smoke build, determinism, rebuild is a no-op, errors."""

import pandas as pd
import pytest

from workbench import claims, methods
from workbench.errors import WorkbenchError
from workbench.needs.config import Config
from workbench.needs.evaluate import VARIANTS
from workbench.needs.pipeline import build
from workbench.needs.prompts import parse_chain
from workbench.store import ArtifactStore

pytestmark = pytest.mark.slow


def tiny(**extra):
    return Config.for_profile("smoke", users=40, min_records=20, max_records=24, variants=("isolated", "clustered_sft", "full"),
                              sft_steps=6, sft_batch=8, rl_steps=2, rl_prompts=2, rl_generations=2, max_train_cases=200,
                              umap_points=100, **extra)


def test_smoke_build_has_every_artifact_and_claim(smoke_store):
    run = smoke_store.latest("needs", "smoke")
    for name in ("records", "users", "merchants", "phrases", "categories", "cases", "predictions", "metrics",
                 "sft_curves", "rl_curves"):
        assert len(run.read_parquet(name)) > 0, name
    predictions = run.read_parquet("predictions")
    assert set(predictions["variant"]) == set(VARIANTS)
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


def test_same_settings_same_numbers_and_rebuild_is_a_noop(tmp_path):
    config = tiny()
    first = build(config, ArtifactStore(tmp_path / "a"))
    second = build(config, ArtifactStore(tmp_path / "b"))
    cols = ["variant", "record", "need_pred", "category_pred", "hit1", "hit3"]
    pd.testing.assert_frame_equal(first.read_parquet("predictions")[cols], second.read_parquet("predictions")[cols])
    pd.testing.assert_frame_equal(first.read_parquet("rl_curves"), second.read_parquet("rl_curves"), check_exact=False, rtol=1e-4)
    again = build(config, ArtifactStore(tmp_path / "a"))
    assert again.path == first.path and again.manifest["created"] == first.manifest["created"]


def test_unknown_dataset_and_missing_path_are_one_sentence(tmp_path):
    with pytest.raises(WorkbenchError, match="Unknown dataset"):
        build(tiny(dataset="imaginary"), ArtifactStore(tmp_path))
    with pytest.raises(WorkbenchError, match="does not exist"):
        build(tiny(dataset="foursquare", data_path=str(tmp_path / "nowhere")), ArtifactStore(tmp_path))
    assert not any((tmp_path / "needs").glob("*/manifest.json")), "nothing half written"
