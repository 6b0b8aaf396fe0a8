"""The synthetic world keeps the phenomena the claims are checked on (planted truth, splits, cities)."""

import numpy as np
import pytest

from workbench.needs.world import NEEDS, WorldSpec, generate_world


@pytest.fixture(scope="module")
def world():
    return generate_world(WorldSpec(users=300), seed=3)


def test_same_seed_same_world_other_seed_other_world():
    a = generate_world(WorldSpec(users=40, min_records=20, max_records=25), seed=1).records
    b = generate_world(WorldSpec(users=40, min_records=20, max_records=25), seed=1).records
    c = generate_world(WorldSpec(users=40, min_records=20, max_records=25), seed=2).records
    assert a.equals(b)
    assert not a["merchant"].equals(c["merchant"].reindex(a.index))


def test_tables_are_consistent(world):
    world.validate()
    rec = world.records
    assert rec["need_text"].map(world.phrase_need).eq(rec["need"]).all(), "a logged phrase names its need"
    assert rec["category"].map(world.category_need).eq(rec["need"]).all(), "the category serves the need"
    merchant_city = dict(zip(world.merchants["merchant"], world.merchants["city"]))
    assert rec["merchant"].map(merchant_city).eq(rec["city"]).all(), "users order in their own city"
    assert rec["merchant"].map(world.merchant_category).eq(rec["category"]).all()
    cities = world.merchants.groupby("city")["merchant"].apply(set)
    assert not (cities["cityA"] & cities["cityB"]), "the two cities share no merchant"
    assert set(world.merchants.groupby("city")["category"].apply(frozenset)) == {frozenset(world.categories["category"])}


def test_needs_have_paraphrases_and_several_categories():
    for need, (phrases, categories, *_rest) in NEEDS.items():
        assert 2 <= len(phrases) <= 3, need
        assert 2 <= len(categories) <= 4, need
    all_phrases = [p for v in NEEDS.values() for p in v[0]]
    assert len(all_phrases) == len(set(all_phrases))


def test_time_split_per_user(world):
    rec = world.records
    for _, group in rec.groupby("user"):
        ordered = group.sort_values("t")
        assert ordered["split"].tolist()[-2:] == ["val", "test"]
        assert (ordered["split"].iloc[:-2] == "train").all()


def test_planted_accidents_and_long_tail(world):
    rec = world.records
    history, evaluation = rec[rec["split"] == "train"], rec[rec["split"] != "train"]
    assert 0.24 <= history["accidental"].mean() <= 0.36, "about 30% of the history is accidental"
    assert not evaluation["accidental"].any(), "evaluation cases are never accidental"
    assert set(history.loc[history["accidental"], "kind"]) == {"promo", "for_others", "random"}
    assert (history["kind"] == "clean").eq(~history["accidental"]).all()
    # accidents are more common away from the routine (the long-tail situations are not routine)
    assert history.loc[history["long_tail"], "accidental"].mean() > history.loc[~history["long_tail"], "accidental"].mean()
    # the long tail is rare in the history and common among test cases
    assert history["long_tail"].mean() < 0.08
    assert 0.35 <= rec.loc[rec["split"] == "test", "long_tail"].mean() <= 0.65
    clean = history[~history["accidental"]]
    assert (clean["true_need"] == clean["need"]).all()


def test_second_city_is_a_minority(world):
    share_b = (world.users["city"] == "cityB").mean()
    assert 0.1 <= share_b <= 0.3
    assert np.isin(world.users["persona"], range(8)).all()
