"""Reward functions on hand-made completions, malformed ones included; never a crash, always in [0, 1]."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.needs import rewards
from workbench.needs.rewards import (RewardVocab, category_score, format_score, full_path_score, need_exact_score,
                                     need_semantic_score, rerank_score, reward_functions, service_score)

VOCAB = RewardVocab(
    phrase_need={"breakfast": "breakfast", "brekkie": "breakfast", "lunch": "lunch", "midday_meal": "lunch"},
    need_categories={"breakfast": {"bakery", "congee_shop"}, "lunch": {"fast_food"}},
    merchants={"mA1", "mA2", "mA3"},
)
GOOD = "{ need : brekkie } { category : bakery } { services : [ mA2 mA1 mA3 ] }"


@pytest.mark.parametrize("text, expected", [
    (GOOD, 1.0),
    ("{ need : brekkie } { category : fast_food } { services : [ mA2 ] }", 0.5),   # category of another need
    ("{ need : brekkie } { category : bakery } { services : [ mZ9 ] }", 0.5),     # merchant does not exist
    ("{ need : brekkie } { category : bakery } { services : [ mA1 mA1 ] }", 0.5), # repeated merchant
    ("{ need : brekkie } { category : bakery }", 0.0),                            # stops early
    ("{ need : brekkie } { category : bakery } { services : [ ] }", 0.0),         # empty list
    ("{ need brekkie }", 0.0), ("", 0.0), ("] ] } {", 0.0),
])
def test_format(text, expected):
    assert format_score(text, VOCAB) == expected


def test_exact_vs_semantic_need():
    assert need_exact_score(GOOD, "brekkie") == 1.0
    assert need_exact_score(GOOD, "breakfast") == 0.0, "a paraphrase is not an exact match"
    assert need_semantic_score(GOOD, "breakfast", VOCAB) == 1.0, "but it is the same need"
    assert need_semantic_score(GOOD, "lunch", VOCAB) == 0.0
    assert need_semantic_score("{ need : unknown_phrase }", "lunch", VOCAB) == 0.0


def test_category_service_and_full_path():
    assert category_score(GOOD, "bakery") == 1.0 and category_score(GOOD, "congee_shop") == 0.0
    assert [service_score(GOOD, m) for m in ("mA2", "mA1", "mA3", "mZ9")] == [1.0, 0.5, pytest.approx(1 / 3), 0.0]
    assert full_path_score(GOOD, "breakfast", "bakery", "mA1", VOCAB) == 0.5
    assert full_path_score(GOOD, "lunch", "bakery", "mA1", VOCAB) == 0.0
    assert full_path_score(GOOD, "breakfast", "congee_shop", "mA2", VOCAB) == 0.0


def test_curriculum_switches_rewards_on_and_observers_do_not_train():
    funcs, weights = rewards.reward_functions(VOCAB, {"format": 0.0, "service": 0.5}, observe=("need_exact",))
    assert [f.__name__ for f in funcs] == ["format", "service", "need_exact"] and weights == [1.0, 1.0, 0.0]

    class State:
        global_step, max_steps = 2, 10

    kwargs = dict(prompts=["p", "p"], completions=[GOOD, "garbage"], need_text=["brekkie"] * 2,
                  category=["bakery"] * 2, merchant=["mA2"] * 2, trainer_state=State())
    assert [f(**kwargs) for f in funcs] == [[1.0, 0.0], [None, None], [1.0, 0.0]]
    State.global_step = 5
    assert funcs[1](**kwargs) == [1.0, 0.0]
    with pytest.raises(ValueError):
        rewards.reward_functions(VOCAB, {"no_such_reward": 0.0})


def test_a_gated_reward_switches_on_once_the_earlier_stage_stops_rising_and_stays_on():
    funcs, _ = rewards.reward_functions(VOCAB, {"need_semantic": 0.0, "category": 0.9}, gates={"category": "need_semantic"},
                                        patience=2)
    need, category = funcs

    class State:
        global_step, max_steps = 0, 100

    right = dict(prompts=["p"], completions=[GOOD], need_text=["breakfast"], category=["bakery"], merchant=["mA2"],
                 trainer_state=State())
    wrong = {**right, "completions": ["garbage"]}
    seen = []
    for step, case in enumerate([wrong, wrong, right, right, right, right]):  # need reward 0, 0, 1, 1, 1, 1
        State.global_step = step
        need(**case)
        seen.append(category(**case))
    # rising (0, 0 -> 1, 1) keeps it off; level (1, 1 -> 1, 1) at the sixth step turns it on, far before 90%
    assert seen == [[None], [None], [None], [None], [None], [1.0]]
    need(**wrong)  # the need reward falls again: the category stays on
    assert category(**wrong) == [0.0]
    never, _ = rewards.reward_functions(VOCAB, {"need_semantic": 0.0, "category": 0.9}, gates={"category": "need_semantic"})
    State.global_step = 50
    for _ in range(6):  # patience 0: only the fraction counts
        never[0](**right)
        assert never[1](**right) == [None]
    with pytest.raises(ValueError):
        rewards.reward_functions(VOCAB, {"category": 0.5}, gates={"category": "no_such_reward"}, patience=2)


def test_a_stage_never_starts_before_the_stage_it_waits_for():
    schedule = {"need_semantic": 0.0, "category": 0.9, "service": 0.95}
    (need, category, service), _ = rewards.reward_functions(
        VOCAB, schedule, gates={"category": "need_semantic", "service": "category"}, patience=1)

    class State:
        global_step, max_steps = 0, 100

    need_only = "{ need : brekkie } { category : congee_shop } { services : [ mA2 ] }"  # right need, wrong category
    steps = [["garbage", "garbage"], [GOOD, "garbage"], [GOOD, need_only], [GOOD, need_only]]
    seen = []
    for step, completions in enumerate(steps):  # need reward 0, .5, 1, 1; category reward 0, .5, .5, .5
        State.global_step = step
        call = dict(prompts=["p"] * 2, completions=completions, need_text=["breakfast"] * 2, category=["bakery"] * 2,
                    merchant=["mA2"] * 2, trainer_state=State())
        seen.append((need(**call), category(**call), service(**call)))
    # step 2: the category reward has plateaued (.5, .5) but is not on — the need is still rising — so
    # the service waits; step 3: the need plateaus, the category switches on, and the service with it
    assert [(c, s) for _, c, s in seen] == [([None] * 2, [None] * 2)] * 3 + [([1.0, 0.0], [1.0, 1.0])]


words = st.sampled_from(["{", "}", "[", "]", ":", "need", "category", "services", "brekkie", "lunch", "bakery",
                         "fast_food", "mA1", "mA2", "mZ9", "x", ""])


@settings(max_examples=200, deadline=None)
@given(st.lists(words, max_size=20), st.sampled_from(sorted(VOCAB.phrase_need)))
def test_any_text_scores_in_unit_interval(tokens, target):
    text = " ".join(tokens)
    scores = [format_score(text, VOCAB), need_exact_score(text, target), need_semantic_score(text, target, VOCAB),
              category_score(text, "bakery"), service_score(text, "mA1"),
              full_path_score(text, target, "bakery", "mA1", VOCAB)]
    assert all(0.0 <= s <= 1.0 for s in scores)


BLOCK = "{ need : brekkie } { category : bakery } { cands : c1 mA1 x3 ago1 r2 ; c2 mA2 x1 ago4 r1 ; c3 mA3 x0 never r0 }"


@pytest.mark.parametrize("services, target, expected", [
    ("c2 c1 c3", "mA2", 0.5),          # promoted 2nd -> 1st: 1 - 1/2, written by slot
    ("mA2 mA1 mA3", "mA2", 0.5),       # the same, written by merchant id
    ("mA3 mA1 mA2", "mA3", 1 - 1 / 3),  # promoted 3rd -> 1st
    ("mA1 mA2 mA3", "mA2", 0.0),       # the given order kept: copying earns nothing
    ("mA1 mA2 mA3", "mA1", 0.0),       # kept, even though it is a hit
    ("mA2 mA1 mA3", "mA1", -0.5),      # demoted 1st -> 2nd
    ("c2 c3", "mA1", -1.0),            # the given top dropped
    ("c1 c2 c9", "mA2", 0.0),          # a slot the block does not have stays a word, not a merchant
    ("mA1 mA2 mA3", "mA9", 0.0),       # the order's merchant is in neither list
    ("mA9 mA1 mA2", "mA9", 1.0),       # found a merchant the tool did not give
])
def test_rerank_pays_only_the_gain_over_the_given_order(services, target, expected):
    text = f"{BLOCK} {{ services : [ {services} ] }}"
    assert rerank_score(text, target) == pytest.approx(expected)
    assert rerank_score(text, target) == rerank_score(text, target)  # pure: nothing is kept between calls


def test_rerank_is_zero_without_a_block_or_a_parse():
    assert rerank_score("{ need : brekkie } { category : bakery } { services : [ mA1 ] }", "mA1") == 0.0
    assert rerank_score(BLOCK + " { services : [", "mA1") == 0.0
    assert rerank_score("garbage", "mA1") == 0.0


def test_the_full_framework_trains_on_rerank_instead_of_the_absolute_hit_with_the_block():
    from workbench.needs.variants import REGISTRY

    schedule, gates = REGISTRY["full"].rewards(True)
    assert "service" not in schedule and schedule["rerank"] == REGISTRY["full"].schedule["service"]
    assert gates["rerank"] == "category"
    fns, weights = reward_functions(VOCAB, schedule, observe=("service",), gates=gates)
    assert [f.__name__ for f in fns] == [*schedule, "service"] and weights[-1] == 0.0
    call = dict(prompts=["p"], completions=[f"{BLOCK} {{ services : [ c2 c1 ] }}"], need_text=["brekkie"],
                category=["bakery"], merchant=["mA2"])
    assert fns[list(schedule).index("rerank")](**call) == [0.5]
