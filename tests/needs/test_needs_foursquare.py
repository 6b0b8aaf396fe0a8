"""Foursquare check-ins: the raw loader (``workbench.datasets``) gives one clear error for a wrong file;
the mapping to needs (``workbench.needs.real``) on a small written table and, on the real
check-ins (external), a small build of the same pipeline."""

import pytest

from workbench import methods
from workbench.datasets.foursquare import COLUMNS, load_checkins
from workbench.errors import WorkbenchError
from workbench.runner import Runner
from workbench.needs.config import Config
from workbench.needs.real import checkins_to_needs, load_foursquare, word
from workbench.store import ArtifactStore, rebuild_command

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


def test_venues_are_written_as_category_and_rank_by_training_checkins(tmp_path):
    rows = [f"{t},{u},40.7,-73.9,Monday,{8 + t},{p},Food,1,8.0,Clear"
            for u in (1, 2) for t, p in enumerate([7, 7, 7, 8, 9, 9, 8, 8])]
    (tmp_path / "foursquare_nyc.csv").write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    data = checkins_to_needs(load_checkins(tmp_path), test_per_user=2, areas=1, venue_words="ranked")
    data.validate()
    venue = data.merchants.set_index("venue")["merchant"]
    # training check-ins (each user's first 5): 7 x3, 8 x1, 9 x1 (tie by id); the later 9 (validation)
    # and 8s (test) are never counted, else 8 would rank above 7
    assert venue["v7"] == "food_a0/0" and venue["v8"] == "food_a0/1" and venue["v9"] == "food_a0/2"
    assert set(data.records["merchant"]) == set(venue)
    as_ids = checkins_to_needs(load_checkins(tmp_path), test_per_user=2, areas=1)  # the default
    assert set(as_ids.merchants["merchant"]) == {"v7", "v8", "v9"}


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
    compare = next(d.value for d in at.dataframe if "top service" in d.value.columns)  # found by its columns, not place
    assert compare.shape[0] == 3  # popularity, isolated, clustered_sft for that one case


# ---- raw TSMC2014 check-ins: need = top-level category, category = fine category, merchant = venue ----
TSMC_VISITS = [  # (fine category, venue, UTC time); NYC in April is UTC-4
    ("Coffee Shop", "c1", "Mon Apr 02 12:00:00 +0000 2012"), ("Office", "o1", "Mon Apr 02 13:30:00 +0000 2012"),
    ("Pizza Place", "p1", "Mon Apr 02 16:30:00 +0000 2012"), ("Bar", "b1", "Tue Apr 03 01:30:00 +0000 2012"),
    ("Coffee Shop", "c1", "Tue Apr 03 12:00:00 +0000 2012"), ("Subway", "s1", "Tue Apr 03 22:00:00 +0000 2012"),
    ("Moon Base", "m1", "Sat Apr 07 15:00:00 +0000 2012"), ("Park", "k1", "Sun Apr 08 02:00:00 +0000 2012"),
    ("Food", "f1", "Sun Apr 08 16:00:00 +0000 2012"),
]


def write_tsmc(path, users=("7", "8"), short_user="9"):
    rows = [(u, v, "cat" + v, c, 40.7 + 0.01 * i, -74.0 + 0.01 * i, -240, t)
            for u in users for i, (c, v, t) in enumerate(TSMC_VISITS)]
    rows += [(short_user, "c1", "catc1", "Coffee Shop", 40.7, -74.0, -240, t) for _, _, t in TSMC_VISITS[:3]]
    path.write_text("".join("\t".join(map(str, r)) + "\n" for r in rows))
    return path


def test_tsmc_checkins_map_to_the_three_levels_in_local_time(tmp_path):
    from workbench.needs.real import load_tsmc_needs

    path = write_tsmc(tmp_path / "dataset_TSMC2014_NYC.txt")
    with pytest.warns(UserWarning, match=r"1 fine venue category \(2 check-ins\) are not in the category table.*'Moon Base'"):
        data = load_tsmc_needs(path, test_per_user=2, venue_words="ranked")
    data.validate()
    rec = data.records[data.records["user"] == "u7"].reset_index(drop=True)
    assert rec["need"].tolist() == ["food", "professional_other_places", "food", "nightlife_spot", "food",
                                    "travel_transport", "other", "outdoors_recreation", "food"]
    assert rec["category"].tolist()[:4] == ["coffee_shop", "office", "pizza_place", "bar"]
    assert rec["category"].iloc[-1] == "food_general"  # the fine category "Food" never shares a word with its need
    assert rec["merchant"].iloc[0] == "coffee_shop/0" and data.category_need["pizza_place"] == "food"
    assert data.merchants.set_index("merchant").loc["coffee_shop/0", "venue"] == "vc1"
    # local time: Monday 12:00 UTC = 08:00 in New York; Saturday 15:00 UTC is a weekend; Sunday 02:00 UTC is Saturday night
    assert rec["hour"].tolist()[:4] == [8, 9, 12, 21] and rec["hour_bin"].iloc[0] == "h_morning"
    assert rec["day"].tolist()[5:] == ["weekday", "weekend", "weekend", "weekend"]
    assert rec["scene"].tolist()[:3] == ["from_start", "from_food", "from_professional_other_places"]
    assert rec["split"].tolist()[-3:] == ["val", "test", "test"]
    info = data.info
    assert info["unmapped"] == {"categories": 1, "checkins": 2, "examples": ["Moon Base"], "kept_as_need": "other"}
    assert info["left_out"]["users"] == 1 and info["left_out"]["checkins"] == 3 and info["users"] == 2
    assert data.name == "foursquare-tsmc" and set(data.merchants["city"]) == {"nyc"}


def test_tsmc_dataset_through_the_settings_with_an_own_category_table(tmp_path):
    from workbench.needs import prepare
    from workbench.needs import pipeline

    path = write_tsmc(tmp_path / "dataset_TSMC2014_NYC.txt")
    table = tmp_path / "mine.csv"
    table.write_text("category,top_level\nCoffee Shop,Food\nOffice,Work\nPizza Place,Food\nBar,Nightlife Spot\n"
                     "Subway,Travel & Transport\nMoon Base,Space\nPark,Outdoors & Recreation\nFood,Food\n")
    config = Config.for_profile("smoke", dataset="foursquare-tsmc", data_path=str(path), category_map=str(table),
                                test_per_user=2)
    data = prepare.load_data(config, 0)
    assert "space" in data.needs and "work" in data.needs and data.info["unmapped"]["categories"] == 0
    with pytest.raises(WorkbenchError, match="No TSMC2014 check-ins at .*does not exist"):
        pipeline.plan(config.with_overrides({"data_path": str(tmp_path / "nope")}), [0])
    with pytest.raises(WorkbenchError, match="No category table at"):
        pipeline.plan(config.with_overrides({"category_map": str(tmp_path / "nope.csv")}), [0])
    with pytest.raises(WorkbenchError, match="Unknown dataset 'tsmc' for needs"):
        pipeline.plan(config.with_overrides({"dataset": "tsmc"}), [0])
    with pytest.raises(WorkbenchError, match="venue_words=by_name is not valid: venue_words must be one of id, ranked"):
        config.with_overrides(["venue_words=by_name"])
    with pytest.raises(WorkbenchError, match="batch_softmax=true samples the prompt's positions; it needs prompt_loss"):
        config.with_overrides(["batch_softmax=true", "prompt_loss=false"])
    # the CLI's route: real check-ins start from the dataset's preset (the sampled prompt loss, more steps)
    cli = methods.make_config("needs", "demo", ["dataset=foursquare", f"data_path={path}"])
    assert (cli.batch_softmax, cli.batch_negatives, cli.sft_steps) == (True, 1024, 1500)
    assert not methods.make_config("needs", "demo").batch_softmax and methods.make_config("needs", "demo").sft_steps == 1000
    off = methods.make_config("needs", "demo", ["dataset=foursquare", f"data_path={path}", "batch_softmax=false"])
    assert not off.batch_softmax and "--set batch_softmax=False" in rebuild_command("needs", off)


@pytest.mark.external
def test_shared_tsmc_checkins_map_to_needs(shared_data):
    from workbench.needs.real import load_tsmc_needs

    data = load_tsmc_needs(shared_data / "foursquare-nyc-tsmc")
    data.validate()
    assert data.info["unmapped"]["categories"] == 0 and data.info["fine_categories"] == 192
    assert data.info["users"] + data.info["left_out"]["users"] == 962 and len(data.records) == data.info["records"]
    assert len(data.needs) >= 9 and len(data.categories) > 150
    assert (data.records.groupby("user")["split"].apply(lambda s: (s == "test").sum()) == 5).all()


@pytest.mark.external
@pytest.mark.slow
def test_same_pipeline_builds_on_tsmc(shared_data, tmp_path):
    config = Config.for_profile("smoke", dataset="foursquare-tsmc", data_path=str(shared_data / "foursquare-nyc-tsmc"),
                                variants=("popularity", "isolated", "flat", "clustered_sft"), sft_steps=4, sft_batch=8,
                                max_train_cases=200, umap_points=200, venue_words="ranked")
    run = methods.build_many([config], ArtifactStore(tmp_path), runner=Runner(workers=2))[0]
    assert set(run.read_parquet("metrics")["variant"]) == {"popularity", "isolated", "flat", "clustered_sft"}
    # venues as category/rank (two tokens each): every ranked service is a real venue of the data
    merchants = set(run.read_parquet("merchants")["merchant"])
    assert all("/" in m for m in merchants)
    predictions = run.read_parquet("predictions")
    assert all(set(s) <= merchants for s in predictions["services"]) and predictions["services"].map(len).gt(0).all()
    card = run.read_json("dataset")
    assert card["name"] == "foursquare-tsmc" and card["unmapped"]["categories"] == 0 and "NYC_val.csv" in card["source"]
    assert run.path.name.startswith("smoke-foursquare-tsmc-")
