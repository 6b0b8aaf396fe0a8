import math

import pytest

import toy_pipeline
from workbench import claims, report
from workbench.claims import Claim, ClaimSpec


def test_unbuilt_method_shows_null_rows(tmp_store, toy_method):
    rows = [r for r in report.collect(tmp_store, "demo") if r.method == "toy"]
    assert [r.id for r in rows] == ["toy.better"]
    assert rows[0].value is None and rows[0].reproduced is None and rows[0].profile == "demo"


def test_built_method_reports_measured_rows(tmp_store, toy_method):
    toy_pipeline.build(toy_pipeline.Config.for_profile("smoke"), tmp_store)
    (row,) = [r for r in report.collect(tmp_store, "smoke") if r.method == "toy"]
    assert row.reproduced is True and row.a_value > row.b_value and row.interval[0] > 0
    # the row contract: value, diff and interval are of one quantity, and the value lies in its interval
    assert row.value == row.diff == pytest.approx(row.a_value - row.b_value) and row.reference == 0.0
    assert row.interval[0] <= row.value <= row.interval[1]
    d = row.to_dict()
    claims.validate_rows([d])
    assert set(claims.FIELDS) <= set(d)
    # a model no better than chance does not reproduce the claim
    toy_pipeline.build(toy_pipeline.Config.for_profile("demo", skill=0.5, seed=3), tmp_store)
    (row,) = [r for r in report.collect(tmp_store, "demo") if r.method == "toy"]
    assert row.reproduced is False


def test_nan_becomes_null_and_table_renders():
    spec = ClaimSpec("x.y", "x", "Something holds.", "m")
    row = Claim.from_spec(spec, value=float("nan"), interval=[float("nan"), 1.0])
    d = row.to_dict()
    assert d["value"] is None and d["interval"] == [None, 1.0]
    text = claims.as_table([row, Claim.from_spec(spec, value=0.5, reproduced=False)])
    assert "Something holds." in text and "NO" in text and "not built" in text
    assert not math.isnan(0.5)


# ---- the one rule: 1, 2 and 3 seeds ---------------------------------------------------------------
import numpy as np  # noqa: E402

from workbench.metrics import paired_bootstrap  # noqa: E402


def _seed_cases(seed: int, gain: float, n: int = 300):
    rng = np.random.default_rng(seed)
    b = (rng.random(n) < 0.4).astype(float)
    a = np.where(rng.random(n) < gain, 1.0, b)  # a = b, plus a share of extra hits
    return a, b


def test_one_seed_is_the_paired_bootstrap_over_cases():
    a, b = _seed_cases(0, 0.2)
    c = claims.compare([a], [b])
    p = paired_bootstrap(a, b)
    assert c.seeds == 1 and c.diff == pytest.approx(p["diff"])
    assert c.interval == pytest.approx([p["low"], p["high"]], abs=1e-12)
    assert c.holds() and c.n == 300


@pytest.mark.parametrize("n_seeds", [2, 3])
def test_several_seeds_use_every_seed(n_seeds):
    pairs = [_seed_cases(s, 0.1 + 0.1 * s) for s in range(n_seeds)]
    c = claims.compare([a for a, _ in pairs], [b for _, b in pairs])
    per_seed = [a.mean() - b.mean() for a, b in pairs]
    assert c.seeds == n_seeds and c.per_seed == pytest.approx(per_seed)
    assert c.diff == pytest.approx(np.mean(per_seed))  # the mean over seeds, not the first seed
    assert c.low < c.diff < c.high
    # seed-to-seed spread widens the interval beyond any single seed's own
    one = claims.compare([pairs[0][0]], [pairs[0][1]])
    assert (c.high - c.low) > 0.5 * (one.high - one.low)


def test_seeds_that_disagree_do_not_reproduce():
    up_a, up_b = _seed_cases(1, 0.3)
    down_b, down_a = _seed_cases(2, 0.3)  # roles swapped: a clearly worse than b on this seed
    c = claims.compare([up_a, down_a, up_a], [up_b, down_b, up_b])
    assert c.seeds == 3 and c.per_seed[1] < 0 < c.per_seed[0]
    assert c.low < 0 < c.high  # one seed of three against: not decided, though the mean is positive
    assert claims.compare([up_a], [up_b]).holds()  # the first seed alone would have said "reproduced"


def test_compare_needs_the_same_seeds():
    with pytest.raises(ValueError, match="same seeds"):
        claims.compare([np.ones(3)], [np.ones(3), np.ones(3)])


def test_estimate_and_over_seeds_for_non_mean_statistics():
    est = claims.estimate([np.array([0.0, 1.0] * 50), np.array([1.0] * 100)])
    assert est.seeds == 2 and est.value == pytest.approx(0.75) and est.low < 0.75 < est.high + 1e-9
    same = claims.over_seeds([0.2], [np.linspace(0.1, 0.3, 2000)])
    assert same.value == 0.2 and same.low == pytest.approx(0.105, abs=0.01) and same.high == pytest.approx(0.295, abs=0.01)


# ---- the row in words ---------------------------------------------------------------------------------
SPEC = ClaimSpec("glass.overall", "glass", "GLASS beats TIGER.", "Recall@10 GLASS − TIGER", "GLASS", "TIGER",
                 "Recall@10 on all test cases")


def test_sentence_states_the_comparison_in_words_and_numbers():
    c = claims.compare([np.array([1.0] * 40 + [0.0] * 60)], [np.array([1.0] * 30 + [0.0] * 70)])
    row = claims.row(SPEC, c, seeds=1, budget="demo: 600 training steps")
    text = row.sentence
    assert text.startswith("GLASS vs TIGER, Recall@10 on all test cases: .400 vs .300, +.100 [")
    assert text.endswith(f"→ {'reproduced' if c.holds() else 'not reproduced'} (1 seed, demo: 600 training steps)")
    d = row.to_dict()
    assert (d["a"], d["b"], d["a_value"], d["b_value"]) == ("GLASS", "TIGER", 0.4, 0.3)
    assert d["diff"] == pytest.approx(0.1) and d["interval"] == pytest.approx(c.interval) and d["budget"].startswith("demo")
    claims.validate_rows([d])


def test_row_numbers_are_all_of_one_quantity():
    """``claims.row``: a comparison's value is its difference, an estimate's its own statistic; either way
    the value lies in its interval, the reference is the bar and the verdict is the interval against it."""
    a, b = [np.array([1.0] * 45 + [0.0] * 55)] * 2, [np.array([1.0] * 30 + [0.0] * 70)] * 2
    c = claims.compare(a, b)
    r = claims.row(SPEC, c, seeds=2)
    assert (r.a_value, r.b_value, r.value, r.diff, r.reference) == (c.a, c.b, c.diff, c.diff, 0.0)
    assert r.interval == c.interval and r.interval[0] <= r.value <= r.interval[1] and r.reproduced is True
    assert claims.row(SPEC, c, bar=0.5).reproduced is False  # the same interval held against a higher bar
    assert claims.row(SPEC, c, reproduced=False).reproduced is False  # a second condition may refuse it
    est = claims.estimate([np.array([0.8, 0.9, 0.7, 0.85] * 25)])
    spec = ClaimSpec("x.bar", "x", "The filter is good.", "min(P, R)", "the filter", "the 0.7 bar", "min(precision, recall)")
    bar = claims.row(spec, est, 0.9, direction=-1)
    assert (bar.a_value, bar.b_value, bar.diff, bar.value, bar.reference) == (est.value, 0.9, None, est.value, 0.9)
    assert bar.interval[0] <= bar.value <= bar.interval[1] and bar.reproduced is True  # below the bar, as asked
    with pytest.raises(TypeError):  # the numbers come from the measurement only
        claims.row(SPEC, c, a_value=1.0)


def test_sentence_of_a_statistic_against_a_bar_relative_change_and_a_second_condition():
    spec = ClaimSpec("x.bar", "x", "The filter is good.", "min(P, R)", "the filter", "the 0.7 bar", "min(precision, recall)")
    bar = Claim.from_spec(spec, a_value=0.8, b_value=0.7, interval=[0.75, 0.85], reproduced=True, seeds=3,
                          also="precision .900, recall .800")
    assert bar.sentence == ("the filter vs the 0.7 bar, min(precision, recall): .800 [.750, .850] vs .700; "
                            "precision .900, recall .800 → reproduced (3 seeds)")
    cut = Claim.from_spec(SPEC, a="linear λ = 0.30", b="the thinking parent", quantity="mean generated tokens",
                          a_value=30.2, b_value=45.0, diff=-0.33, interval=[-0.4, -0.25], relative=True, reproduced=True)
    assert "30.2 vs 45.0, −33% [−40%, −25%]" in cut.sentence
    unbuilt = Claim.from_spec(SPEC, profile="demo")
    assert unbuilt.sentence == "GLASS vs TIGER, Recall@10 on all test cases: not measured"


def test_rows_stored_before_the_comparison_fields_still_render(tmp_path):
    """Old claims.json rows (no a/b) and the committed reference JSON render from what they have."""
    import json

    from workbench.store import Run

    old = {"id": "toy.better", "method": "toy", "claim": "c", "metric": "accuracy model - baseline", "value": 0.8,
           "reference": 0.5, "interval": [0.2, 0.4], "reproduced": True, "seeds": 1, "dataset": "synthetic",
           "profile": "demo", "note": ""}
    (tmp_path / "claims.json").write_text(json.dumps([old]))
    (tmp_path / "manifest.json").write_text(json.dumps({"method": "toy", "config": {"profile": "demo", "sft_steps": 1000,
                                                                                    "rl_steps": 60, "dataset": "synthetic"}}))
    (row,) = claims.read_run_claims(Run(tmp_path))
    assert row.budget == "demo: 1,000 SFT steps, 60 RL steps"  # the budget comes from the run's settings
    assert row.sentence == ("accuracy model - baseline: .800 (reference .500), 95% interval [.200, .400] → reproduced "
                            "(1 seed, demo: 1,000 SFT steps, 60 RL steps)")
    reference = report.reference_verdicts("demo")
    if reference:  # the committed 3-seed reference (made before the fields existed) renders too
        for ref in reference.values():
            assert ref.sentence.endswith(")") and "→" in ref.sentence and "3 seeds" in ref.sentence
        for style in ("table", "wide", "markdown"):
            assert "needs.filter" in claims.as_table(list(reference.values()), reference, style=style)


def test_wide_and_markdown_tables_carry_the_sentences():
    rows = [Claim.from_spec(SPEC, a_value=0.4, b_value=0.3, diff=0.1, interval=[0.05, 0.15], reproduced=True, seeds=1)]
    wide = claims.as_table(rows, style="wide")
    assert "glass.overall (synthetic): GLASS beats TIGER." in wide and rows[0].sentence in wide
    md = claims.as_table(rows, style="markdown").splitlines()
    assert md[0].startswith("| claim | comparison | verdict |") and rows[0].sentence in md[2]
    with pytest.raises(claims.WorkbenchError, match="table, wide or markdown"):
        claims.as_table(rows, style="html")
