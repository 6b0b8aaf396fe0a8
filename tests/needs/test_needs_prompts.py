"""Prompts and completions: the chain text round-trips, prompts only see the past, candidates are right."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
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


# ---- the candidate block (the ``candidates`` setting) ------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(word, word, st.lists(word, min_size=1, max_size=4, unique=True), st.lists(word, min_size=1, max_size=4))
@example("lunch", "ff", ["mA1", "mA2"], ["c9", "mA3"])
def test_a_chain_with_a_candidate_block_round_trips(need, category, given, services):
    slots = prompts.SLOT_WORDS[:len(given)]
    block = "{ cands : " + " ; ".join(f"{s} {m} x1 ago2 r0" for s, m in zip(slots, given)) + " }"
    services = [s for s in services if s not in prompts.SLOT_WORDS]
    chain = prompts.parse_chain(prompts.chain_text(need, category, services, block))
    assert chain == prompts.Chain(need, category, tuple(services), tuple(given))
    by_slot = prompts.parse_chain(prompts.chain_text(need, category, list(reversed(slots)), block))
    assert by_slot.services == tuple(reversed(given))  # slots name the block's merchants
    assert prompts.parse_chain(prompts.chain_text(need, category, block=block)).given == tuple(given)  # rollout midway
    full = prompts.chain_text(need, category, services, block)
    assert prompts.curriculum_completion(full, "category") == prompts.chain_text(need, category)


@pytest.fixture(scope="module")
def block_cases(world_cases):
    data, rec, _ = world_cases
    pop = prompts.Popularity.from_records(rec[rec["split"] != "test"], data.merchants)
    cases = prompts.build_cases(data, rec, rec["split"] != "test", rec["split"] != "test", pop, history_size=4,
                                n_popular=3, flat_popular=5, keep_pool=True, block_size=5)
    return data, rec, pop, cases


def test_the_candidate_block_gives_the_recommenders_order_with_each_merchants_uses_recency_and_match(block_cases):
    data, rec, pop, cases = block_cases
    for case in cases.sample(60, random_state=1).itertuples():
        earlier = rec[(rec["user"] == case.user) & (rec["t"] < case.t)].sort_values("t")
        chain = prompts.parse_chain(case.completion)
        block = case.completion.split("{ cands : ")[1].split(" }")[0]
        own = prompts.rank_own(earlier["category"].to_numpy(), earlier["merchant"].to_numpy(),
                               earlier["scene"].to_numpy(), case, case.category)
        popular = [m for m in pop.by_city_category[(case.city, case.category)][:3] if m not in own]
        assert list(chain.given) == (own + popular)[:5]  # the isolated recommender's order, then the popular ones
        assert chain.services[0] == case.merchant and set(chain.services[1:]) <= set(chain.given)
        for k, entry in enumerate(block.split(" ; ")):
            slot, merchant, count, recency, match = entry.split()
            assert slot == f"c{k + 1}"
            uses = earlier[earlier["merchant"] == merchant]
            assert count == f"x{min(len(uses), 9)}"
            ago = len(earlier) - int(np.flatnonzero(earlier["merchant"].to_numpy() == merchant)[-1]) if len(uses) else None
            assert recency == prompts.recency_word(ago)
            best = max(((uses["scene"] == case.scene).astype(int) + (uses["hour_bin"] == case.hour_bin)).tolist(), default=0)
            assert match == f"r{best}"


def test_the_candidate_block_tokenises_word_for_word_only_when_switched_on(block_cases):
    from workbench.needs import training

    data, _, _, cases = block_cases
    tok = training.make_tokenizer(data, 200, candidates=True)
    for text in cases["completion"].head(50):
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert tok.unk_token_id not in ids and len(ids) == len(text.split())
        assert tok.decode(ids) == text
    plain = training.make_tokenizer(data, 160)
    assert not set(prompts.BLOCK_WORDS) & set(plain.get_vocab())
    assert plain.get_vocab() == {w: i for w, i in tok.get_vocab().items() if w not in prompts.BLOCK_WORDS}


def test_without_the_block_cases_and_vocabulary_are_as_they_were(world_cases):
    """``candidates=0`` (the default) must leave every model input untouched: the cases (the default
    call and ``block_size=0`` are the same frame, no completion holds a block), the vocabulary, the
    GRPO rewards of every variant."""
    from workbench.needs import rewards, training, variants

    data, rec, cases = world_cases
    pop = prompts.Popularity.from_records(rec[rec["split"] != "test"], data.merchants)
    again = prompts.build_cases(data, rec, rec["split"] != "test", rec["split"] != "test", pop, history_size=4,
                                n_popular=3, flat_popular=5, keep_pool=True, block_size=0)
    pd.testing.assert_frame_equal(cases, again)
    assert not cases["completion"].str.contains("cands").any()
    assert training.domain_words(data) == training.domain_words(data, candidates=False)
    for v in variants.REGISTRY.values():
        assert v.rewards(False) == (dict(v.schedule), dict(v.gates))
        assert not set(v.rewards(False)[0]) & set(rewards.BLOCK_REWARDS)
