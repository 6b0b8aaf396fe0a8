"""GLASS case by case: the per-case frame and the featured-case rules (tiny tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench import compare
from workbench.glass import cases


def per_case(hits10: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"Hit@1": 0.0, "Hit@5": 0.0, "Hit@10": np.array(hits10, dtype=float)})


def test_case_frame_and_slices():
    test_cases = pd.DataFrame({"user": [7, 8, 9], "target": [0, 1, 2], "absent": [True, False, True],
                               "long history": [10, 50, 30]})
    frame = cases.case_frame({"tiger": per_case([0, 1, 0]), "glass": per_case([1, 1, 0])}, test_cases)
    assert frame.variants == {"tiger": "TIGER", "glass": "GLASS"}
    r = compare.compare_pair(frame, "glass", "tiger", "Hit@10", "absent topic")
    assert (r.both, r.only_a, r.only_b, r.neither) == (0, 1, 0, 1)
    assert set(compare.in_slice(frame, "long history (top half)")["case"]) == {1, 2}


def test_hard_search_rule_needs_the_target_in_the_bucket_of_its_c1():
    items = pd.DataFrame({"item": [0, 1, 2], "c1": [3, 3, 5]})
    test_cases = pd.DataFrame({"user": [1, 2], "target": [0, 2], "absent": [True, True], "long history": [5, 5]})
    beams = {s: pd.DataFrame({"case": [0, 0, 1, 1], "rank": [1, 2, 1, 2], "item": items_, "c1": c1})
             for s, items_, c1 in (("tiger", [2, 1, 1, 0], [5, 3, 3, 3]), ("glass", [1, 0, 0, 2], [3, 3, 3, 5]))}
    # case 0's bucket for c1=3 holds its target (item 0); case 1's bucket for c1=5 is empty
    walk = {"bucket_offsets": np.array([0, 1, 1]), "bucket_codes": np.array([3]), "bucket_items": np.array([[0, -1]])}
    featured = cases.featured_cases({"tiger": per_case([0, 0]), "glass": per_case([1, 1])}, test_cases, items, beams, walk)
    hard = featured[0]
    assert hard.case == 0 and "c1=3 bucket" in hard.reason and "ranks it #2" in hard.reason
    assert "first code was 5" in hard.reason and (hard.a, hard.b) == ("glass", "tiger")
    assert featured[1].case == 1 and "absent topic" in featured[1].reason
