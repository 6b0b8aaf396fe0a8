"""Prompts and completions: the chain text round-trips, prompts only see the past, candidates are right."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.needs import prompts
from workbench.needs.world import WorldSpec, generate_world

word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(word, word, st.lists(word, min_size=1, max_size=4))
def test_chain_text_round_trips(need, category, services):
    chain = prompts.parse_chain(prompts.chain_text(need, category, services))
    assert chain == prompts.Chain(need, category, tuple(services))
    assert prompts.parse_chain(prompts.chain_text(services=services)) == prompts.Chain(services=tuple(services))
    full = prompts.chain_text(need, category, services)
    assert prompts.parse_chain(prompts.curriculum_completion(full, "need")) == prompts.Chain(need)


@pytest.mark.parametrize("text", ["", "{ need : }", "{ need : a } { services : [ b ] }", "{ need : a b }",
                                  "{ need : a } { category : b } { services : [ c ]", "need : a"])
def test_malformed_chains_do_not_parse(text):
    assert prompts.parse_chain(text) is None


@pytest.fixture(scope="module")
def world_cases():
    data = generate_world(WorldSpec(users=30, min_records=20, max_records=24), seed=2)
    rec = data.records
    pop = prompts.Popularity.from_records(rec[rec["split"] != "test"], data.merchants)
    cases = prompts.build_cases(data, rec, rec["split"] != "test", rec["split"] != "test", pop, history_size=4,
                                n_popular=3, flat_popular=5, keep_pool=True)
    return data, rec, cases


def test_prompts_only_see_the_users_past(world_cases):
    data, rec, cases = world_cases
    by_key = rec.set_index(["user", "t"])
    for case in cases.sample(40, random_state=0).itertuples():
        earlier = rec[(rec["user"] == case.user) & (rec["t"] < case.t)]
        assert len(case.pool_merchants) == len(earlier)
        lines = case.prompt.split(" pat ")[1].removesuffix(" ans").split(" ; ") if " pat ans" not in case.prompt else []
        assert len(lines) <= 4
        for line in lines:
            match, hour, scene, phrase, category, merchant, count = line.split()
            seen = earlier[(earlier["hour_bin"] == hour) & (earlier["scene"] == scene) & (earlier["merchant"] == merchant)]
            assert len(seen) == min(int(count[1:]), 9) or count == "x9", line
            assert match == f"r{int(scene == case.scene) + int(hour == case.hour_bin)}"
        assert by_key.loc[(case.user, case.t), "merchant"] == case.merchant
        assert prompts.parse_chain(case.completion).services[0] == case.merchant


def test_candidates_put_the_users_own_merchants_first(world_cases):
    data, rec, cases = world_cases
    case = cases.iloc[-1]
    own = prompts.own_merchants(np.array(case.pool_categories), np.array(case.pool_merchants), case.category)
    pop = prompts.Popularity.from_records(rec[rec["split"] != "test"], data.merchants)
    cands = prompts.candidates(own, case.city, case.category, pop, n_popular=3)
    assert cands[:len(own)] == own and len(set(cands)) == len(cands)
    assert set(cands) <= set(data.merchants.loc[data.merchants["category"] == case.category, "merchant"])


def test_the_evidence_block_lists_the_users_best_merchants_with_their_counts(world_cases):
    data, rec, _ = world_cases
    pop = prompts.Popularity.from_records(rec[rec["split"] != "test"], data.merchants)
    cases = prompts.build_cases(data, rec, rec["split"] == "test", rec["split"] != "test", pop, history_size=4,
                                n_popular=3, flat_popular=5, keep_pool=True, evidence=6)
    category_of = data.merchants.set_index("merchant")["category"]
    for case in cases.itertuples():
        earlier = rec[(rec["user"] == case.user) & (rec["t"] < case.t)]
        block = case.prompt.split(" own ")[1].removesuffix(" ans")
        listed = []
        for group in block.split(" ; "):
            category, *entries = group.split()
            for merchant, count in zip(entries[::2], entries[1::2]):
                assert category_of[merchant] == category
                assert count == f"x{min((earlier['merchant'] == merchant).sum(), 9)}"
                listed.append(merchant)
        at_place = earlier[earlier["scene"] == case.scene]["merchant"].value_counts()
        best = max(set(earlier["merchant"]), key=lambda m: (at_place.get(m, 0), (earlier["merchant"] == m).sum(),
                                                            earlier.loc[earlier["merchant"] == m, "t"].max()))
        assert len(listed) == min(6, earlier["merchant"].nunique())
        assert block.split(" ; ")[-1].split()[1] == best  # the best merchant: last group, first after its name


def test_no_evidence_leaves_the_prompt_as_it_was(world_cases):
    data, rec, cases = world_cases
    assert not cases["prompt"].str.contains(" own ").any()


def test_the_docstring_examples_hold():
    import doctest

    assert doctest.testmod(prompts).failed == 0
