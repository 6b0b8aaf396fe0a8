"""Raw TSMC2014 check-ins in both layouts (the original tab-separated file and GETNext's csv), written
here as small fixtures, the fine → top-level category table, and the shared NYC copy (external)."""

import pandas as pd
import pytest

from workbench.datasets import tsmc
from workbench.errors import WorkbenchError

# user, venue, category id, category, lat, lon, offset (min), UTC time: NYC in summer is UTC-4
CHECKINS = [
    ("470", "49bbd6c0f964a520f4531fe3", "4bf58dd8d48988d127951735", "Arts & Crafts Store", 40.7198, -74.0025, -240,
     "Tue Apr 03 18:00:09 +0000 2012"),
    ("470", "4a43c0aef964a520c6a61fe3", "4bf58dd8d48988d1df941735", "Bridge", 40.6068, -74.0440, -240,
     "Sat Apr 07 02:30:00 +0000 2012"),
    ("979", "4c5cc7b485a1e21e00d35711", "4bf58dd8d48988d103941735", "Café", 40.7162, -73.8832, -240,
     "Tue Apr 03 18:00:25 +0000 2012"),
    ("979", "4bc7086715a7ef3bef9878da", "4bf58dd8d48988d104941735", "Medical Center", 40.7451, -73.9826, -240,
     "Wed Apr 04 13:10:00 +0000 2012"),
    ("470", "4d0cc47f903d37041864bf55", "4bf58dd8d48988d1e7941735", "Moon Base", 40.7500, -73.9900, -240,
     "Sun Apr 08 16:00:00 +0000 2012"),
]


def write_txt(path, rows=CHECKINS, encoding="utf-8"):
    path.write_bytes("".join("\t".join(map(str, r)) + "\n" for r in rows).encode(encoding))
    return path


def write_getnext(path, rows=CHECKINS):
    header = "user_id,POI_id,POI_catid,POI_catname,latitude,longitude,timezone,UTC_time,trajectory_id,time_period\n"
    lines = [",".join([u, v, c, f'"{n}"', str(la), str(lo), str(o), t, f"{u}_1", "0.5"]) for u, v, c, n, la, lo, o, t in rows]
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_both_layouts_load_the_same_table_in_local_time(tmp_path):
    a = tsmc.load_tsmc(write_txt(tmp_path / "dataset_TSMC2014_NYC.txt"))
    (tmp_path / "getnext").mkdir()
    b = tsmc.load_tsmc(write_getnext(tmp_path / "getnext" / "NYC_val.csv"))
    columns = ["user", "venue", "category", "lat", "lon", "offset", "utc", "local"]
    pd.testing.assert_frame_equal(a[columns], b[columns])
    assert a["user"].tolist() == ["470", "470", "470", "979", "979"]  # grouped by user, in time order
    assert a.loc[1, "local"] == pd.Timestamp("2012-04-06 22:30:00")  # UTC 02:30 Saturday = Friday evening in NYC
    assert a["line"].tolist() == [1, 2, 5, 3, 4] and b["line"].tolist() == [2, 3, 6, 4, 5]


def test_latin1_copy_and_folder_lookup(tmp_path):
    write_txt(tmp_path / "dataset_TSMC2014_NYC.txt", encoding="latin-1")  # "Caf\xe9": how some copies are saved
    assert "Café" in set(tsmc.load_tsmc(tmp_path)["category"])
    write_txt(tmp_path / "dataset_TSMC2014_TKY.txt")
    with pytest.raises(WorkbenchError, match=r"several check-in files \(dataset_TSMC2014_NYC.txt, dataset_TSMC2014_TKY.txt\)"):
        tsmc.load_tsmc(tmp_path)
    assert len(tsmc.load_tsmc(tmp_path / "dataset_TSMC2014_TKY.txt")) == len(CHECKINS)


def test_fine_categories_map_to_top_levels_and_unmapped_ones_are_returned(tmp_path):
    raw = tsmc.load_tsmc(write_txt(tmp_path / "dataset_TSMC2014_NYC.txt"))
    top, unmapped = tsmc.top_levels(raw["category"])
    assert dict(zip(raw["category"], top.fillna("-"))) == {
        "Arts & Crafts Store": "Shop & Service", "Bridge": "Outdoors & Recreation", "Café": "Food",
        "Medical Center": "Professional & Other Places", "Moon Base": "-"}
    assert unmapped == ["Moon Base"]
    table = tsmc.load_category_map()
    assert len(table) > 400 and set(table.values()) == {
        "Arts & Entertainment", "College & University", "Event", "Food", "Nightlife Spot", "Outdoors & Recreation",
        "Professional & Other Places", "Residence", "Shop & Service", "Travel & Transport"}
    own = tmp_path / "mine.csv"
    own.write_text("# my table\ncategory,top_level\nmoon  base,Travel & Transport\n")
    assert sorted(tsmc.top_levels(raw["category"], tsmc.load_category_map(own))[1]) == [
        "Arts & Crafts Store", "Bridge", "Café", "Medical Center"]
    assert tsmc.load_category_map(own) == {"moon base": "Travel & Transport"}  # case and spaces do not matter
    with pytest.raises(WorkbenchError, match="lacks the columns category,top_level"):
        (tmp_path / "bad.csv").write_text("fine,top\nBar,Nightlife Spot\n")
        tsmc.load_category_map(tmp_path / "bad.csv")


@pytest.mark.external
def test_shared_tsmc_matches_its_source_card_and_every_category_is_mapped(shared_data):
    raw = tsmc.load_tsmc(shared_data / "foursquare-nyc-tsmc")
    assert len(raw) == 10462 and raw["user"].nunique() == 962 and raw["venue"].nunique() == 3541
    assert raw["category"].nunique() == 192 and raw["offset"].isin([-240, -300]).mean() > 0.99  # a few travellers
    top, unmapped = tsmc.top_levels(raw["category"])
    assert unmapped == [] and top.nunique() >= 9
