import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

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
    assert leftovers and {p.name for p in leftovers} == {"log.txt", "owner.json"}  # the failed jobs' logs + its owner


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


def test_a_write_replaces_only_what_it_may(tmp_path):
    """Issue 24: a file write never replaces a FIFO, folder or link; --overwrite only a folder workbench wrote."""
    from workbench.atomic import WRITTEN_BY

    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere.txt")
    for name, kind in (("pipe", "a FIFO"), ("folder", "a folder"), ("link", "a symbolic link")):
        with pytest.raises(WorkbenchError, match=f"it is {kind}"):
            atomic_write_text(tmp_path / name, "x")
    assert not (tmp_path / "elsewhere.txt").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["folder", "link", "pipe"]

    with atomic_dir(tmp_path / "out") as staging:
        (staging / "v").write_text("1")
    assert (tmp_path / "out" / WRITTEN_BY).is_file()
    with atomic_dir(tmp_path / "out", overwrite=True) as staging:  # its own folder: replaced
        (staging / "v").write_text("2")
    assert (tmp_path / "out" / "v").read_text() == "2"
    (tmp_path / "folder" / "thesis.tex").write_text("mine")
    with pytest.raises(WorkbenchError, match="replaces only a folder workbench wrote"):
        with atomic_dir(tmp_path / "folder", overwrite=True):
            pass
    with pytest.raises(WorkbenchError, match="it is a FIFO"):
        with atomic_dir(tmp_path / "pipe", overwrite=True):
            pass
    assert (tmp_path / "folder" / "thesis.tex").read_text() == "mine"


@pytest.mark.parametrize("out, inputs, how", [
    ("d", {"x": "d"}, "is"), ("d/a/m", {"x": "d/a"}, "lies inside"), ("d", {"x": "d/a"}, "holds"),
    ("link/a/m", {"x": "d/a"}, "lies inside"),  # through a symbolic link to d
    ("d/ab", {"x": "d/a"}, None), ("e", {"x": "d", "y": None}, None),
])
def test_an_output_is_kept_apart_from_the_inputs(tmp_path, out, inputs, how):
    from workbench.atomic import check_apart

    (tmp_path / "d" / "a").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "d")
    inputs = {k: v and tmp_path / v for k, v in inputs.items()}
    if how is None:
        check_apart(tmp_path / out, inputs)
        return
    with pytest.raises(WorkbenchError, match=f"--out .* {how} the input x"):
        check_apart(tmp_path / out, inputs)


# ---- integrity: sizes and SHA-256 in the manifest, damaged runs named, never crashing a listing -----
def test_manifest_records_each_files_size_and_sha256(tmp_store):
    run = toy_pipeline.build(toy_pipeline.Config.for_profile("smoke"), tmp_store)
    files = run.manifest["files"]
    assert {"metrics.json", "cases.parquet", "claims.json", "jobs.json"} <= set(files)
    assert "owner.json" not in files and not run.exists("owner.json")
    data = (run.path / "cases.parquet").read_bytes()
    assert files["cases.parquet"] == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert run.problem(verify=True) is None
    assert run.manifest["rebuild"] == "workbench build toy --profile smoke"
    with tmp_store.create("toy", toy_pipeline.Config.for_profile("demo", n=10, seeds=(3, 4))) as writer:
        writer.write_json("nested/inside", {"x": 1})  # files in subfolders (save_pretrained) count too
        finished = writer.finish()
    assert "nested/inside.json" in finished.manifest["files"]
    assert finished.manifest["rebuild"] == "workbench build toy --profile demo --set n=10 --set seeds=3,4"


def test_truncated_or_altered_artifact_is_damaged_and_a_rebuild_heals_it(tmp_store, cli):
    cfg = toy_pipeline.Config.for_profile("smoke")
    run = toy_pipeline.build(cfg, tmp_store)
    table = run.path / "cases.parquet"
    table.write_bytes(table.read_bytes()[:100])  # truncated: the cheap check (sizes) sees it
    assert tmp_store.runs() == [] and tmp_store.latest("toy", "smoke") is None
    (damaged,) = tmp_store.damaged()
    assert damaged.path == run.path and "cases.parquet has 100 bytes" in damaged.problem
    assert "rebuild with `workbench build toy --profile smoke`" in damaged.sentence
    rebuilt = toy_pipeline.build(cfg, tmp_store)  # same folder, replaced
    assert rebuilt.path == run.path and tmp_store.damaged() == [] and rebuilt.read_parquet("cases").shape[0] == 50

    # the same size but other bytes: only the SHA-256 (doctor --verify, a build's own check) sees it
    data = bytearray(table.read_bytes())
    data[len(data) // 2] ^= 0xFF
    table.write_bytes(bytes(data))
    assert tmp_store.damaged() == [] and tmp_store.find("toy", cfg, verify=False) is not None
    assert tmp_store.find("toy", cfg) is None  # a build does not take it for built
    r = cli("doctor", home=tmp_store.root)
    assert r.returncode == 0 and "damaged" not in r.stdout, r.stdout + r.stderr
    r = cli("doctor", "--verify", home=tmp_store.root)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    (line,) = [x for x in r.stdout.splitlines() if x.startswith("damaged:")]
    assert str(run.path) in line and "cases.parquet does not match its recorded SHA-256" in line
    assert "rebuild with `workbench build toy --profile smoke`" in line


def _corrupt_run(store: ArtifactStore, method: str, text: str = "{not json") -> Path:
    folder = store.root / method / "demo-synthetic-0123456789"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(text)
    return folder


def test_a_corrupt_manifest_never_crashes_a_listing(tmp_store, toy_method, cli):
    from workbench import report

    good = toy_pipeline.build(toy_pipeline.Config.for_profile("demo", n=20), tmp_store)
    bad = _corrupt_run(tmp_store, "toy")
    _corrupt_run(tmp_store, "needs", "[1, 2]")  # valid JSON, not a manifest
    assert [r.path for r in tmp_store.runs()] == [good.path]
    assert methods.latest(tmp_store, "toy", "demo").path == good.path
    damaged = {d.path: d for d in tmp_store.damaged()}
    assert "cannot be read" in damaged[bad].problem and "lacks the method" in damaged[tmp_store.root / "needs" /
                                                                                       "demo-synthetic-0123456789"].problem
    assert damaged[bad].sentence == (f"The toy run at {bad} is damaged: its manifest.json cannot be read (JSONDecodeError); "
                                     "rebuild with `workbench build toy --profile demo` (plus the --set options it was "
                                     "built with, if any).")
    rows = {row.id: row for row in report.collect(tmp_store, "demo")}
    assert rows["toy.better"].value is not None  # the good run still counts
    (good.path / "claims.json").write_text("{" + " " * (len((good.path / "claims.json").read_text()) - 1))
    assert report.collect(tmp_store, "demo")  # same size, broken JSON: its rows go null, no crash

    r = cli("doctor", home=tmp_store.root)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert sum(line.startswith("damaged: ") for line in r.stdout.splitlines()) == 2
    r = cli("claims", "--profile", "demo", home=tmp_store.root)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr


def test_every_page_shows_a_damaged_run_as_one_sentence(tmp_store):
    from apptest import run_page, texts

    import ui

    for method in ("needs", "glass", "merging"):
        _corrupt_run(tmp_store, method)
    for page, *_ in ui.existing_pages():
        at = run_page(page)  # no exception, no error box
        shown = texts(at)
        for method in ("needs", "glass", "merging"):
            folder = tmp_store.root / method / "demo-synthetic-0123456789"
            assert f"The {method} run at {folder} is damaged" in shown, page
        assert "rebuild with `workbench build needs --profile demo`" in shown


# ---- staging: owners recorded, the leftovers of dead builds removed, never a live build's ----------
def test_stale_staging_of_dead_builds_is_removed_and_live_staging_kept(tmp_store):
    import socket

    from workbench.atomic import OWNER, UNMARKED_GRACE_SECONDS, mark_owner

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    folders = {name: tmp_store.root / rel for name, rel in {
        "dead": "toy/.smoke-synthetic-aaaa.partial-1", "live": ".jobs-live", "other host": ".jobs-other",
        "old unmarked": "toy/.smoke-synthetic-bbbb.partial-2", "new unmarked": ".jobs-new"}.items()}
    for folder in folders.values():
        folder.mkdir(parents=True)
        (folder / "half.parquet").write_bytes(b"x" * 1000)
    for name in ("dead", "live", "other host"):
        mark_owner(folders[name])
    owner = json.loads((folders["dead"] / OWNER).read_text())
    (folders["dead"] / OWNER).write_text(json.dumps({**owner, "pid": int(dead.stdout)}))  # a process that ended
    (folders["other host"] / OWNER).write_text(json.dumps({**owner, "host": socket.gethostname() + "-elsewhere"}))
    old = folders["old unmarked"].stat().st_mtime - UNMARKED_GRACE_SECONDS - 60
    os.utime(folders["old unmarked"], (old, old))

    found = {s.path: s for s in tmp_store.staging()}
    assert {p for p, s in found.items() if s.stale} == {folders["dead"], folders["old unmarked"]}
    assert found[folders["dead"]].size >= 1000 and f"owner pid {dead.stdout.strip()}" in found[folders["dead"]].describe()
    assert tmp_store.clean_partial() == 2
    assert sorted(p.name for p in tmp_store.root.rglob("*") if p.is_dir() and p.name.startswith(".")) == \
        [".jobs-live", ".jobs-new", ".jobs-other"]


def record_scratch(ctx) -> dict:
    """A job that asks for a trainer's scratch folder (used by the test below)."""
    from workbench.atomic import scratch_dir

    with scratch_dir("workbench-sft-") as path:
        return {"scratch": str(path), "existed": path.is_dir()}


def test_a_trainers_scratch_folder_lives_in_the_jobs_folder(tmp_path):
    from workbench.runner import Job, Runner, run_jobs

    results = run_jobs([Job("seed0/train", "test_store:record_scratch")], tmp_path / "jobs", Runner(workers=1))
    scratch = Path(results["seed0/train"]["scratch"])
    assert results["seed0/train"]["existed"] and scratch.parent == tmp_path / "jobs" / "seed0" / "train"
    assert not scratch.exists()  # removed when the trainer is done
