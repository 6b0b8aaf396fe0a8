"""The job cache (workbench/cache.py): a killed build resumes where it stopped and gives the same bytes
as an uninterrupted one; a build with more seeds reuses the jobs it shares; a code change re-runs the
changed job and the jobs downstream of it, and nothing else; ``--fresh`` and doctor (issue 26, item 2).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from itertools import count
from unittest import mock

import pytest

import toy_pipeline
from workbench import methods
from workbench.cache import FOLDER, JobCache, code_version, job_keys
from workbench.runner import Job, Runner, run_jobs
from workbench.store import ArtifactStore

# six seed jobs that each wait a moment, so the build can be killed between two of them
TOY = ["toy", "--profile", "smoke", "--set", "seeds=1,2,3,4,5", "--set", "pause=1.0", "--workers", "1"]


def cached_jobs(run) -> set[str]:
    return {name for name, t in run.read_json("jobs").items() if t.get("cached")}


@pytest.mark.slow
def test_a_killed_build_resumes_at_the_next_job_with_the_same_bytes(tmp_path, cli, toy_method):
    """The killed build is a real process; the builds after it and doctor run in this process (``cli``)."""
    env = toy_pipeline.cli_env(tmp_path / "shim")
    home = tmp_path / "store"
    entries = home / FOLDER
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "build", *TOY], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "WORKBENCH_HOME": str(home), **env})
    try:
        deadline = time.monotonic() + 300
        while len(list(entries.glob("*/job.json"))) < 2:
            assert proc.poll() is None, f"the build ended before it could be killed: {proc.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, "no job finished"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    kept = len(list(entries.glob("*/job.json")))
    assert 2 <= kept < 6 and ArtifactStore(home).runs() == []  # killed between jobs: nothing published

    r = cli("build", *TOY, home=home)
    assert r.returncode == 0 and "toy: built" in r.stdout, r.stderr[-2000:]
    (resumed,) = ArtifactStore(home).runs()
    assert len(cached_jobs(resumed)) == kept  # the finished jobs came back; the others ran
    assert all(t["pid"] != proc.pid for n, t in resumed.read_json("jobs").items() if n not in cached_jobs(resumed))

    r = cli("build", *TOY, home=tmp_path / "uninterrupted")
    assert r.returncode == 0, r.stderr[-2000:]
    (whole,) = ArtifactStore(tmp_path / "uninterrupted").runs()
    assert cached_jobs(whole) == set()
    assert toy_pipeline.run_files(resumed) == toy_pipeline.run_files(whole) and "claims.json" in toy_pipeline.run_files(whole)

    r = cli("doctor", home=home)
    assert r.returncode == 0, r.stderr
    assert f"job cache {entries}: 6 jobs" in r.stdout
    listed = [line for line in r.stdout.splitlines() if line.startswith("cached: ")]
    assert sorted(line.split()[1].split("/", 1)[1] for line in listed) == [f"seed{s}/score" for s in range(6)]


def test_more_seeds_reuse_the_jobs_they_share_and_fresh_runs_them_all(tmp_path):
    """The 3-seed reference reuses the demo's seed-0 job (the spec's list of extra seeds is not part of
    a job's key); --fresh runs every job again. The numbers equal a build without any cache."""
    store = ArtifactStore(tmp_path / "a")
    one = toy_pipeline.build(toy_pipeline.Config.for_profile("smoke"), store, runner=Runner(workers=1))
    assert cached_jobs(one) == set()
    three = toy_pipeline.Config.for_profile("smoke", seeds=(1, 2))
    run = toy_pipeline.build(three, store, runner=Runner(workers=1))
    assert cached_jobs(run) == {"seed0/score"}
    alone = toy_pipeline.build(three, ArtifactStore(tmp_path / "b"), runner=Runner(workers=1))
    assert toy_pipeline.run_files(run) == toy_pipeline.run_files(alone)

    with mock.patch.dict(methods.METHODS, {"toy": "toy_pipeline"}):
        two = methods.build_many([toy_pipeline.Config.for_profile("smoke", seeds=(1,))], store,
                                 runner=Runner(workers=1), fresh=True)[0]
    assert cached_jobs(two) == set()  # both jobs were in the cache; --fresh ran them again
    four = toy_pipeline.build(toy_pipeline.Config.for_profile("smoke", seeds=(1, 2, 3)), store, runner=Runner(workers=2))
    assert cached_jobs(four) == {"seed0/score", "seed1/score", "seed2/score"}


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A throw-away package of job functions: ``first`` imports ``helper``; ``second`` stands alone;
    ``third`` reads what ``first`` made."""
    name = f"cachepkg_{os.getpid()}_{tmp_path.name}".replace("-", "_")
    root = tmp_path / "src" / name
    root.mkdir(parents=True)
    files = {
        "__init__.py": "",
        "helper.py": "def base():\n    return 1\n",
        "first.py": f"from {name}.helper import base\n\ndef make(ctx):\n"
                    "    (ctx.folder / 'x.txt').write_text(str(base()))\n    return {'x': base()}\n",
        "second.py": "def make(ctx):\n    '''Stands alone.'''\n    return {'y': 2}\n",
        "third.py": "def combine(ctx):\n    return {'z': int((ctx.dep_folder('a') / 'x.txt').read_text()) + 1}\n",
    }
    for file, text in files.items():
        (root / file).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    return name, root


def test_a_code_change_reruns_the_changed_job_and_its_downstream_only(tmp_path, package):
    name, root = package
    data = tmp_path / "input.csv"
    data.write_text("1,2\n")
    jobs = [Job("run/a", f"{name}.first:make"), Job("run/b", f"{name}.second:make", {"data_path": str(data)}),
            Job("run/c", f"{name}.third:combine", deps=("run/a",))]
    cache, builds = JobCache(tmp_path / "cache"), count()

    def ran() -> set[str]:
        results = run_jobs(jobs, tmp_path / f"jobs{next(builds)}", Runner(workers=1), cache=cache)
        assert results["run/c"] == {"z": 2}  # a reused folder is where the next job looks for it
        return {n for n, t in results.timings.items() if not t.get("cached")}

    assert ran() == {"run/a", "run/b", "run/c"}
    assert ran() == set()
    (root / "second.py").write_text(textwrap.dedent("""\
        # a comment and a new docstring change no number
        def make(ctx):
            '''Stands alone, still.'''
            return {'y': 2}
        """))
    assert ran() == set()
    (root / "helper.py").write_text("def base():\n    return 1  # same result, other code\n\n\nEXTRA = 3\n")
    assert ran() == {"run/a", "run/c"}  # the changed job and the job downstream of it
    (root / "third.py").write_text("def combine(ctx):\n    x = (ctx.dep_folder('a') / 'x.txt').read_text()\n"
                                   "    return {'z': int(x) + 1}\n")
    assert ran() == {"run/c"}  # downstream of a changed job only: it reads its dependency's restored folder
    data.write_text("1,3\n")
    assert ran() == {"run/b"}  # the file a spec names is part of the key
    (cache.root / job_keys(jobs)["run/a"] / "job.json").write_text("{not json")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ran() == {"run/a"}  # an unreadable entry is a miss (and is written again)
    assert any("unreadable" in str(w.message) for w in caught)
    assert ran() == set()
    assert len(cache.entries()) == 3 + 2 + 1 + 1  # each version of each job, once


def test_the_code_version_follows_imports_within_the_package_and_skips_docstrings(package):
    name, root = package
    before = {m: code_version(f"{name}.{m}") for m in ("first", "second", "third")}
    (root / "helper.py").write_text("'''Now with a docstring.'''\n\ndef base():\n    return 1\n")
    assert {m: code_version(f"{name}.{m}") for m in before} == before
    (root / "helper.py").write_text("def base():\n    return 2\n")
    after = {m: code_version(f"{name}.{m}") for m in before}
    assert after["first"] != before["first"] and after["second"] == before["second"] == code_version(f"{name}.second")
    assert code_version(f"{name}.nosuch") is None
    keys = job_keys([Job("a", f"{name}.nosuch:f"), Job("b", f"{name}.second:make", deps=("a",))])
    assert keys == {"a": None, "b": None}  # no source, no key: never cached, nor what depends on it
