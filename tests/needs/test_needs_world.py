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


def test_coupling_zero_is_the_world_before_the_dial():
    """The dial draws from its own generator: at 0 every table is the one the code before the dial
    made (the digest below was printed by commit b003c27's ``generate_world`` with the same spec)."""
    import hashlib

    data = generate_world(WorldSpec(users=60, min_records=20, max_records=25, coupling=0.0), seed=5)
    text = "".join(t.to_csv(index=False) for t in (data.records, data.merchants, data.users))
    assert hashlib.sha256(text.encode()).hexdigest() == "296247dcd11709ddb197e9fd20c6faefd71ef2d3c2bc5cf033475da37ee308b8"
    assert "outcome" not in data.records


def test_each_planted_dependence_rises_with_the_dial():
    from workbench.needs.dependence import MEASURES, planted

    measured = [planted(generate_world(WorldSpec(users=200, coupling=c), seed=2).records) for c in (0.0, 0.5, 1.0)]
    for name in MEASURES:
        low, mid, high = (m[name] for m in measured)
        assert low < mid < high, (name, low, mid, high)
    assert measured[0]["need | last outcome"] == 0.0  # no outcome below the dial, nothing to depend on
    assert measured[2]["category | context"] > measured[0]["category | context"] + 0.3


def test_a_coupled_world_keeps_its_tables_consistent_and_shows_the_last_outcome():
    from workbench.needs import prompts

    data = generate_world(WorldSpec(users=40, min_records=20, max_records=22, coupling=1.0), seed=1)
    data.validate()
    rec = data.records
    assert rec["category"].map(data.category_need).eq(rec["need"]).all()
    assert set(rec["outcome"]) == {"good", "bad"}
    pop = prompts.Popularity.from_records(rec[rec["split"] != "test"], data.merchants)
    cases = prompts.build_cases(data, rec, rec["split"] == "test", rec["split"] != "test", pop, 4, 3, 5)
    previous = rec[rec["t"] == rec.groupby("user")["t"].transform("max") - 1].set_index("user")
    for case in cases.itertuples():
        assert f"last {previous.loc[case.user, 'need_text']} {previous.loc[case.user, 'outcome']} pat" in case.prompt
