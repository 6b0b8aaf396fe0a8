"""workbench.compare: the 2 × 2 table, McNemar's exact test, slices, the disagreement list."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from workbench import compare
from workbench.compare import ALL, CaseFrame
from workbench.errors import WorkbenchError


def frame_of(a: list, b: list, group: list | None = None, tokens: tuple[list, list] | None = None) -> CaseFrame:
    """Two variants on the same cases (outcomes as given, in case order)."""
    n = len(a)
    rows = pd.DataFrame({"case": list(range(n)) * 2, "variant": ["a"] * n + ["b"] * n,
                         "correct": np.array(a + b, dtype=float), "group": (group or ["x"] * n) * 2})
    if tokens:
        rows["tokens"] = tokens[0] + tokens[1]
    return CaseFrame(rows, ("correct",), {"only y": ("group", "y")}, {"a": "A", "b": "B"}, show=("group",),
                     numbers=("tokens",) if tokens else ())


def test_two_by_two_counts_and_margins():
    #            both  only a  only b  neither
    a = [1] * 5 + [1] * 3 + [0] * 2 + [0] * 4
    b = [1] * 5 + [0] * 3 + [1] * 2 + [0] * 4
    r = compare.compare_pair(frame_of(a, b), "a", "b")
    assert (r.both, r.only_a, r.only_b, r.neither, r.n) == (5, 3, 2, 4, 14)
    table = r.table({"a": "A", "b": "B"})
    assert table.loc["A right", "B right"] == 5 and table.loc["A right", "B wrong"] == 3
    assert table.loc["A wrong", "B right"] == 2 and table.loc["A wrong", "B wrong"] == 4
    assert table.loc["total", "total"] == 14 and table.loc["A right", "total"] == 8
    assert r.a_rate == pytest.approx(8 / 14) and r.b_rate == pytest.approx(7 / 14)
    assert r.diff == pytest.approx(1 / 14) and r.low <= r.diff <= r.high


def test_mcnemar_exact_on_a_known_example():
    # 10 discordant cases split 1 : 9 -> two-sided exact p = 2 * (C(10,0) + C(10,1)) / 2**10 = 22/1024
    assert compare.mcnemar_exact(1, 9) == pytest.approx(22 / 1024)
    assert compare.mcnemar_exact(9, 1) == pytest.approx(22 / 1024)
    assert compare.mcnemar_exact(5, 5) == pytest.approx(1.0)
    assert compare.mcnemar_exact(0, 0) == 1.0
    r = compare.compare_pair(frame_of([1] * 4 + [1] + [0] * 9, [1] * 4 + [0] + [1] * 9), "a", "b")
    assert r.p_value == pytest.approx(22 / 1024) and "p = 0.021" in r.sentence()


def test_concordant_cases_do_not_change_mcnemar():
    base = compare.compare_pair(frame_of([1, 0, 0], [0, 1, 1]), "a", "b")
    padded = compare.compare_pair(frame_of([1, 0, 0] + [1] * 20 + [0] * 20, [0, 1, 1] + [1] * 20 + [0] * 20), "a", "b")
    assert base.p_value == padded.p_value and padded.both == 20 and padded.neither == 20


def test_slice_filter_counts_only_its_cases():
    a, b = [1, 1, 0, 0, 1, 0], [0, 1, 1, 0, 0, 0]
    group = ["y", "y", "y", "x", "x", "x"]
    frame = frame_of(a, b, group)
    r = compare.compare_pair(frame, "a", "b", slice_name="only y")
    assert (r.both, r.only_a, r.only_b, r.neither) == (1, 1, 1, 0)
    assert set(compare.in_slice(frame, "only y")["group"]) == {"y"}
    assert len(compare.in_slice(frame, ALL)) == 12
    with pytest.raises(WorkbenchError, match="Unknown slice"):
        compare.in_slice(frame, "nope")


def test_disagreements_list_a_wins_first_with_shown_columns():
    frame = frame_of([0, 1, 1, 0], [1, 0, 1, 0], ["x", "y", "x", "y"])
    d = compare.disagreements(frame, "a", "b")
    assert d["case"].tolist() == [1, 0]
    assert d["right"].tolist() == ["A only", "B only"] and d["group"].tolist() == ["y", "x"]


def test_cases_without_an_outcome_are_left_out_of_the_pair():
    frame = frame_of([1, 0, 1], [1, 1, 0])
    frame.cases.loc[(frame.cases["variant"] == "b") & (frame.cases["case"] == 2), "correct"] = np.nan
    r = compare.compare_pair(frame, "a", "b")
    assert r.n == 2 and (r.both, r.only_b) == (1, 1)


def test_numbers_are_compared_as_means_on_the_same_cases():
    frame = frame_of([1, 1], [1, 0], tokens=([10, 30], [40, 60]))
    r = compare.compare_pair(frame, "a", "b")
    assert r.means == {"tokens": (20.0, 50.0)} and "Mean tokens: A 20.0 vs B 50.0" in r.sentence({"a": "A", "b": "B"})


def test_unknown_variant_or_outcome_is_one_clear_error():
    frame = frame_of([1], [0])
    with pytest.raises(WorkbenchError, match="Unknown variant 'c'"):
        compare.compare_pair(frame, "a", "c")
    with pytest.raises(WorkbenchError, match="Unknown outcome"):
        compare.compare_pair(frame, "a", "b", outcome="tokens")


def test_empty_slice_gives_an_empty_comparison():
    r = compare.compare_pair(frame_of([1, 0], [0, 1]), "a", "b", slice_name="only y")
    assert r.n == 0 and r.p_value == 1.0 and "No case" in r.sentence()


def test_case_rows_gives_each_variants_row():
    rows = compare.case_rows(frame_of([1, 0], [0, 1]), 1, ["a", "b", "c"])
    assert rows["a"]["correct"] == 0 and rows["b"]["correct"] == 1 and rows["c"] is None


def test_docstring_examples():
    assert doctest.testmod(compare).failed == 0
