"""The coupling study: ratios, intervals through claims.compare, the goal and the crossing."""

import numpy as np
import pandas as pd

from workbench.needs import coupling


def point(dial, seed, full, iso, n=500, rng_seed=0):
    rng = np.random.default_rng(rng_seed + seed)
    draw = lambda rate: (rng.random(n) < rate).astype(int).tolist()  # noqa: E731
    stages = {"need right": .7, "category right | need right": .6, "HR@1 | need, category right": .5}
    return {"coupling": dial, "seed": seed, "records": n, "jobs_seconds": 1, "planted": {},
            "cases": {"isolated": {k: draw(iso) for k in coupling.OUTCOMES}, "full": {k: draw(full) for k in coupling.OUTCOMES}},
            "stages": {"isolated": stages, "full": stages}}


def test_the_curve_says_where_full_beats_isolated_and_by_how_much():
    points = [point(d, s, full, .30) for d, full in ((0.0, .20), (0.5, .31), (1.0, .45)) for s in (0, 1, 2)]
    curve = pd.DataFrame([r for r in coupling.study(points) if r["table"] == "curve"])
    assert curve["seeds"].tolist() == [3, 3, 3]
    low, mid, high = curve.to_dict("records")
    assert low["full / isolated HR@1"] < 1 and not low["ratio above 1"] and low["ratio interval"][1] < 1
    assert high["ratio above 1"] and high["reaches 1.25x"] and high["ratio interval"][0] > 1.25
    assert not mid["reaches 1.25x"]
    lo, hi = high["full - isolated HR@1 interval"]
    assert lo < high["full - isolated HR@1"] < hi
    where = coupling.crossing(curve)
    assert 0.0 < where["at"] < 1.0 and where["range"][0] <= where["at"] <= where["range"][1]
    assert "goal is reached at coupling 1" in coupling.answer(curve)


def test_a_dial_setting_without_both_sides_is_left_out_of_the_curve():
    half = point(0.5, 0, .3, .3)
    del half["cases"]["full"]
    rows = coupling.study([point(0.0, 0, .3, .3), half])
    assert [r["coupling"] for r in rows if r["table"] == "curve"] == [0.0]
    assert {r["coupling"] for r in rows if r["table"] == "points"} == {0.0, 0.5}


def test_load_reads_back_what_the_bench_writes(tmp_path):
    import json

    path = tmp_path / "study.json"
    path.write_text(json.dumps({"rows": coupling.study([point(0.0, 0, .3, .3), point(1.0, 0, .4, .3)]), "cut": "x"}))
    doc = coupling.load(path)
    assert list(doc["curve"]["coupling"]) == [0.0, 1.0] and set(doc["points"]["variant"]) == {"isolated", "full"}
    assert coupling.load(tmp_path / "absent.json") is None


def test_the_bench_skips_points_it_has_and_writes_the_study_from_them(tmp_path, monkeypatch):
    """Resumable: a (dial, seed) point whose file exists is not built again; the study is written from
    every point file present (here all of them, so nothing is built at all)."""
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bench_needs_coupling as bench

    for key, value in {"DIALS": "0,1", "SEEDS": "0", "STORE": str(tmp_path / "store"), "OUT": str(tmp_path / "study.json"),
                       "POINTS": str(tmp_path / "points"), "PROFILE": "smoke"}.items():
        monkeypatch.setenv(bench.ENV + key, value)
    for dial, full in ((0.0, .2), (1.0, .4)):
        path = bench.point_file(tmp_path / "points", dial, 0)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(point(dial, 0, full, .3, n=200)))
    bench.run()
    doc = json.loads((tmp_path / "study.json").read_text())
    assert doc["this_sitting"]["points"] == 0 and doc["featured"] is None  # the top point file features none
    assert [r["coupling"] for r in doc["rows"] if r["table"] == "curve"] == [0.0, 1.0]
    assert "users 600" in doc["cut"] and "points built: 2 of the 2 asked" in doc["cut"]


def test_a_second_series_joins_the_study_labelled_and_leaves_the_first_as_it_was(tmp_path, monkeypatch):
    """The candidate-block series (``BENCH_NEEDS_COUPLING_CANDIDATES``) is written into the same study:
    its rows carry ``candidates``, its settings sit under ``series``, and the first series' rows and
    top-level fields stay as they were; ``load`` names each row's series and ``answer`` has a line each."""
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bench_needs_coupling as bench

    for key, value in {"DIALS": "0,1", "SEEDS": "0", "STORE": str(tmp_path / "store"), "OUT": str(tmp_path / "study.json"),
                       "POINTS": str(tmp_path / "points"), "PROFILE": "smoke"}.items():
        monkeypatch.setenv(bench.ENV + key, value)
    for dial, full, cands in ((0.0, .2, 0), (1.0, .25, 0), (0.0, .25, 8), (1.0, .45, 8)):
        path = bench.point_file(tmp_path / "points", dial, 0, cands)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(point(dial, 0, full, .3, n=300)))
    bench.run()
    first = json.loads((tmp_path / "study.json").read_text())
    monkeypatch.setenv(bench.ENV + "CANDIDATES", "8")
    bench.run()
    doc = json.loads((tmp_path / "study.json").read_text())
    assert [r for r in doc["rows"] if r["candidates"] == 0] == first["rows"] and doc["cut"] == first["cut"]
    assert doc["series"]["8"]["settings"]["candidates"] == 8 and "CANDIDATES='8'" in doc["series"]["8"]["command"]
    study = coupling.load(tmp_path / "study.json")
    curve = study["curve"]
    assert sorted(zip(curve["candidates"], curve["coupling"])) == [(0, 0.0), (0, 1.0), (8, 0.0), (8, 1.0)]
    assert set(study["points"]["series"]) == {"stage 3 free", "stage 3 given 8 candidates"}
    free, given = coupling.answer(curve).split("\n")
    for line, n in ((free, 0), (given, 8)):
        assert line == f"{coupling.series_name(n)}: {coupling.answer(curve[curve['candidates'] == n])}"
    assert free.split(": ", 1)[1] != given.split(": ", 1)[1]  # each line reads its own series' points
    monkeypatch.delenv(bench.ENV + "CANDIDATES")
    bench.run()  # the first series again: the second one stays
    assert json.loads((tmp_path / "study.json").read_text())["rows"] == doc["rows"]


def test_the_strongest_pipeline_gets_its_own_ratio_beside_the_papers_isolated_one():
    """A point with ``isolated_ctx`` adds the full framework's ratio to it (named ``vs isolated_ctx``);
    the plain names stay the paper's isolated pipeline's, and a point without it leaves those columns out."""
    def with_ctx(dial, full, iso, ctx):
        p = point(dial, 0, full, iso)
        p["cases"]["isolated_ctx"] = {k: (np.random.default_rng(9).random(500) < ctx).astype(int).tolist()
                                      for k in coupling.OUTCOMES}
        p["stages"]["isolated_ctx"] = {**p["stages"]["isolated"], "category right | need right on rainy/cold days": .9}
        return p

    rows = coupling.study([with_ctx(0.0, .3, .3, .3), with_ctx(1.0, .3, .2, .45)])
    curve = pd.DataFrame([r for r in rows if r["table"] == "curve"]).set_index("coupling")
    assert curve.loc[1.0, "full / isolated HR@1"] > 1.2 and curve.loc[1.0, "full / isolated_ctx HR@1"] < 0.8
    assert curve.loc[1.0, "ratio interval vs isolated_ctx"][1] < 1 and not curve.loc[1.0, "ratio above 1 vs isolated_ctx"]
    assert curve.loc[1.0, "isolated_ctx: category right | need right on rainy/cold days"] == 0.9
    text = coupling.answer(curve.reset_index())
    assert "Against the pipeline whose category stage reads the context (isolated_ctx): " in text
    plain = pd.DataFrame([r for r in coupling.study([point(0.0, 0, .3, .3)]) if r["table"] == "curve"])
    assert "full / isolated_ctx HR@1" not in plain and "reads the context" not in coupling.answer(plain)


def test_a_study_of_one_further_series_names_its_provenance_at_the_top():
    """A study file holding only a candidate-block series (a study of its own, ``BENCH_NEEDS_COUPLING_SET``)
    carries that series' command, commit and date at the top level too, for the docs' provenance line."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bench_needs_coupling as bench

    meta = {"command": "BENCH_NEEDS_COUPLING_SET='prompt_loss_stages=need' python benchmarks/run.py needs_coupling",
            "commit": "abc1234", "created": "2026-12-07", "cut": "users 600", "settings": {}}
    doc = bench.with_series({}, [{"table": "curve", "candidates": 8, "coupling": 1.0}], meta, "demo", 8)
    assert doc["command"] == meta["command"] and doc["series"]["8"]["cut"] == "users 600" and "cut" not in doc
    both = bench.with_series({"rows": [{"table": "curve", "coupling": 0.0}], "command": "first"},
                             [{"table": "curve", "candidates": 8, "coupling": 1.0}], meta, "demo", 8)
    assert both["command"] == "first"
