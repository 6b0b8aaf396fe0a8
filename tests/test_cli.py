"""The CLI: one real subprocess per command (the console script as a user runs it), every other row
in this process through the same entry point (``workbench.cli.main``, the ``cli`` fixture), which
gives the real exit codes and stderr without starting an interpreter per row."""

import json
import os
import subprocess
import sys

import pytest


def workbench(*args, home, extra_env=None):
    """``workbench ARGS`` in a new process."""
    env = {**os.environ, "WORKBENCH_HOME": str(home), **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_doctor_in_a_real_process(tmp_path):
    r = workbench("doctor", home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "torch" in r.stdout and "device auto ->" in r.stdout and "threads" in r.stdout


def test_claims_with_nothing_built(tmp_path, cli):
    r = workbench("claims", "--json", home=tmp_path)  # the real process
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["profile"] == "demo"
    assert all(row["value"] is None and row["reproduced"] is None for row in report["claims"])
    assert json.loads(cli("claims", "--json", home=tmp_path).stdout) == report  # in process: the same answer
    r = cli("claims", home=tmp_path)
    assert r.returncode == 0


@pytest.mark.parametrize("args, message", [
    (["build", "nosuch"], "Unknown method 'nosuch'"),
    (["build", "all", "--profile", "huge"], "Unknown profile 'huge'"),
    (["claims", "--profile", "huge"], "Unknown profile 'huge'"),
])
def test_errors_are_one_sentence(tmp_path, cli, args, message):
    r = cli(*args, home=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error: ") and message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_build_and_rebuild_through_a_real_process(tmp_path):
    """Builds a method via the CLI (the toy one, registered by a sitecustomize shim) and rebuilds it."""
    shim = tmp_path / "shim"
    shim.mkdir()
    tests_dir = os.path.dirname(__file__)
    (shim / "sitecustomize.py").write_text(
        f"import sys; sys.path.insert(0, {tests_dir!r})\n"
        "from workbench import methods\nmethods.METHODS['toy'] = 'toy_pipeline'\n"
    )
    env = {"PYTHONPATH": f"{shim}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    r = workbench("build", "toy", "--profile", "smoke", "--set", "n=30", home=tmp_path / "a", extra_env=env)
    assert r.returncode == 0, r.stderr
    assert "toy: built" in r.stdout


def test_build_rows_in_process(tmp_path, cli, toy_method):
    r = cli("build", "toy", "--profile", "smoke", "--set", "n=30", "--workers", "1", home=tmp_path / "a")
    assert r.returncode == 0, r.stderr
    assert "toy: built" in r.stdout
    r = cli("build", "toy", "--profile", "smoke", "--set", "n=30", home=tmp_path / "a")
    assert "nothing to do" in r.stdout
    r = cli("build", "toy", "--set", "n=lots", home=tmp_path / "a")
    assert r.returncode == 2 and "not a valid int" in r.stderr
    r = cli("build", "toy", "--show-settings", home=tmp_path / "a")
    assert "toy.n = 200" in r.stdout and "Number of cases." in r.stdout
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    r = cli("build", "toy", home=blocker / "x")
    assert r.returncode == 2 and "Cannot write artifacts" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["build", "glass", "--executor", "dask"], "Unknown executor 'dask'"),
    (["build", "glass", "--workers", "0"], "--workers must be at least 1"),
    (["build", "glass", "--address", "auto"], "for --executor ray only"),
    (["reference", "--seeds", "0"], "--seeds must be at least 1"),
])
def test_runner_options_are_checked(tmp_path, cli, args, message):
    r = cli(*args, home=tmp_path)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_show_jobs_prints_the_job_graph(tmp_path, cli):
    r = cli("build", "glass", "--profile", "smoke", "--show-jobs", home=tmp_path)
    assert r.returncode == 0, r.stderr
    jobs = [json.loads(line) for line in r.stdout.splitlines()]
    assert {"seed0/data", "seed0/tiger", "seed0/glass"} <= {j["name"] for j in jobs}
    assert all(j["deps"] == ["seed0/data"] for j in jobs if j["name"] == "seed0/glass")


def test_reference_budget_overrides_are_checked_in_a_real_process(tmp_path):
    r = workbench("reference", "--set", "steps=5", home=tmp_path)
    assert r.returncode == 2 and "METHOD.key=value" in r.stderr and "Traceback" not in r.stderr
