"""The real check-ins study: levels with intervals, the full framework against every other variant
through claims.compare, the stage breakdown, and the bench (resumable, one line without its data)."""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.needs import checkins

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_needs_checkins as bench  # noqa: E402


def point(dataset, seed, rates, n=400):
    """A point file's content: each variant's per-case outcomes drawn at its rate; the history has no chain."""
    rng = np.random.default_rng(seed)
    draw = lambda rate: (rng.random(n) < rate).astype(int).tolist()  # noqa: E731
    cases = {v: {k: (draw(r) if v != "history" or k in ("hit1", "hit3") else [None] * n) for k in checkins.OUTCOMES}
             for v, r in rates.items()}
    stages = {v: {s: .5 for s in checkins.STAGES} for v in rates}
    return {"dataset": dataset, "seed": seed, "cases": cases, "records": n, "stages": stages, "jobs_seconds": 1}


RATES = {"history": .30, "isolated": .20, "full": .20, "full_greedy": .20}


def test_the_study_compares_full_with_every_variant_present_and_keeps_the_history_in_each_table():
    rows = checkins.study([point("foursquare", s, RATES) for s in (0, 1, 2)])
    levels = pd.DataFrame([r for r in rows if r["table"] == "levels"])
    assert levels["variant"].tolist() == ["history", "isolated", "full", "full_greedy"] and set(levels["seeds"]) == {3}
    history = levels.set_index("variant").loc["history"]
    assert pd.isna(history.get("need acc")) and history["HR@1 interval"][0] < history["HR@1"] < history["HR@1 interval"][1]
    versus = pd.DataFrame([r for r in rows if r["table"] == "versus"]).set_index(["versus", "metric"])
    assert set(versus.index.get_level_values(0)) == {"history", "isolated", "full_greedy"}
    assert versus.loc[("history", "HR@1"), "verdict"] == "full behind"  # .20 vs .30 on 1,200 cases
    low, high = versus.loc[("history", "HR@1"), "interval"]
    assert high < 0 and low < versus.loc[("history", "HR@1"), "full - other"] < high
    assert versus.loc[("isolated", "HR@1"), "verdict"] == "level"
    text = checkins.answer(versus.reset_index())
    assert text.startswith("MAT-Sum NYC (3 seeds): full framework HR@1") and "behind user history" in text


def test_a_dataset_without_the_full_framework_has_levels_but_no_comparison():
    rows = checkins.study([point("foursquare-tsmc", 0, {"history": .3, "isolated": .2})])
    assert {r["table"] for r in rows} == {"levels"}


def test_load_reads_back_the_three_tables(tmp_path):
    path = tmp_path / "study.json"
    path.write_text(json.dumps({"rows": checkins.study([point("foursquare", 0, RATES)])}))
    doc = checkins.load(path)
    assert len(doc["levels"]) == 4 and len(doc["versus"]) == 6 and len(doc["stages"]) == 4
    assert checkins.load(tmp_path / "absent.json") is None


def test_the_bench_says_in_one_line_when_its_data_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_SHARED_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv(bench.ENV + "POINTS", str(tmp_path / "points"))
    with pytest.raises(SystemExit, match="no foursquare-nyc-mat, foursquare-nyc-tsmc under"):
        bench.run()
    assert not (tmp_path / "points").exists()


def mat_checkins(folder: Path, users: int = 40, per_user: int = 24, seed: int = 0) -> None:
    """A small MAT-Sum csv: each user mostly at a few favourite venues of a few top-level categories."""
    rng = np.random.default_rng(seed)
    cats = ["Food", "Nightlife Spot", "Shop & Service", "Professional & Other Places"]
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    rows, tid = [], 0
    for u in range(users):
        favourites = rng.choice(30, size=4, replace=False)
        for _ in range(per_user):
            poi = int(favourites[rng.integers(4)] if rng.random() < .8 else rng.integers(30))
            tid += 1
            rows.append(f"{tid},{u},40.7,-73.9,{days[rng.integers(7)]},{rng.integers(24)},{poi},{cats[poi % 4]},1,8.0,Clear")
    folder.mkdir(parents=True)
    (folder / "foursquare_nyc.csv").write_text("tid,label,lat,lon,day,hour,poi,category,price,rating,weather\n"
                                              + "\n".join(rows) + "\n")


def test_the_bench_builds_a_point_then_resumes_without_building_it_again(tmp_path, monkeypatch):
    """One real-data point at smoke size: its point file holds every variant's per-case outcomes (the
    greedy chain beside the marginal one) and the study is written from it; a second sitting builds
    nothing and writes the same rows."""
    mat_checkins(tmp_path / "data" / checkins.DATASETS["foursquare"])
    monkeypatch.setenv("WORKBENCH_SHARED_DATA", str(tmp_path / "data"))
    for key, value in {"DATASETS": "foursquare", "SEEDS": "0", "STEPS": "5", "PROFILE": "smoke",
                       "STORE": str(tmp_path / "store"), "OUT": str(tmp_path / "study.json"),
                       "POINTS": str(tmp_path / "points")}.items():
        monkeypatch.setenv(bench.ENV + key, value)
    bench.run()
    saved = json.loads(bench.point_file(tmp_path / "points", "foursquare", 0).read_text())
    assert set(saved["cases"]) == set(checkins.VARIANTS) and saved["records"] > 0
    doc = json.loads((tmp_path / "study.json").read_text())
    assert doc["this_sitting"]["points"] == 1 and doc["points"] == ["foursquare/seed0"]
    assert doc["settings"]["chain_rank"] == "marginal" and doc["settings"]["sft_steps"] == 5
    bench.run()
    again = json.loads((tmp_path / "study.json").read_text())
    assert again["this_sitting"]["points"] == 0 and again["rows"] == doc["rows"]
