"""The one job runner: graph checks, dependencies, files between jobs, progress, failure and
cancellation, the local pool and Ray giving the same results as the inline run."""

from __future__ import annotations

import time

import pandas as pd
import pytest

import toy_pipeline
from workbench.errors import WorkbenchError
from workbench.runner import GPU_SHARE, Job, Runner, check_graph, gpu_share, run_jobs
from workbench.store import ArtifactStore

F = "jobs_fixtures"


def diamond() -> list[Job]:
    return [
        Job("sum", f"{F}:add_deps", {"extra": 100}, deps=("a/one", "b/two")),
        Job("a/one", f"{F}:write_number", {"x": 1}),
        Job("b/two", f"{F}:write_number", {"x": 2}, cost=3.0),
    ]


def test_graph_order_and_errors():
    assert [j.name for j in check_graph(diamond())] == ["a/one", "b/two", "sum"]
    with pytest.raises(WorkbenchError, match="circle"):
        check_graph([Job("x", f"{F}:fail", deps=("y",)), Job("y", f"{F}:fail", deps=("x",))])
    with pytest.raises(WorkbenchError, match="not among the jobs"):
        check_graph([Job("x", f"{F}:fail", deps=("nope",))])
    with pytest.raises(WorkbenchError, match="Two jobs"):
        check_graph([Job("x", f"{F}:fail"), Job("x", f"{F}:fail")])
    with pytest.raises(WorkbenchError, match="package.module:function"):
        check_graph([Job("x", "no_colon")])


@pytest.mark.parametrize("workers", [1, 2])
def test_dependencies_files_results_and_progress(tmp_path, workers):
    seen = []
    results = run_jobs(diamond(), tmp_path, Runner(workers=workers), progress=lambda m, f: seen.append((m, f)))
    assert results["sum"]["x"] == 103 and results["sum"]["check"] == 3
    assert results.timings["a/one"]["seconds"] >= 0 and "_job" not in results["a/one"]
    assert (tmp_path / "a" / "one" / "log.txt").read_text().strip() == "wrote 1"  # prints go to the job's log
    fractions = [f for _, f in seen]
    assert fractions[-1] == pytest.approx(1.0) and max(fractions) <= 1.0 + 1e-9
    assert any("b/two" in m for m, _ in seen)  # each job's messages reach the one bar
    # the bar weighs jobs by cost: b/two (cost 3 of 5) alone brings it to 60%
    assert any(abs(f - 0.6) < 1e-6 or abs(f - 0.8) < 1e-6 for _, f in seen)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_job_names_itself_and_its_log_and_cancels_the_rest(tmp_path, workers):
    jobs = [Job("slow", f"{F}:slow_marker", {"seconds": 15}), Job("bad", f"{F}:fail"),
            Job("after", f"{F}:write_number", {"x": 1}, deps=("bad",))]
    order = jobs if workers > 1 else [jobs[1], jobs[2], jobs[0]]
    with pytest.raises(WorkbenchError, match=r"Job bad failed: this job fails on purpose \(log: .*bad/log.txt\)"):
        run_jobs(order, tmp_path, Runner(workers=workers))
    log = (tmp_path / "bad" / "log.txt").read_text()
    assert "about to fail" in log and "Traceback" in log
    assert not (tmp_path / "after").exists()  # its dependency failed: never started
    time.sleep(0.5)
    assert not (tmp_path / "slow" / "finished.txt").exists()  # cancelled / terminated, not finished


def test_jobs_run_with_their_own_thread_count(tmp_path):
    jobs = [Job("one", f"{F}:threads_seen", threads=1), Job("two", f"{F}:threads_seen", threads=2)]
    for workers in (1, 2):
        results = run_jobs(jobs, tmp_path / str(workers), Runner(workers=workers))
        assert (results["one"]["threads"], results["two"]["threads"]) == (1, 2)


def test_runner_settings_are_checked(monkeypatch):
    with pytest.raises(WorkbenchError, match="Unknown executor"):
        Runner.from_env("dask")
    with pytest.raises(WorkbenchError, match="at least 1"):
        Runner.from_env(workers=0)
    with pytest.raises(WorkbenchError, match="for --executor ray only"):
        Runner.from_env("local", address="auto")
    monkeypatch.setenv("WORKBENCH_WORKERS", "two")
    with pytest.raises(WorkbenchError, match="whole number"):
        Runner.from_env()


def test_one_gpu_share_rule(monkeypatch):
    """A model job takes a quarter of a GPU when the device setting resolves to CUDA, nothing on CPU."""
    import torch

    from workbench import runtime

    assert gpu_share("cpu") == 0.0
    monkeypatch.setattr(runtime, "resolve_device", lambda device: torch.device("cuda" if device != "cpu" else "cpu"))
    assert gpu_share("auto") == GPU_SHARE == 0.25 and gpu_share("cpu") == 0.0


def test_seeds_are_jobs_and_a_failing_seed_publishes_nothing(tmp_path):
    store = ArtifactStore(tmp_path)
    cfg = toy_pipeline.Config.for_profile("smoke", seeds=(1, 2), fail=True)
    with pytest.raises(WorkbenchError, match="Job toy-[0-9a-f]+/seed2/score failed"):
        toy_pipeline.build(cfg, store, runner=Runner(workers=2))
    assert store.find("toy", cfg) is None and not list((tmp_path / "toy").iterdir())
    (logs,) = tmp_path.glob(".jobs-*")  # only the jobs' logs (and the folder's owner) stay, so the message's path opens
    assert {p.name for p in logs.rglob("*") if p.is_file()} == {"log.txt", "owner.json"}
    assert "toy build failed on purpose" in next(logs.rglob("seed2/score/log.txt")).read_text()
    assert store.clean_partial() == 1 and not list(tmp_path.glob(".jobs-*"))


@pytest.mark.slow
def test_same_numbers_inline_pool_and_ray(tmp_path, local_ray):
    """Byte-equal results tables for workers=1, workers=2 and a local Ray (3 seeds)."""
    cfg = toy_pipeline.Config.for_profile("smoke", seeds=(1, 2))
    paths = {}
    for label, runner in (("inline", Runner(workers=1)), ("pool", Runner(workers=2)), ("ray", Runner("ray", workers=2))):
        run = toy_pipeline.build(cfg, ArtifactStore(tmp_path / label), runner=runner)
        paths[label] = run.path
        assert run.read_json("claims")[0]["seeds"] == 3
    blobs = {k: (p / "cases.parquet").read_bytes() for k, p in paths.items()}
    assert blobs["inline"] == blobs["pool"] == blobs["ray"]
    claims = {k: (p / "claims.json").read_text() for k, p in paths.items()}
    assert claims["inline"] == claims["pool"] == claims["ray"]
    assert len(pd.read_parquet(paths["ray"] / "cases.parquet")) == 3 * cfg.n


@pytest.mark.slow
def test_a_running_ray_cluster_passes_the_address_check(local_ray):
    import ray

    address = ray.get_runtime_context().gcs_address
    assert Runner.from_env("ray", 2, address).address == address  # TCP connect and the GCS's cluster id


def test_a_ray_address_that_does_not_answer_is_one_sentence_and_leaves_no_session(tmp_path):
    """Issue 24: a well-formed address where nothing listens fails at once (a real process, its own temp
    folder: Ray would put a session folder there), instead of minutes of GCS retries."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:  # a port nothing listens on once this closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    r = subprocess.run([sys.executable, "-m", "workbench.cli", "build", "merging", "--profile", "smoke", "--executor", "ray",
                        "--address", f"127.0.0.1:{port}"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert f"127.0.0.1:{port} does not answer" in r.stderr
    assert list((tmp_path / "tmp").iterdir()) == [] and not (tmp_path / "home").exists()


def test_ray_failure_names_the_job(tmp_path, local_ray):
    with pytest.raises(WorkbenchError, match=r"Job bad failed: this job fails on purpose"):
        run_jobs([Job("bad", f"{F}:fail"), Job("ok", f"{F}:write_number", {"x": 1})], tmp_path, Runner("ray", workers=2))
