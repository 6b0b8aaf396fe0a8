"""The app's build behind it (workbench/background.py): one build at a time per store, its state in a
file, runs published as they land (cheapest first), Ctrl-C / kill / the starter's end stop it with
nothing half-written. The build processes here build the toy method (tests/toy_pipeline.py) through
the real ``background.main`` and ``methods.build_many``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import toy_pipeline
from workbench import background, methods
from workbench.runner import Job, Runner, run_jobs

F = "jobs_fixtures"
TESTS = Path(__file__).resolve().parent


@pytest.fixture
def toy_build(tmp_store, toy_method, monkeypatch):
    """The store's root; build processes know the toy method; each toy job takes TOY_JOB_SECONDS."""
    monkeypatch.setattr(background, "command", toy_pipeline.background_command)
    # the build process imports this checkout's workbench (as an installed one would be)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS.parent), os.environ.get("PYTHONPATH", "")]))
    yield tmp_store.root
    if background.running(tmp_store.root):  # a failing test: stop the build it started
        pid = (background.read(tmp_store.root) or {}).get("pid")
        if pid:
            os.kill(pid, signal.SIGKILL)


def job_started(root, timeout: float = 120.0) -> dict:
    """The build's state once its toy job runs (its progress line says it is waiting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = background.read(root) or {}
        if status.get("pid") and "waiting" in status["methods"].get("toy", {}).get("message", ""):
            return status
        time.sleep(0.2)
    pytest.fail(f"the toy job did not start in {timeout:.0f} s; state: {background.read(root)}")


def test_one_build_at_a_time_and_its_run_lands(toy_build, tmp_store, monkeypatch):
    monkeypatch.setenv("TOY_JOB_SECONDS", "3")
    assert not background.running(toy_build) and background.read(toy_build) is None
    assert background.start(toy_build, "demo", ["toy"]) == "started"
    assert background.running(toy_build)  # held from the start: the build process inherited the lock
    assert background.start(toy_build, "demo", ["toy"]) == "joined"  # a second session, the Home button
    assert background.read(toy_build)["state"] == "running"
    assert background.wait_stopped(toy_build, timeout=120)
    status = background.read(toy_build)
    assert status["state"] == "done" and status["error"] is None
    assert status["methods"]["toy"]["state"] == "built"
    assert [str(r.path) for r in tmp_store.runs("toy")] == [status["methods"]["toy"]["run"]]  # one build, one run
    assert "building toy (demo)" in (toy_build / background.LOG).read_text()


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm", "starter ends"])
def test_a_stopped_build_publishes_nothing_and_frees_the_store(toy_build, tmp_store, monkeypatch, stop):
    monkeypatch.setenv("TOY_JOB_SECONDS", "60")
    if stop == "starter ends":  # `workbench app` (or the Streamlit server) started it and then ended
        code = f"from workbench import background; background.start({str(toy_build)!r}, 'demo', ['toy'])"
        boot = f"import sys; sys.path.insert(0, {str(TESTS)!r}); " \
               "import toy_pipeline; from workbench import background; background.command = toy_pipeline.background_command; "
        starter = subprocess.Popen([sys.executable, "-c", boot + code + "; import time; time.sleep(600)"])
    else:
        background.start(toy_build, "demo", ["toy"])
    status = job_started(toy_build)
    if stop == "starter ends":
        starter.kill()
        starter.wait()
    else:
        os.kill(status["pid"], signal.SIGINT if stop == "ctrl-c" else signal.SIGTERM)
    assert background.wait_stopped(toy_build, timeout=60)
    status = background.read(toy_build)
    assert status["state"] == "stopped" and "nothing half-written" in status["error"]
    assert tmp_store.runs("toy") == [] and tmp_store.damaged() == []
    assert not [p for p in (toy_build / "toy").iterdir() if not p.name.startswith(".")]  # no run folder
    assert all(s.stale for s in tmp_store.staging())  # what is left is marked for the next build to remove
    assert background.start(toy_build, "demo", ["toy"]) == "started"  # the store is free again
    os.kill(job_started(toy_build)["pid"], signal.SIGINT)
    assert background.wait_stopped(toy_build, timeout=60)


def test_a_killed_build_leaves_no_stale_lock(toy_build, tmp_store, monkeypatch):
    monkeypatch.setenv("TOY_JOB_SECONDS", "60")
    background.start(toy_build, "demo", ["toy"])
    os.kill(job_started(toy_build)["pid"], signal.SIGKILL)
    assert background.wait_stopped(toy_build, timeout=10)  # the kernel dropped the lock with the process
    assert background.read(toy_build)["state"] == "stopped"  # it said "running" and holds no lock: stopped
    assert tmp_store.runs("toy") == []


def test_rank_starts_a_group_first_and_on_done_hears_each_job(tmp_path):
    jobs = [Job("big/a", f"{F}:write_number", {"x": 1}, cost=10), Job("big/b", f"{F}:write_number", {"x": 2}, cost=10),
            Job("small/c", f"{F}:write_number", {"x": 3}, cost=1)]
    heard = []
    run_jobs(jobs, tmp_path / "ranked", Runner(workers=1), rank={"small/c": 0, "big/a": 1, "big/b": 1},
             on_done=lambda name, results: heard.append((name, name in results)))
    assert heard == [("small/c", True), ("big/a", True), ("big/b", True)]
    heard.clear()
    run_jobs(jobs, tmp_path / "default", Runner(workers=1), on_done=lambda name, results: heard.append(name))
    assert heard == ["big/a", "big/b", "small/c"]  # by default: the longest chain first


def test_each_run_is_published_as_soon_as_its_jobs_are_done(tmp_store, toy_method):
    """Two runs in one call: the cheaper lands (a whole run folder) before the other's jobs start."""
    cheap, dear = toy_pipeline.Config.for_profile("demo", n=60), toy_pipeline.Config.for_profile("demo", seeds=(1, 2))
    events = []

    def status(method, state, info):
        if state == "built":
            events.append(("built", info["run"], [str(r.path) for r in tmp_store.runs("toy")]))
        elif ("done", info["jobs_done"], info["jobs"]) not in events:  # progress lines repeat the count
            events.append(("done", info["jobs_done"], info["jobs"]))

    runs = methods.build_many([dear, cheap], tmp_store, runner=Runner(workers=1), cheapest_first=True, status=status)
    cheap_run, dear_run = str(runs[1].path), str(runs[0].path)
    assert events[events.index(("done", 1, 1)) + 1] == ("built", cheap_run, [cheap_run])  # published; the other not yet
    assert events.index(("done", 1, 1)) < events.index(("done", 1, 3))  # before the dearer run's first job ended
    assert events[-2:] == [("done", 3, 3), ("built", dear_run, [dear_run, cheap_run])]
