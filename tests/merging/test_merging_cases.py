"""Merges case by case: setting names, the per-output frame, the featured merge and cases (tiny tables)."""

from __future__ import annotations

import pandas as pd

from workbench import compare
from workbench.merging import cases


def outputs() -> pd.DataFrame:
    """Three settings (thinking parent, direct parent, one merge) on two problems x two samples."""
    rows = []
    table = {("linear", 0.0): ([1, 1, 1, 1], [40, 40, 60, 60]), ("linear", 1.0): ([1, 0, 0, 0], [4, 4, 5, 5]),
             ("ties", 0.5): ([1, 1, 0, 1], [20, 22, 30, 30])}
    for (method, strength), (correct, tokens) in table.items():
        for i, (p, s) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            rows.append({"seed": 0, "method": method, "strength": strength, "problem": p, "sample": s, "n_ops": 1 + 4 * p,
                         "correct": bool(correct[i]), "tokens": tokens[i], "thinking": method != "linear" or strength == 0})
    return pd.DataFrame(rows)


def summary() -> pd.DataFrame:
    return pd.DataFrame({"method": ["linear", "linear", "ties"], "strength": [0.0, 1.0, 0.5],
                         "accuracy": [1.0, 0.25, 0.75], "tokens": [50.0, 4.5, 25.5]})


def test_settings_round_trip_and_name_the_parents():
    assert cases.parse_setting(cases.setting("dare_ties", 0.425)) == ("dare_ties", 0.425)
    labels = cases.setting_labels(summary())
    assert labels == {"linear λ=0": "linear λ=0 (thinking parent)", "linear λ=1": "linear λ=1 (direct parent)",
                      "ties λ=0.5": "ties λ=0.5"}


def test_outputs_are_paired_by_problem_and_sample():
    frame = cases.case_frame(outputs(), summary())
    r = compare.compare_pair(frame, "ties λ=0.5", "linear λ=0")
    assert (r.both, r.only_a, r.only_b, r.neither) == (3, 0, 1, 0)
    assert r.means["tokens"] == (25.5, 50.0)
    assert set(compare.in_slice(frame, "5 operations")["problem"]) == {1}


def test_featured_merge_and_cases():
    frame = cases.case_frame(outputs(), summary())
    assert cases.featured_setting(summary()) == "ties λ=0.5"  # the only non-parent setting, at half the tokens
    examples = pd.DataFrame({"method": ["ties"], "strength": [0.5], "problem": [0]})
    featured = cases.featured_cases(frame, summary(), examples)
    fewer = next(f for f in featured if "fewer tokens" in f.reason)
    assert fewer.case == "0/0" and "50% fewer" in fewer.reason  # the output whose text is stored comes first
    solves = next(f for f in featured if "direct parent answers it wrong" in f.reason)
    assert solves.case == "1/1" and solves.b == "linear λ=1"  # the hardest problem first
    loss = next(f for f in featured if "a loss for the merge" in f.reason)
    assert loss.case == "1/0" and loss.b == "linear λ=0"


def test_a_drift_case_is_featured_when_a_stored_thinking_text_drifted():
    from workbench.merging import world

    frame_rows = outputs()
    # problem 1, sample 0: the thinking parent is wrong at 60 tokens, the merge right at 30
    hit = (frame_rows["problem"] == 1) & (frame_rows["sample"] == 0)
    frame_rows.loc[hit & (frame_rows["method"] == "linear") & (frame_rows["strength"] == 0.0), "correct"] = False
    frame_rows.loc[hit & (frame_rows["method"] == "ties"), "correct"] = True
    frame = cases.case_frame(frame_rows, summary())
    problem = world.Problem(1, ("3", "+", "4"))
    drifted = world.thinking_completion(problem, 2, drift_at=1)  # had 7, a re-check rewrote it to 8
    examples = pd.DataFrame({"method": ["linear", "ties"], "strength": [0.0, 0.5], "problem": [1, 1],
                             "text": [drifted, world.thinking_completion(problem, 0)]})
    featured = cases.featured_cases(frame, summary(), examples, {1: problem})
    drift = next(f for f in featured if f.reason.startswith("drift"))
    assert (drift.case, drift.a, drift.b) == ("1/0", "ties λ=0.5", "linear λ=0")
    # a thinking text that is merely wrong (no correct step before the re-check) is no drift case
    examples.loc[0, "text"] = "<think> 3 + 4 = 6 ; check 3 + 4 = 6 ; </think> A : 6"
    assert not any(f.reason.startswith("drift") for f in cases.featured_cases(frame, summary(), examples, {1: problem}))
    assert not any(f.reason.startswith("drift") for f in cases.featured_cases(frame, summary(), examples))
