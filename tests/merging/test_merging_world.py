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
