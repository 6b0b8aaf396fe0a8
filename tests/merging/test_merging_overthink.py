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


# ---- the transition decided in the study, by the build's rule ------------------------------------------
def with_transition(res: dict, switch: np.ndarray, strengths: list[float]) -> dict:
    """``res`` with a linear curve on which problem i stops thinking past λ = ``switch[i]``."""
    n_ops = (np.arange(N) % 6 + 1).tolist()
    curve = lambda s: (switch > s).astype(float).tolist()  # noqa: E731
    for p in res["points"]:
        if p["method"] == "linear":
            p["thinking"] = curve(p["strength"])
    res["transition"] = [{"strength": s, "thinking": curve(s)} for s in strengths]
    return {**res, "n_ops": n_ops}


def test_the_transition_is_decided_over_seeds_by_the_builds_rule():
    from workbench.merging.claims import SHARP_WIDTH

    fine = [round(0.3 + 0.01 * i, 2) for i in range(41)]
    for spread, sharp in ((0.05, True), (0.15, False)):  # switch points uniform over ±spread around λ = .5
        runs = []
        for seed in range(3):
            rng = np.random.default_rng(seed)
            runs.append(with_transition(result(seed, {}), rng.uniform(0.5 - spread, 0.5 + spread, N), fine))
        (row,) = study(runs, n_boot=200)["transition"]
        low, high = row["interval"]
        # a uniform fall over 2·spread: 90% -> 10% takes 80% of it
        assert row["value"] == pytest.approx(1.6 * spread, abs=0.01) and low <= row["value"] <= high
        assert row["reproduced"] is (high <= SHARP_WIDTH) is sharp
        assert row["seeds"] == 3 and "switch-off" in row["sentence"]


def test_points_without_the_transition_window_give_no_transition_row():
    assert study([result(s, {}) for s in range(3)], n_boot=50)["transition"] == []


# ---- sittings: committed point files + the dials a committed study holds ----------------------------------
def test_a_later_sitting_keeps_the_committed_dials_and_recomputes_the_verdict():
    gain = {("linear", 0.1): (0.05, -0.2)}
    previous = study([result(s, gain, dial=0.5) for s in range(3)], n_boot=100)
    previous.update({"dials": [0.5], "commit": "abc1234", "created": "2026-12-06", "command": "bench",
                     "drift_cases": {"0.5": ["a case"]}, "points": [{"dial": 0.5, "seed": s, "cpu_seconds": 1.0} for s in range(3)]})
    doc = overthink.combine([result(s, {}, dial=0.0) for s in range(3)], previous, n_boot=100)
    assert doc["dials"] == [0.0, 0.5]
    assert [r for r in doc["rows"] if r["dial"] == 0.5] == [r for r in previous["rows"]]  # as measured, untouched
    assert doc["carried"] == [{"dial": 0.5, "commit": "abc1234", "created": "2026-12-06", "command": "bench"}]
    assert doc["drift_cases"]["0.5"] == ["a case"] and [p["dial"] for p in doc["points"]] == [0.0] * 3 + [0.5] * 3
    assert doc["verdict"]["best_strict"]["dial"] == 0.5  # the verdict reads every dial, carried ones too
    # a sitting after that keeps the first provenance of what it carries
    again = overthink.combine([result(s, {}, dial=0.0) for s in range(3)], {**doc, "commit": "later"}, n_boot=100)
    assert again["carried"] == doc["carried"]


def test_point_files_win_over_carried_rows_and_settings_must_match():
    from workbench.errors import WorkbenchError

    previous = study([result(s, {("linear", 0.1): (0.05, -0.2)}, dial=0.5) for s in range(3)], n_boot=100)
    previous.update({"dials": [0.5], "commit": "abc1234", "settings": {"n_eval": 600, "samples": 2}})
    fresh = [result(s, {}, dial=0.5) for s in range(3)]
    doc = overthink.combine(fresh, previous, n_boot=100)
    assert doc["carried"] == [] and not doc["verdict"]["strict_pareto"]  # recomputed from the point files
    other = [{**result(s, {}, dial=0.0), "settings": {"n_eval": 1002, "samples": 2, "seed": s, "overthink": 0.0}}
             for s in range(3)]
    with pytest.raises(WorkbenchError, match="n_eval"):
        overthink.combine(other, previous, n_boot=100)
    same = [{**r, "settings": {"n_eval": 600, "samples": 2, "seed": r["seed"], "overthink": 0.0}} for r in other]
    assert overthink.combine(same, previous, n_boot=100)["dials"] == [0.0, 0.5]


def test_a_point_file_is_one_compact_line_that_reads_back_the_same(tmp_path):
    res = result(0, {("linear", 0.1): (0.05, -0.2)})
    res["points"][0]["correct"] = overthink._compact([1.0, 0.5, 0.0, 0.25])
    path = overthink.point_path(tmp_path, 0.25, 2)
    path.write_text(overthink.point_text(res))
    assert path.name == "dial0.25-seed2.json" and path.read_text().count("\n") == 1
    assert overthink.read_points(tmp_path) == [res] and res["points"][0]["correct"] == [1, 0.5, 0, 0.25]


# ---- dial 0 is today's world ------------------------------------------------------------------------------
def test_the_studys_dial_0_is_the_build_without_the_dial(smoke_store):
    """The study's own path at dial 0 (base and direct child, then the thinking child, ``evaluate_point``)
    gives the smoke build's weights byte for byte and its parents' per-problem numbers exactly: the build
    never set the dial, the study sets it to 0. (That dial 0 writes the traces of before the dial, and
    keeps the budget, is ``test_merging_world``'s.)"""
    import torch

    from workbench import methods
    from workbench.merging.parents import Parents, load_parents, train_base_and_direct, train_thinking_child
    from workbench.runtime import seed_everything

    run = smoke_store.latest("merging", "smoke")
    cfg = methods.make_config("merging", "smoke", {"overthink": "0"})
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # as the build's parents job (threads=1): the float sums in the same order
    try:
        seed_everything(cfg.seed)
        tok, base, direct, _ = train_base_and_direct(cfg)
        thinking, _ = train_thinking_child(cfg, tok, base)
    finally:
        torch.set_num_threads(before)
    built = load_parents(run)
    for name, model in (("base", base), ("direct", direct), ("thinking", thinking)):
        theirs = getattr(built, name).state_dict()
        assert all(torch.equal(t, theirs[k]) for k, t in model.state_dict().items()), name
    point = overthink.evaluate_point(Parents(tok, base, direct, thinking), cfg, grid={"linear": (0.0, 1.0)},
                                     transition=False)
    outputs = run.read_parquet("outputs")
    for p in point["points"]:
        rows = outputs[(outputs["method"] == "linear") & (outputs["strength"] == p["strength"])]
        per = rows.groupby("problem")[["correct", "tokens"]].mean().sort_index()
        assert p["correct"] == overthink._compact(per["correct"]) and p["token_means"] == overthink._compact(per["tokens"])
    assert point["planted"] == {"drift_rate": 0.0, "extra_rechecks": 0, "budget_rechecks": 5}


def test_the_summary_has_one_line_per_dial_with_its_best_strict_and_weak_gains():
    runs = ([result(s, {("linear", 0.2): (0.0, -0.3)}, dial=0.0) for s in range(3)]
            + [result(s, {("linear", 0.1): (0.05, -0.2)}, dial=0.5) for s in range(3)])
    lines = {line["dial"]: line for line in overthink.combine(runs, n_boot=100)["summary"]}
    assert lines[0.0]["best strict Pareto"] == "none" and lines[0.0]["best weak Pareto"].startswith("linear λ=0.2:")
    assert lines[0.5]["best strict Pareto"].startswith("linear λ=0.1: accuracy +0.0")
    assert lines[0.5]["thinking accuracy"] == pytest.approx(0.8) and lines[0.5]["thinking pays"]
    assert lines[0.0]["saved: linear"].startswith("30.0%") and lines[0.0]["transition width"] == "not measured"
