"""The overthinking study's combination of seeds: strict Pareto rows, tokens saved, verdict, drift case.

Results are made here (no training): per-problem scores of a thinking parent and merges whose true
effect is known, so each verdict has one right answer.
"""

from __future__ import annotations

import numpy as np
import pytest

from workbench.merging import overthink
from workbench.merging.overthink import GRID, SHARED, study

N = 300


def profile(acc: float) -> dict:
    return {"accuracy": acc, "tokens": 40.0, "drift_share": 0.5, "truncated_share": 0.2, "other_share": 0.3,
            "easy_tokens": 30.0, "easy_accuracy": 0.9}


def point(method: str, s: float, correct: np.ndarray, tokens: np.ndarray) -> dict:
    return {"method": method, "strength": s, "accuracy": float(correct.mean()), "tokens": float(tokens.mean()),
            "correct": correct.tolist(), "token_means": tokens.tolist()}


def result(seed: int, effect: dict[tuple[str, float], tuple[float, float]], dial: float = 0.5) -> dict:
    """One (dial, seed): the thinking parent right on 80% of problems at 40 tokens; each (method, λ)
    gains ``effect[(method, λ)] = (accuracy points, token share)`` (default: none)."""
    rng = np.random.default_rng(seed)
    parent_ok = rng.random(N) < 0.8
    parent_tok = rng.normal(40.0, 5.0, N)
    points = []
    for method, strengths in GRID.items():
        for s in strengths:
            d_acc, d_tok = effect.get((method, s), (0.0, 0.0))
            fixed = rng.random(N) < max(d_acc, 0.0) / 0.2  # turn that share of the parent's errors right
            broken = rng.random(N) < max(-d_acc, 0.0) / 0.8  # or that share of its right answers wrong
            ok = (parent_ok | fixed) & ~broken if s != 1.0 else rng.random(N) < 0.4
            tok = parent_tok * (1.0 + d_tok) if s != 1.0 else np.full(N, 3.0)
            points.append(point(method, s, ok.astype(float), tok))
    return {"dial": dial, "seed": seed, "n_problems": N, "samples": 1, "planted": {},
            "parents": {"thinking": profile(0.8), "direct": profile(0.4)}, "points": points, "drift_cases": []}


def test_a_clear_gain_is_strict_and_meets_the_goal_and_no_change_is_not():
    effect = {("linear", 0.1): (0.05, -0.2)}
    doc = study([result(s, effect) for s in range(3)], n_boot=200)
    rows = {(r["method"], r["strength"]): r for r in doc["rows"]}
    gain = rows["linear", 0.1]
    assert gain["strict"] and gain["goal"] and gain["d_accuracy"] == pytest.approx(0.05, abs=0.03)
    assert gain["d_tokens_rel"] == pytest.approx(-0.2, abs=1e-9)
    same = rows["ties", 0.1]
    assert not same["strict"] and not same["goal"] and same["d_accuracy"] == 0.0
    assert doc["verdict"]["strict_pareto"] and doc["verdict"]["best_strict"]["strength"] == 0.1
    assert doc["verdict"]["goal_met"]


def test_a_dial_where_thinking_no_longer_pays_is_left_out_of_the_verdict():
    broken = [result(s, {("linear", 0.1): (0.05, -0.2)}, dial=1.0) for s in range(3)]
    for r in broken:  # the thinking parent below the direct one: a world broken by the dial
        r["parents"]["thinking"] = profile(0.1)
    doc = study(broken + [result(s, {}) for s in range(3)], n_boot=200)
    assert any(r["strict"] for r in doc["rows"] if r["dial"] == 1.0)  # the rows stay, as measured
    assert doc["verdict"]["dials_left_out"] == [1.0]
    assert not doc["verdict"]["strict_pareto"] and doc["verdict"]["best_strict"] is None


def test_fewer_tokens_at_equal_accuracy_is_a_weak_gain_not_a_strict_one():
    doc = study([result(s, {("linear", 0.2): (0.0, -0.3)}) for s in range(3)], n_boot=200)
    row = next(r for r in doc["rows"] if (r["method"], r["strength"]) == ("linear", 0.2))
    assert not row["strict"] and row["d_tokens_rel_interval"][1] < 0
    assert not doc["verdict"]["strict_pareto"] and not doc["verdict"]["goal_met"]


def test_tokens_saved_at_the_parents_accuracy_and_the_paired_difference():
    # activation-informed keeps the accuracy and saves 30% at λ = 0.2; linear saves 10% at 0.1, loses it at 0.2
    effect = {("activation_informed", SHARED[-1]): (0.0, -0.3), ("linear", 0.1): (0.0, -0.1),
              ("linear", 0.2): (-0.1, -0.4)}
    for s in SHARED:
        effect.setdefault(("ties", s), (-0.1, -0.5))  # TIES never keeps the accuracy: nothing saved
    effect = {k: v for k, v in effect.items() if k[1] in GRID[k[0]]}
    doc = study([result(s, effect) for s in range(3)], n_boot=200)
    saved = {r["method"]: r for r in doc["savings"]}
    assert saved["activation_informed"]["saved"] == pytest.approx(0.3, abs=1e-9)
    assert saved["linear"]["saved"] == pytest.approx(0.1, abs=1e-9)
    assert saved["ties"]["saved"] == 0.0
    assert saved["linear"]["activation_informed_minus"] == pytest.approx(0.2, abs=1e-9)
    low, high = saved["ties"]["activation_informed_minus_interval"]
    assert low <= 0.3 <= high
    assert doc["verdict"]["activation_informed_vs"]["linear"][0]["diff"] == pytest.approx(0.2, abs=1e-9)


def test_parents_rows_average_the_seeds():
    doc = study([result(s, {}) for s in range(3)], n_boot=100)
    (row,) = doc["parents"]
    assert row["seeds"] == 3 and row["thinking_accuracy"] == pytest.approx(0.8) and row["thinking_drift_share_per_seed"] == [0.5] * 3


def test_the_featured_drift_case_is_a_merge_that_stayed_right_with_fewer_tokens():
    case = {"problem": 3, "prompt": "Q : 3 + 4 = ?", "answer": 7, "outputs": [
        {"strength": 0.0, "text": "<think> 3 + 4 = 7 ; check 3 + 4 = 8 ; </think> A : 8", "correct": False, "tokens": 20},
        {"strength": 0.1, "text": "<think> 3 + 4 = 7 ; </think> A : 7", "correct": True, "tokens": 12}]}
    doc = {"verdict": {"best_strict": None}, "drift_cases": {"0.5": [case]}}
    featured = overthink.featured_drift_case(doc, 0.5)
    assert featured["merge"]["correct"] and not featured["parent"]["correct"] and featured["merge_strength"] == 0.1
    assert overthink.featured_drift_case(doc, 1.0) is None
