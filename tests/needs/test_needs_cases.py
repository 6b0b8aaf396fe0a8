"""Method 1 case by case: the per-case frame, habit lines, and the featured-case rules (tiny tables)."""

from __future__ import annotations

import pandas as pd

from workbench import compare
from workbench.needs import cases


def predictions() -> pd.DataFrame:
    """Two variants on four records: record 1 is in-city long-tail, record 3 cross-city."""
    rows = []
    for variant, need_ok, hit1, rr in (("full", [1, 1, 0, 1], [0, 1, 0, 1], [0.5, 1, 0, 1]),
                                       ("isolated", [1, 0, 1, 0], [1, 0, 0, 0], [1, 0.2, 0, 0])):
        for i in range(4):
            rows.append({"seed": 0, "variant": variant, "record": 10 + i, "user": f"u{i}", "city": "A",
                         "slice_set": "cross_city" if i == 3 else "test", "long_tail": i == 1, "need_text": "lunch",
                         "need_ok": float(need_ok[i]), "category_ok": 1.0, "hit1": hit1[i], "hit3": 1, "rr": rr[i]})
    return pd.DataFrame(rows)


def test_case_frame_outcomes_and_slices():
    frame = cases.case_frame(predictions(), {"isolated": "", "full": ""})
    assert list(frame.variants) == ["isolated", "full"]  # the labels' order
    r = compare.compare_pair(frame, "full", "isolated", "need")
    assert (r.both, r.only_a, r.only_b, r.neither) == (1, 2, 1, 0)
    assert set(compare.in_slice(frame, "long tail")["case"]) == {11}
    assert set(compare.in_slice(frame, "cross-city")["case"]) == {13}
    assert set(compare.in_slice(frame, "in-city")["case"]) == {10, 11, 12}


def test_habit_lines_differ_between_clustered_and_raw_prompts():
    case = pd.Series({"prompt": "ctx a b pat r1 x y x3 ; r2 z w x1 ans",
                      "prompt_raw": "ctx a b pat r1 x y x3 ; r2 q q x1 ans"})
    assert cases.habit_lines(case["prompt"]) == ["r1 x y x3", "r2 z w x1"]
    diff = cases.habit_diff(case, "clustered_sft", "raw_sft")
    assert diff["habit line"].tolist()[:2] == ["r2 z w x1", "r2 q q x1"]  # the differing lines first
    assert diff.iloc[-1].tolist() == ["r1 x y x3", "✓", "✓"]
    assert cases.habit_diff(case, "popularity", "history").empty  # baselines read no prompt


def test_featured_rules_pick_the_cases_their_reasons_state():
    records = pd.DataFrame({"user": ["u2"] * 4 + ["u0"] * 2, "split": ["train"] * 6,
                            "kept": [False, False, True, False, True, True],
                            "accidental": [True, True, True, False, False, False]})
    featured = cases.featured_cases(predictions(), records)
    second = next(f for f in featured if "ranks the true merchant second" in f.reason)
    assert second.case == 10 and (second.a, second.b) == ("full", "isolated")  # right need + category, rr 0.5
    misread = next(f for f in featured if "misreads the need" in f.reason)
    assert misread.case in (11, 13)  # full: need and merchant right; isolated: need wrong
    caught = next(f for f in featured if "planted one-off orders" in f.reason)
    assert caught.case == 12 and "caught 2 of this user's 3" in caught.reason and "dropped 1 ordinary record" in caught.reason
    assert len({f.case for f in featured}) == len(featured)  # each case featured once
    assert all(isinstance(f.case, int) for f in featured)


def test_docstring_examples():
    import doctest

    assert doctest.testmod(cases).failed == 0


def test_stage_breakdown_reads_in_city_cases_and_its_first_failures_add_up():
    p = predictions()
    p["failed_stage"] = [{(1, 1): "none", (1, 0): "service", (0, 0): "need"}[(int(n), h)] for n, h in zip(p["need_ok"], p["hit1"])]
    table = cases.stage_breakdown(p, ["isolated", "full"])
    assert table.index.tolist() == ["isolated", "full"] and (table["cases"] == 3).all()  # record 13 is cross-city
    assert table.loc["full", "need right"] == table.loc["isolated", "need right"] == round(2 / 3, 3)
    assert table.loc["full", "HR@1 | need, category right"] == 0.5  # records 10, 11: a miss, then a hit
    assert table.loc["isolated", "HR@1 | need, category right"] == 0.5  # records 10, 12
    shares = table[[c for c in table if c.startswith("first fails") or c == "right throughout"]].sum(axis=1)
    assert ((shares - 1).abs() <= 0.002).all()  # shares are rounded to 3 places
