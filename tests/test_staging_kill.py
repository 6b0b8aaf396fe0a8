"""A build killed with SIGKILL leaves its staging inside the store, marked with its owner; `workbench
doctor` lists it as stale and the next build removes it and completes (issue 11, item 6). Its pool
workers and their resource tracker die with it (issue 24, item 5).

A real ``workbench build`` in a subprocess, killed once a trainer's scratch folder exists (so the
kill lands mid-training, with both the run's staging and the jobs' folder on disk). ``--workers 1``
runs the jobs in the build's own process, so SIGKILL ends all of it at once.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from workbench.store import ArtifactStore

METHOD = "merging"  # its parents train with train_sft early in the build
# the smoke profile made smaller still (a real build of every job, in a fraction of the time)
SMALL = ["--set", "base_steps=30", "--set", "child_steps=10", "--set", "n_eval=12", "--set", "samples=1",
         "--set", "n_boot=20", "--set", "coarse_step=0.5", "--set", "slerp_step=0.5", "--set", "other_step=1.0"]


def staging(home):
    return sorted([*home.glob("*/.*.partial-*"), *home.glob(".jobs-*")])


@pytest.mark.slow
def test_a_killed_build_is_cleaned_by_the_next_build(tmp_path, cli, monkeypatch):
    """The killed build is a real process; doctor and the next build run in this process (``cli``), with
    the same temp folder (TMPDIR for their worker processes, ``tempfile.tempdir`` for this one)."""
    home, system_tmp = tmp_path / "store", tmp_path / "tmp"
    system_tmp.mkdir()
    env = {**os.environ, "WORKBENCH_HOME": str(home), "TMPDIR": str(system_tmp)}
    build = [sys.executable, "-m", "workbench.cli", "build", METHOD, "--profile", "smoke", *SMALL, "--workers", "1"]
    proc = subprocess.Popen(build, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600
        while not list(home.glob(".jobs-*/**/workbench-sft-*")):
            assert proc.poll() is None, f"the build ended before training started: {proc.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, "no trainer scratch folder appeared in the store"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()

    left = staging(home)
    assert len(left) == 2, left  # the run's staging folder and the jobs' folder
    assert all((path / "owner.json").exists() for path in left)
    assert not list(system_tmp.glob("workbench-*"))  # nothing in the system temp folder

    monkeypatch.setenv("TMPDIR", str(system_tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    r = cli("doctor", home=home)
    assert r.returncode == 0, r.stderr
    listed = [line for line in r.stdout.splitlines() if line.startswith("staging (stale")]
    assert len(listed) == 2 and all(f"owner pid {proc.pid}" in line for line in listed), r.stdout
    assert {str(path) for path in left} == {line.split(": ", 1)[1].split("  ")[0] for line in listed}

    r = cli("build", METHOD, "--profile", "smoke", *SMALL, home=home)
    assert r.returncode == 0 and "built in" in r.stdout, r.stderr[-2000:]
    assert staging(home) == [] and not list(system_tmp.glob("workbench-*"))
    store = ArtifactStore(home)
    assert [run.method for run in store.runs()] == [METHOD] and store.damaged(verify=True) == []


def _alive(process) -> bool:
    import psutil

    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow
def test_a_killed_build_leaves_no_worker_behind(tmp_path):
    """SIGKILL of a build running jobs in its process pool: every worker (and the multiprocessing resource
    tracker) ends too, through the parent-death signal the pool's initialiser asks for. Without it the
    workers were re-parented and lived on, idle, for hours."""
    import psutil

    home = tmp_path / "store"
    env = {**os.environ, "WORKBENCH_HOME": str(home), "TMPDIR": str(tmp_path)}
    build = [sys.executable, "-m", "workbench.cli", "build", METHOD, "--profile", "smoke", *SMALL, "--workers", "2"]
    proc = subprocess.Popen(build, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600
        while len(list(home.glob(".jobs-*/**/log.txt"))) < 2:  # two jobs started, one in each worker
            assert proc.poll() is None, f"the build ended before its jobs started: {proc.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, "no job of the build started"
            time.sleep(0.2)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len([c for c in children if "resource_tracker" not in " ".join(c.cmdline())]) >= 2, children
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    deadline = time.monotonic() + 120  # generous: the workers die at once, the tracker when its pipe closes
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = [c for c in children if _alive(c)]
    for process in left:  # do not leave them to the next test either
        process.kill()
    assert left == [], [" ".join(c.cmdline()) for c in left if _alive(c)]
