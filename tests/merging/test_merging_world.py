"""The arithmetic world: exact verifier, the two answer styles, tolerant answer extraction."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.merging import world


def python_value(problem: world.Problem) -> int:
    return eval(problem.text)  # noqa: S307 — digits and + - * only, generated here


def test_problems_are_seeded_balanced_and_exact():
    first, again = world.make_problems(300, seed=4), world.make_problems(300, seed=4)
    assert first == again and first != world.make_problems(300, seed=5)
    assert sorted({p.n_ops for p in first}) == [1, 2, 3, 4, 5, 6]
    assert all(sum(p.n_ops == k for p in first) == 50 for k in range(1, 7))
    for p in first:
        assert p.answer == python_value(p)
        assert all(0 <= step[3] <= world.MAX_VALUE for step in world.solution_steps(p.tokens))
        ops = p.tokens[1::2]
        assert not any(x == y == "*" for x, y in zip(ops, ops[1:]))  # products stay two-digit


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_both_styles_end_in_the_right_answer(seed):
    p = world.make_problems(1, seed=seed, difficulties=[random.Random(seed).randint(1, 6)])[0]
    assert world.is_correct(p, world.direct_completion(p))
    rng = random.Random(seed)
    text = world.thinking_completion(p, rechecks=rng.randint(0, 3), rng=rng)
    assert world.is_correct(p, text) and world.is_thinking(text)
    assert not world.is_thinking(world.direct_completion(p))
    steps = text.split(world.THINK_CLOSE)[0].count(";") - world.count_rechecks(text)
    assert steps == p.n_ops


def test_rechecks_restate_the_final_step():
    p = world.Problem(0, tuple("3+2*3-1".replace("", " ").split()))
    text = world.thinking_completion(p, rechecks=3)
    assert world.count_rechecks(text) == 3
    final = world.step_words(world.solution_steps(p.tokens)[-1])
    assert text.count(f"check {final}") == 3 and text.endswith(f"check {final} </think> A : 8")


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(), st.lists(st.sampled_from(list(world.VOCAB) + ["x", "-", ""]), max_size=30).map(" ".join)))
def test_extraction_never_raises(text):
    value = world.extract_answer(text)
    assert value is None or isinstance(value, int)
    p = world.Problem(0, ("1", "+", "2"))
    assert world.is_correct(p, text) in (True, False)


def test_malformed_outputs_are_wrong_not_errors():
    p = world.Problem(0, ("9", "-", "2"))
    for text in ["", "A :", "A : ;", "<think> 9 - 2 = 7 ;", "A : 7 7 7 x", "A : 7 ;", None, "A : - -7"]:
        assert world.is_correct(p, text) is False
    assert world.is_correct(p, "<think> 9 - 2 = 7 ; </think> A : 7")
    assert world.is_correct(p, "A: 7")
    assert world.extract_answer("A : 3 A : 1 2") == 12  # the last answer counts


# ---- the overthinking dial ------------------------------------------------------------------------------
def test_dial_zero_writes_todays_thinking_traces():
    """Dial 0 consumes the same random stream as before the dial existed: the same training traces."""
    from workbench.merging.parents import thinking_pairs

    problems = world.make_problems(300, seed=3)
    rng = random.Random(7)  # the traces as written before the dial: one randint per problem, no drift
    before = [(world.prompt(p), world.thinking_completion(p, rng.randint(1, 3), rng)) for p in problems]
    assert thinking_pairs(problems, 1, 3, 7) == before
    assert thinking_pairs(problems, 1, 3, 7, overthink=0.0) == before


def test_raising_the_dial_plants_drift_extra_rechecks_and_a_shorter_budget():
    from workbench.merging.parents import thinking_pairs

    problems = world.make_problems(3000, seed=3)
    by_prompt = {world.prompt(p): p for p in problems}
    for dial in (0.5, 1.0):
        planted = world.Overthinking(dial)
        pairs = thinking_pairs(problems, 1, 3, 7, overthink=dial)
        counts = [world.count_rechecks(c) for _, c in pairs]
        assert max(counts) == 3 + planted.extra_rechecks and min(counts) == 1
        kinds = [world.error_kind(by_prompt[q], c) for q, c in pairs]
        assert set(kinds) <= {None, "drift"}  # a trace goes wrong only by drifting
        # each re-check drifts with the planted chance, so a trace with k re-checks ends wrong w.p. 1-(1-r)^k
        expected = sum(1 - (1 - planted.drift_rate) ** k for k in counts) / len(counts)
        assert abs(kinds.count("drift") / len(kinds) - expected) < 0.03
        easy = [k for (q, _), k in zip(pairs, counts) if by_prompt[q].n_ops == 1]
        hard = [k for (q, _), k in zip(pairs, counts) if by_prompt[q].n_ops == 6]
        assert abs(sum(easy) / len(easy) - sum(hard) / len(hard)) < 0.3  # easy problems are re-checked as long
    assert [world.Overthinking(d).budget_rechecks for d in (0.0, 0.5, 1.0)] == [5, 4, 3]
    # the base draws of the traces do not move with the dial: only the dial's own stream is added
    plain = [world.count_rechecks(c) for _, c in thinking_pairs(problems, 1, 3, 7)]
    assert all(k >= k0 for k, k0 in zip([world.count_rechecks(c) for _, c in thinking_pairs(problems, 1, 3, 7, 1.0)], plain))


def test_a_budget_cut_truncates_the_longest_thinking():
    from workbench.merging.evaluate import token_budget

    p = world.Problem(0, ("3", "+", "4", "*", "2"))
    long = world.thinking_completion(p, 5)
    assert len(long.split()) <= token_budget([p], 5)
    assert len(long.split()) > token_budget([p], world.Overthinking(1.0).budget_rechecks)
    cut = " ".join(long.split()[: token_budget([p], 3)])
    assert world.error_kind(p, cut) == "truncated"


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10**6), rechecks=st.integers(1, 6), at=st.integers(0, 5))
def test_a_drifted_trace_had_the_answer_and_ends_wrong(seed, rechecks, at):
    p = world.make_problems(1, seed=seed, difficulties=(1 + seed % 6,))[0]
    text = world.thinking_completion(p, rechecks, drift_at=at)
    if at < rechecks:
        assert world.extract_answer(text) == world.drifted(p.answer) != p.answer
        assert world.error_kind(p, text) == "drift"
    else:
        assert world.is_correct(p, text) and world.error_kind(p, text) is None
