"""The demo-profile bench end to end on the toy method: a profiled build in the bench's own store,
one row per job with its phase split, the other methods' rows kept, a rerun builds nothing new."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_demo_profile  # noqa: E402
import toy_pipeline  # noqa: E402
from workbench.runner import Runner  # noqa: E402
from workbench.store import ArtifactStore  # noqa: E402


def test_bench_profiles_each_method_once_and_keeps_the_other_methods_rows(tmp_path, monkeypatch, toy_method):
    out = tmp_path / "demo-profile.json"
    other = {"method": "glass", "job": "seed0/glass", "CPU s": 30.0}
    out.write_text(json.dumps({"rows": [other]}))
    baseline = ArtifactStore(tmp_path / "plain")
    toy_pipeline.build(toy_pipeline.Config.for_profile("smoke"), baseline, runner=Runner(workers=1))
    for key, value in {"METHODS": "toy", "PROFILE": "smoke", "STORE": str(tmp_path / "store"), "OUT": str(out),
                       "BASELINE": str(baseline.root)}.items():
        monkeypatch.setenv(f"BENCH_DEMO_PROFILE_{key}", value)
    monkeypatch.setenv("WORKBENCH_WORKERS", "1")
    rows = bench_demo_profile.run()
    job, total = [r for r in rows if r["method"] == "toy"]
    assert job["job"] == "seed0/score" and total["job"] == "all jobs"
    plain = baseline.latest("toy", "smoke").read_json("jobs")["seed0/score"]["cpu_seconds"]
    assert job["CPU s"] == round(plain) and total["CPU s"] == round(plain)  # the plain build's seconds
    shares = [job[c] for c in bench_demo_profile.SHORT.values()]
    assert sum(shares) == pytest.approx(100, abs=5) and all(isinstance(s, int) and s >= 0 for s in shares)
    assert job["most own time"].startswith("`")
    doc = json.loads(out.read_text())
    assert other in doc["rows"] and doc["profile"] == "smoke" and doc["runs"]["toy"]["cpu_s"] == "plain build"
    assert doc["commit"] == f"toy {doc['runs']['toy']['commit']}"
    built = sorted((tmp_path / "store" / "toy").iterdir())
    assert bench_demo_profile.run() == rows  # the rerun reads the run it built
    assert sorted((tmp_path / "store" / "toy").iterdir()) == built
