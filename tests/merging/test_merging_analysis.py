"""Analysis on synthetic sweep frames with known answers: intervals, Pareto rule, transition, trend,
and the claims rule over one and several seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.claims import compare, over_seeds
from workbench.merging import analysis, claims
from workbench.merging.sweep import grid, transition_window, window

PARENTS = {"direct": ("linear", 1.0), "thinking": ("linear", 0.0)}


def fake_sweep(strengths, accuracy, tokens, thinking, n_problems=400, samples=2, seed=0, method="linear"):
    """Per-output rows whose per-strength means follow the given curves (Bernoulli correctness)."""
    rng = np.random.default_rng(seed)
    rows = []
    u = rng.random(n_problems)  # a per-problem ease shared across strengths: paired structure
    for s, acc, tok, think in zip(strengths, accuracy, tokens, thinking):
        for problem in range(n_problems):
            for sample in range(samples):
                rows.append({"method": method, "strength": s, "problem": problem, "sample": sample,
                             "n_ops": problem % 6 + 1, "correct": bool(u[problem] < acc),
                             "tokens": int(round(tok + rng.normal(0, 2))), "thinking": bool(u[problem] < think),
                             "rechecks": 0, "answered": True})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def sweep():
    strengths = [0.0, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.8, 1.0]
    accuracy = [0.80, 0.80, 0.79, 0.78, 0.70, 0.55, 0.45, 0.40, 0.40, 0.40, 0.40]
    tokens = [40, 34, 32, 30, 25, 15, 8, 5, 4, 4, 4]
    thinking = [1.0, 1.0, 1.0, 0.98, 0.9, 0.5, 0.1, 0.02, 0.0, 0.0, 0.0]
    return fake_sweep(strengths, accuracy, tokens, thinking)


def test_summary_intervals_and_paired_differences(sweep):
    summary = analysis.summarize_sweep(sweep, PARENTS, n_boot=300)
    row = summary.set_index("strength").loc[0.1]
    assert row["accuracy_low"] <= row["accuracy"] <= row["accuracy_high"]
    assert row["d_acc_thinking"] == pytest.approx(0.0, abs=1e-9)  # same ease draws: identical correctness
    assert row["d_tok_thinking_high"] < 0 and row["rel_tok_thinking"] == pytest.approx(-6 / 40, abs=0.02)
    parent = summary.set_index("strength").loc[0.0]
    assert parent["d_acc_thinking"] == 0 and parent["d_tok_thinking"] == 0


def test_pareto_rule_finds_the_token_cut_at_equal_accuracy(sweep):
    summary = analysis.summarize_sweep(sweep, PARENTS, n_boot=300)
    pareto = analysis.pareto_improvements(summary, PARENTS)
    sig = pareto[pareto["significant"]]
    assert set(sig.loc[sig.parent == "thinking", "strength"]) == {0.1}  # 0.2 loses a point of accuracy
    assert not (pareto["strength"].isin([0.0, 1.0])).any()
    best = claims.best_improvement(pareto)
    assert best["strength"] == 0.1 and best["parent"] == "thinking"
    f = claims.pareto_finding(pareto, {"thinking": 40.0, "direct": 4.0})
    assert f.reproduced and f.interval[1] < 0 and "linear λ=0.10 vs thinking parent" in f.note


def test_no_improvement_is_reported_as_not_reproduced():
    empty = pd.DataFrame(columns=["parent", "significant", "rel_tokens", "d_acc"])
    f = claims.pareto_finding(empty, {})
    assert f.reproduced is False and f.value is None and "no merge" in f.note


def test_transition_is_located_with_an_interval(sweep):
    tr = analysis.transition(sweep, n_boot=200)
    assert 0.44 < tr["switch_off"] < 0.47
    assert tr["switch_off_low"] <= tr["switch_off"] <= tr["switch_off_high"]
    assert tr["share90_at"] == pytest.approx(0.4, abs=0.04) and tr["share10_at"] == pytest.approx(0.5, abs=0.04)
    assert tr["width"] == pytest.approx(0.1, abs=0.03) and tr["width_high"] <= claims.SHARP_WIDTH
    assert len(tr["replicates"]["width"]) == 200 and "replicates" not in analysis.without_replicates(tr)


def test_a_gradual_fade_is_not_a_sharp_transition():
    strengths = list(np.round(np.linspace(0, 1, 11), 2))
    fade = list(np.linspace(1.0, 0.0, 11))
    frame = fake_sweep(strengths, [0.5] * 11, [10] * 11, fade, n_problems=300)
    tr = analysis.transition(frame, n_boot=200)
    assert tr["width"] > 0.6
    assert not claims.sharp_transition([claims.seed_evidence(frame, n_boot=200, seed=0)], 200).reproduced


def test_token_trend_and_method_gap(sweep):
    trend = analysis.token_trend(sweep, n_boot=100)
    assert trend["rho"] > 0.95 and trend["low"] > 0 and len(trend["replicates"]["rho"]) == 100
    slerp = sweep.assign(method="slerp")
    gap = analysis.method_gap(pd.concat([sweep, slerp]), n_boot=200)
    assert gap["strengths"] == 11 and gap["d_acc"] == 0 and gap["max_abs_gap"] == 0


def test_pareto_frontier_and_grids():
    s = pd.DataFrame({"accuracy": [0.5, 0.9, 0.4, 0.8, 0.9], "tokens": [5, 40, 10, 30, 50]})
    assert analysis.pareto_frontier(s).index.tolist() == [0, 3, 1]
    assert grid(0.25, 0.02, 0.04) == [0.0, 0.02, 0.04, 0.25, 0.5, 0.75, 0.96, 0.98, 1.0]
    assert window(float("nan"), 0.1, 0.02) == [] and window(-0.01, 0.03, 0.01) == [0.0, 0.01, 0.02, 0.03]
    assert transition_window([0, 0.5, 1], [1.0, 1.0, 0.95], 0.1, 0.1) == []  # never falls: nothing to refine


# ---- the claims: one rule for one seed and for several ------------------------------------------------
def study(seed: int, shift: float = 0.0) -> pd.DataFrame:
    """A linear + SLERP sweep (SLERP identical to linear) whose tokens fall with λ and whose thinking
    share falls between 0.4 and 0.5 (+ shift)."""
    strengths = [0.0, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.8, 1.0]
    accuracy = [0.80, 0.80, 0.79, 0.78, 0.70, 0.55, 0.45, 0.40, 0.40, 0.40, 0.40]
    tokens = [40, 34, 32, 30, 25, 15, 8, 5, 4, 4, 4]
    thinking = np.interp(strengths, [0.0, 0.4 + shift, 0.5 + shift, 1.0], [1.0, 0.95, 0.05, 0.0])
    linear = fake_sweep(strengths, accuracy, tokens, thinking, n_problems=240, seed=seed)
    return pd.concat([linear, linear.assign(method="slerp")], ignore_index=True)


@pytest.fixture(scope="module")
def evidence():
    return [claims.seed_evidence(study(0), n_boot=300, seed=0, parents_rel_l2=0.1),
            claims.seed_evidence(study(1, shift=0.05), n_boot=300, seed=1, parents_rel_l2=0.12)]


def test_one_seed_gives_that_seeds_own_bootstrap_interval(evidence):
    one = evidence[:1]
    trend = one[0].metrics["token_trend"]
    f = claims.tokens_rise(one, 300)
    assert f.value == trend["rho"] and f.interval == pytest.approx([trend["low"], trend["high"]]) and f.reproduced
    tr = one[0].metrics["transition"]
    f = claims.sharp_transition(one, 300)
    assert f.value == tr["width"] and f.interval == pytest.approx([tr["width_low"], tr["width_high"]]) and f.reproduced
    combined = claims.combined_summary(one).set_index(["method", "strength"])
    own = one[0].summary.set_index(["method", "strength"])
    for col in ("d_acc_thinking", "d_acc_thinking_low", "d_tok_direct_high", "rel_tok_thinking", "rel_tok_thinking_high"):
        pd.testing.assert_series_equal(combined[col], own[col], check_exact=False, rtol=1e-12)
    f = claims.pareto(one, 300)
    assert f.reproduced and "linear λ=0.10 vs thinking parent" in f.note
    assert claims.slerp_linear(one, 300).reproduced and claims.slerp_linear(one, 300).value == 0


def test_several_seeds_use_every_seed_by_the_one_rule(evidence):
    rows = {r["id"]: r for r in claims.claim_rows(evidence, 300, "a size", "synthetic", "smoke")}
    assert all(r["seeds"] == 2 for r in rows.values())
    rho = [e.metrics["token_trend"]["rho"] for e in evidence]
    width = [e.metrics["transition"]["width"] for e in evidence]
    assert rows["merging.tokens_rise"]["value"] == pytest.approx(np.mean(rho))
    assert rows["merging.sharp_transition"]["value"] == pytest.approx(np.mean(width))
    expected = over_seeds(width, [e.arrays["width"] for e in evidence], n_boot=300)
    assert rows["merging.sharp_transition"]["interval"] == pytest.approx(expected.interval)
    hard = compare([e.arrays["case/hard_thinking"] for e in evidence], [e.arrays["case/hard_direct"] for e in evidence],
                   n_boot=300)
    assert rows["merging.parents"]["value"] == pytest.approx(hard.diff)
    assert rows["merging.parents"]["interval"] == pytest.approx(hard.interval)
    assert "2 seeds, per seed" in rows["merging.sharp_transition"]["note"]
    assert rows["merging.sharp_transition"]["note"].endswith("(a size)")


def test_evidence_survives_its_files(evidence, tmp_path):
    evidence[0].save(tmp_path)
    back = claims.Evidence.load(tmp_path)
    assert set(back.arrays) == set(evidence[0].arrays)
    np.testing.assert_array_equal(back.arrays["d_acc_thinking"], evidence[0].arrays["d_acc_thinking"])
    rows = lambda seeds: claims.claim_rows(seeds, 300, "s", "synthetic", "smoke")  # noqa: E731
    assert rows([back]) == rows(evidence[:1])
