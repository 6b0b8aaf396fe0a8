"""Every method page shows its budget curve through the one helper (``ui.budget_study``): each claim
against the budget with the stable budget named, and one line instead of a crash when the study file
is missing or unreadable (issue 26)."""

from __future__ import annotations

import json

import pytest
from apptest import run_page, texts

PAGES = {"needs": "views/needs_services.py", "glass": "views/sid_tree.py", "merging": "views/merge_strength.py"}


def study_rows(method: str) -> list[dict]:
    """A two-claim study whose first claim settles at the middle budget (fixture)."""
    rows = []
    for budget, first in ((100, 0.0), (400, 0.2), (1600, 0.21)):
        for claim, estimate in ((f"{method}.first", first), (f"{method}.second", 0.1)):
            rows.append({"method": method, "budget": budget, "claim": claim, "estimate": estimate,
                         "low": estimate - .05, "high": estimate + .05, "reproduced": estimate > .05})
    return rows


def chart_titles(at) -> list[str]:
    """The titles of the page's plotly figures."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return [(s["layout"].get("title") or {}).get("text", "") for s in specs]


@pytest.mark.parametrize("method", sorted(PAGES))
def test_each_page_draws_its_budget_curve_and_survives_a_missing_study(method, tmp_store, tmp_path, monkeypatch):
    from workbench import budget_curves

    monkeypatch.setattr(budget_curves, "REFERENCE", tmp_path / "studies")
    (tmp_path / "studies").mkdir()
    at = run_page(PAGES[method])  # no study file: one line naming the command that measures it
    assert f"No budget study of {method} in this checkout: `python benchmarks/run.py {method}_budget`" in texts(at)
    assert not [t for t in chart_titles(at) if "stable budget" in t]

    path = budget_curves.path_of(method)
    path.write_text("{not json")  # unreadable: the same line, no traceback
    at = run_page(PAGES[method])
    assert f"No budget study of {method}" in texts(at)

    if method == "needs":  # method 1's own study shape, read as claim rows (budget_curves.needs_rows)
        curve = [{"table": "budget curve", "size": "96x2", "sft_steps": s, "variant": v, "HR@3": h}
                 for s, hs in ((1000, (.40, .20, .21)), (3000, (.40, .35, .36)), (10000, (.40, .36, .36)))
                 for v, h in zip(("isolated", "clustered_sft", "full"), hs)]
        doc = {"rows": curve, "test cases": 1200, "command": "fixture", "commit": "abc", "created": "today",
               "changed": "sft_steps only", "seed": 0}
        stable = "Stable budget: 3,000 SFT steps"
    else:
        doc = {"method": method, "rows": study_rows(method), "not built": [6400], "cut": "over the CPU budget",
               "settings": "the demo profile's settings", "command": "fixture", "commit": "abc", "created": "today"}
        stable = f"Stable budget: 400 {budget_curves.UNITS[method]}"
    path.write_text(json.dumps(doc))
    at = run_page(PAGES[method])
    assert stable in texts(at)
    assert f"stable budget: {stable.split(': ')[1]} (dashed)" in chart_titles(at)
    table = next(d.value for d in at.dataframe if {"budget", "claim", "estimate"} <= set(d.value.columns))
    assert sorted(table["budget"].unique()) == ([1000, 3000, 10000] if method == "needs" else [100, 400, 1600])
    if method != "needs":
        assert "not built: 6,400 (over the CPU budget)" in texts(at)
