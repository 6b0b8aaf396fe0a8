"""Foursquare check-ins: the raw loader (``workbench.datasets``) gives one clear error for a wrong file;
the mapping to needs (``workbench.needs.foursquare``) on a small written table and, on the real
check-ins (external), a small build of the same pipeline."""

import pytest

from workbench import methods
from workbench.datasets.foursquare import COLUMNS, load_checkins
from workbench.errors import WorkbenchError
from workbench.jobs import Runner
from workbench.needs.config import Config
from workbench.needs.foursquare import checkins_to_needs, load_foursquare, word
from workbench.store import ArtifactStore

HEADER = "tid,label,lat,lon,day,hour,poi,category,price,rating,weather"


def test_wrong_files_get_one_sentence(tmp_path):
    bad = tmp_path / "ratings.csv"
    bad.write_text("userId,movieId,rating\n1,2,3.5\n")
    with pytest.raises(WorkbenchError, match="not a Foursquare check-in file: it lacks column"):
        load_checkins(bad)
    with pytest.raises(WorkbenchError, match="does not exist"):
        load_checkins(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(WorkbenchError, match="Expected one check-in csv"):
        load_checkins(empty)
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"\x00\xff\xfe" * 100)
    with pytest.raises(WorkbenchError):
        load_checkins(binary)
    header_only = tmp_path / "header.csv"
    header_only.write_text(HEADER + "\n")
    with pytest.raises(WorkbenchError, match="holds no check-ins"):
        load_checkins(header_only)
    bad_hour = tmp_path / "hour.csv"
    bad_hour.write_text(HEADER + "\n1,6,40.8,-73.9,Monday,noon,21,Food,1,8.2,Clouds\n")
    with pytest.raises(WorkbenchError, match="column hour must hold numbers"):
        load_checkins(bad_hour)
    bad_day = tmp_path / "day.csv"
    bad_day.write_text(HEADER + "\n1,6,40.8,-73.9,Lundi,12,21,Food,1,8.2,Clouds\n")
    with pytest.raises(WorkbenchError, match="English day names"):
        load_checkins(bad_day)
    assert word("Arts & Entertainment") == "arts_entertainment"


def test_raw_table_keeps_the_files_columns_and_maps_to_needs(tmp_path):
    rows = [f"{t},{u},{40.7 + 0.01 * p},{-73.9 - 0.01 * p},{day},{8 + t % 12},{p},{cat},1,8.0,Clear"
            for u in (1, 2) for t, (p, cat, day) in enumerate([(1, "Food", "Monday"), (2, "Nightlife Spot", "Saturday"),
                                                               (3, "Food", "Tuesday"), (4, "Shop & Service", "Sunday"),
                                                               (1, "Food", "Friday"), (5, "Food", "Monday"),
                                                               (2, "Nightlife Spot", "Friday"), (6, "Food", "Sunday")])]
    (tmp_path / "foursquare_nyc.csv").write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    raw = load_checkins(tmp_path)
    assert set(COLUMNS) <= set(raw.columns) and {"price", "rating"} <= set(raw.columns) and len(raw) == 16
    data = checkins_to_needs(raw, test_per_user=2, areas=2)
    data.validate()
    assert data.needs == ["food", "nightlife_spot", "shop_service"]
    assert (data.records.groupby("user")["split"].apply(lambda s: (s == "test").sum()) == 2).all()
    assert data.records["scene"].iloc[0] == "from_start" and set(data.records["day"]) == {"weekday", "weekend"}


@pytest.mark.external
def test_real_checkins_map_to_needs(shared_data):
    data = load_foursquare(shared_data / "foursquare-nyc-mat")
    data.validate()
    rec = data.records
    assert len(rec) == 44809 and rec["user"].nunique() == 193
    assert len(data.needs) == 10 and (rec.groupby("user")["split"].apply(lambda s: (s == "test").sum()) == 5).all()
    assert rec["scene"].str.startswith("from_").all()
    assert rec.loc[rec["split"] == "test", "long_tail"].mean() > 0


@pytest.mark.external
@pytest.mark.slow
def test_same_pipeline_builds_on_foursquare(shared_data, tmp_path, monkeypatch):
    config = Config.for_profile("smoke", dataset="foursquare", data_path=str(shared_data / "foursquare-nyc-mat"),
                                variants=("popularity", "isolated", "clustered_sft"), sft_steps=4, sft_batch=8,
                                max_train_cases=200, umap_points=200)
    run = methods.build_many([config], ArtifactStore(tmp_path), runner=Runner(workers=2))[0]
    metrics = run.read_parquet("metrics")
    assert set(metrics["variant"]) == {"popularity", "isolated", "clustered_sft"}
    rows = {r["id"]: r for r in run.read_json("claims")}
    assert rows["needs.filter"]["reproduced"] is None and "no planted" in rows["needs.filter"]["note"]

    # The Needs & services page on real logs: several test cases per user, one picker for them.
    from apptest import run_page

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    at = run_page("views/needs_services.py", session_state={"profile": "smoke", "needs_dataset": "foursquare"})
    cases = at.selectbox(key="ns_case").options
    assert len(cases) == 5
    at.selectbox(key="ns_case").select_index(0).run()
    assert not at.exception and not at.error
    assert at.dataframe[1].value.shape[0] == 3  # popularity, isolated, clustered_sft for that one case
