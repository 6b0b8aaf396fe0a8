"""The budget curve's rows, verdicts, committed-file reading and the answer sentence (workbench/needs/budget.py)."""

from __future__ import annotations

import doctest
import json

import pandas as pd

from workbench.needs import budget


def curve(point_hr1: dict[int, tuple[float, float, float]]) -> list[dict]:
    """Rows of one size: steps -> (isolated, clustered_sft, full) HR@1."""
    return [{"table": "budget curve", "size": "96x2", "sft_steps": steps, "variant": v, "HR@1": h,
             "need acc": 0.70 + 0.01 * i, "cat acc": 0.40 + 0.02 * i, "HR@3": h + 0.1}
            for steps, hs in point_hr1.items() for i, (v, h) in enumerate(zip(budget.VARIANTS, hs))]


def test_docstring_examples():
    assert doctest.testmod(budget).failed == 0


def test_verdicts_compare_the_full_framework_with_the_isolated_pipeline_at_each_budget():
    rows = budget.verdict_rows(curve({1000: (0.30, 0.10, 0.12), 4000: (0.30, 0.36, 0.39)}))
    assert [(r["sft_steps"], r["full / isolated HR@1"], r["reaches 1.25x"]) for r in rows] == [(1000, 0.4, False),
                                                                                              (4000, 1.3, True)]
    assert rows[0]["clustered SFT / isolated HR@1"] == round(0.10 / 0.30, 3)
    assert rows[0]["full - isolated need acc"] == 0.02 and rows[0]["full - isolated cat acc"] == 0.04


def test_a_point_without_all_three_variants_has_no_verdict():
    rows = [r for r in curve({1000: (0.3, 0.1, 0.1)}) if r["variant"] != "full"]
    assert budget.verdict_rows(rows) == []


def test_load_reads_the_committed_layout_and_answers(tmp_path):
    rows = curve({1000: (0.30, 0.10, 0.12), 3000: (0.30, 0.25, 0.27)})
    path = tmp_path / "needs-budget.json"
    path.write_text(json.dumps({"rows": rows + budget.verdict_rows(rows), "command": "python benchmarks/run.py needs_budget"}))
    doc = budget.load(path)
    assert list(doc["curve"]["variant"].unique()) == list(budget.VARIANTS) and len(doc["verdicts"]) == 2
    text = budget.answer(doc["verdicts"])
    assert text.startswith("96x2: full / isolated HR@1 0.40 at 1k SFT steps → 0.90 at 3k") and "not reached" in text


def test_load_of_a_missing_or_broken_file_is_none(tmp_path):
    assert budget.load(tmp_path / "absent.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert budget.load(tmp_path / "bad.json") is None


def test_the_committed_study_if_present_has_every_variant_at_every_point():
    doc = budget.load()
    if doc is None:
        return  # not measured yet in this checkout
    points = doc["curve"].groupby(["size", "sft_steps"])["variant"].apply(set)
    assert all(v == set(budget.VARIANTS) for v in points), points
    assert isinstance(budget.answer(doc["verdicts"]), str) and doc["command"]
    assert pd.api.types.is_integer_dtype(doc["curve"]["sft_steps"])
