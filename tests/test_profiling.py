"""Profiled jobs (``workbench build --profile-jobs``): the phase split, the summary beside each job's
log, and the same bytes with and without the profiler."""

from __future__ import annotations

import json

import pytest

import toy_pipeline
from workbench.errors import WorkbenchError
from workbench.profiling import PHASES, phase_seconds, root_phase
from workbench.runner import Job, Runner, run_jobs
from workbench.store import ArtifactStore

F = "jobs_fixtures"
SITE = "/env/lib/python3.11/site-packages"
MAIN = ("/src/workbench/needs/jobs.py", 1, "train_variant")
STEP = (f"{SITE}/transformers/trainer.py", 10, "compute_loss")
BACKWARD = (f"{SITE}/torch/_tensor.py", 20, "backward")
EVAL = ("/src/workbench/needs/inference.py", 30, "predict_chains")
LINEAR = ("~", 0, "<built-in method torch._C._nn.linear>")
RECURSIVE = ("/src/workbench/lm/generate.py", 40, "walk")
ENGINE = ("~", 0, "<method 'run_backward' of 'torch._C._EngineBase' objects>")


def edge(seconds: float) -> tuple:
    return (1, 1, seconds, seconds)


def stats() -> dict:
    """cProfile's shape: func -> (primitive calls, calls, own s, cumulative s, {caller: (.., .., own, cumulative)})."""
    return {
        MAIN: (1, 1, 0.5, 10.0, {}),
        STEP: (1, 1, 1.0, 6.0, {MAIN: edge(6.0)}),
        BACKWARD: (1, 1, 0.0, 2.0, {STEP: edge(2.0)}),
        ENGINE: (1, 1, 2.0, 2.0, {BACKWARD: edge(2.0)}),
        EVAL: (1, 1, 0.5, 3.5, {MAIN: edge(3.5)}),
        # one kernel, called by the training step (3 s) and by evaluation (1 s): its own time is split so
        LINEAR: (2, 2, 4.0, 4.0, {STEP: (1, 1, 3.0, 3.0), RECURSIVE: (1, 1, 1.0, 1.0)}),
        # recursion under evaluation: every share it passes on is evaluation's
        RECURSIVE: (1, 3, 1.0, 2.0, {EVAL: edge(2.0), RECURSIVE: edge(1.5)}),
    }


def test_own_time_goes_to_the_innermost_phase_root_and_shared_functions_split_by_caller():
    assert root_phase(BACKWARD) == "train_backward" and root_phase(STEP) == "train_forward"
    assert root_phase(EVAL) == "evaluation" and root_phase(LINEAR) is None
    seconds = phase_seconds(stats())
    assert set(seconds) == set(PHASES)
    assert seconds["train_backward"] == pytest.approx(2.0)  # the engine's time, under backward inside the step
    assert seconds["train_forward"] == pytest.approx(1.0 + 3.0)  # the step's own + its share of the kernel
    assert seconds["evaluation"] == pytest.approx(0.5 + 1.0 + 1.0)  # predict + the recursion + its kernel share
    assert seconds["other"] == pytest.approx(0.5)  # the job function itself: no root claims it
    assert sum(seconds.values()) == pytest.approx(sum(s[2] for s in stats().values()))


def test_a_profiled_build_has_the_same_bytes_and_each_jobs_profile_beside_its_log(tmp_path):
    config = toy_pipeline.Config.for_profile("smoke", seeds=(1,))
    plain = toy_pipeline.build(config, ArtifactStore(tmp_path / "plain"), runner=Runner(workers=1))
    store = ArtifactStore(tmp_path / "profiled")
    profiled = toy_pipeline.build(config, store, runner=Runner(workers=2, profile_jobs=True))
    assert toy_pipeline.run_files(profiled) == toy_pipeline.run_files(plain)
    jobs = profiled.read_json("jobs")
    assert set(jobs) == {"seed0/score", "seed1/score"} and all(t["profiled"] for t in jobs.values())
    assert not any("profiled" in t for t in plain.read_json("jobs").values())
    for name in jobs:
        summary = json.loads((profiled.path / "logs" / f"{name.replace('/', '__')}.profile.json").read_text())
        assert summary["job"].endswith("/" + name) and summary["fn"] == "toy_pipeline:score"
        assert set(summary["phases"]) == set(PHASES) and set(summary["garbage_collection"]) >= {"seconds", "collections"}
        assert any(p["heaviest"] for p in summary["phases"].values())
        assert sum(p["seconds"] for p in summary["phases"].values()) == pytest.approx(summary["profiled_seconds"], abs=0.05)
        for key, top in (("cumulative_s", summary["top_cumulative"]), ("own_s", summary["top_own"])):
            assert top and [r[key] for r in top] == sorted((r[key] for r in top), reverse=True)
    assert not (store.root / ".job-cache").exists() or not any((store.root / ".job-cache").iterdir())  # left alone


def test_a_failing_job_still_leaves_its_profile(tmp_path):
    with pytest.raises(WorkbenchError, match="fails on purpose"):
        run_jobs([Job("bad", f"{F}:fail")], tmp_path, Runner(workers=1, profile_jobs=True))
    summary = json.loads((tmp_path / "bad" / "profile.json").read_text())
    assert summary["job"] == "bad" and set(summary["phases"]) == set(PHASES) and summary["top_cumulative"]


def test_the_switch_from_the_environment_and_the_command_line(monkeypatch, tmp_path, cli, toy_method):
    monkeypatch.setenv("WORKBENCH_PROFILE_JOBS", "1")
    assert Runner.from_env().profile_jobs and not Runner.from_env(profile_jobs=False).profile_jobs
    monkeypatch.setenv("WORKBENCH_PROFILE_JOBS", "yes")
    with pytest.raises(WorkbenchError, match="WORKBENCH_PROFILE_JOBS='yes' is not 0 or 1"):
        Runner.from_env()
    monkeypatch.delenv("WORKBENCH_PROFILE_JOBS")
    assert not Runner.from_env().profile_jobs
    r = cli("build", "toy", "--profile", "smoke", "--set", "n=30", "--workers", "1", "--profile-jobs", home=tmp_path / "a")
    assert r.returncode == 0, r.stderr
    run = ArtifactStore(tmp_path / "a").latest("toy", "smoke")
    assert (run.path / "logs" / "seed0__score.profile.json").is_file()
