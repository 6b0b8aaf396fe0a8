import json

import pandas as pd
import pytest
import torch

import toy_pipeline
from workbench import methods
from workbench.errors import WorkbenchError
from workbench.store import ArtifactStore, atomic_dir, atomic_write_text


def test_build_writes_manifest_and_rebuild_is_a_noop(tmp_store):
    cfg = toy_pipeline.Config.for_profile("smoke")
    run = toy_pipeline.build(cfg, tmp_store)
    manifest = run.manifest
    assert manifest["config"]["n"] == 50 and manifest["config_hash"] == cfg.config_hash()
    assert {"python", "torch", "transformers", "workbench"} <= set(manifest["versions"])
    assert "write" in manifest["timings"] and manifest["timings"]["write"]["peak_rss_mb"] > 0
    assert "job seed0/score" in manifest["timings"]
    assert "metrics.json" in manifest["files"]
    mtime = (run.path / "manifest.json").stat().st_mtime_ns
    again = toy_pipeline.build(cfg, tmp_store)
    assert again.path == run.path and (run.path / "manifest.json").stat().st_mtime_ns == mtime


def test_failed_build_leaves_nothing_behind(tmp_store):
    cfg = toy_pipeline.Config.for_profile("smoke", fail=True)
    with pytest.raises(WorkbenchError):
        toy_pipeline.build(cfg, tmp_store)
    assert tmp_store.find("toy", cfg) is None
    assert not any(p.name.startswith(".") for p in (tmp_store.root / "toy").iterdir())
    leftovers = [p for p in tmp_store.root.glob(".jobs-*/**/*") if p.is_file()]
    assert leftovers and {p.name for p in leftovers} == {"log.txt"}  # only the failed jobs' logs stay


def test_same_settings_same_numbers(tmp_path):
    cfg = toy_pipeline.Config.for_profile("smoke")
    a = toy_pipeline.build(cfg, ArtifactStore(tmp_path / "a")).read_json("metrics")
    b = toy_pipeline.build(cfg, ArtifactStore(tmp_path / "b")).read_json("metrics")
    assert a == b


def test_tables_tensors_and_latest(tmp_store, toy_method):
    cfg = toy_pipeline.Config.for_profile("demo", n=10)
    with tmp_store.create("toy", cfg) as run:
        run.write_parquet("table", pd.DataFrame({"a": [1, 2]}))
        run.write_tensors("weights", {"w": torch.arange(4.0)})
        finished = run.finish()
    assert finished.read_parquet("table")["a"].tolist() == [1, 2]
    assert finished.read_tensors("weights")["w"].tolist() == [0, 1, 2, 3]
    with pytest.raises(WorkbenchError, match="missing"):
        finished.read_json("nope")
    # `latest` prefers the profile's default settings, and falls back to the newest run of the profile.
    assert methods.latest(tmp_store, "toy", "demo").path == finished.path
    default = toy_pipeline.build(toy_pipeline.Config.for_profile("demo"), tmp_store)
    assert methods.latest(tmp_store, "toy", "demo").path == default.path
    assert methods.latest(tmp_store, "toy", "smoke") is None
    assert tmp_store.datasets("toy", "demo") == ["synthetic"]


def test_unwritable_root_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(WorkbenchError, match="Cannot write artifacts"):
        toy_pipeline.build(toy_pipeline.Config.for_profile("smoke"), ArtifactStore(blocker / "sub"))


def test_atomic_helpers(tmp_path):
    atomic_write_text(tmp_path / "a.json", json.dumps({"x": 1}))
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1}
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "out") as staging:
            (staging / "half").write_text("written")
            raise RuntimeError("interrupted")
    assert not (tmp_path / "out").exists() and len(list(tmp_path.iterdir())) == 1
    with atomic_dir(tmp_path / "out") as staging:
        (staging / "whole").write_text("written")
    assert (tmp_path / "out" / "whole").exists()
    with pytest.raises(WorkbenchError, match="already exists"):
        with atomic_dir(tmp_path / "out"):
            pass
