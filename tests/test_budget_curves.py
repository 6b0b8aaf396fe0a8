"""Budget curves of every method read in one shape (``workbench.budget_curves``): method 1's own study
as claim rows, the figure with its stable budget, how a reference at the stable budgets is recognised,
and the stable-budget recipe agreeing with the committed studies (issue 26)."""

from __future__ import annotations

import json
import tomllib

import pandas as pd
import pytest

from workbench import budget_curves, report
from workbench.viz.budget import claims_curve

RECIPE = budget_curves.REFERENCE.parent.parent / "recipes" / "reference-stable-budget.toml"


def needs_doc(hr3: dict[int, tuple[float, float, float]], cases: int | None = 1200) -> dict:
    rows = [{"table": "budget curve", "size": "96x2", "sft_steps": s, "variant": v, "HR@3": h}
            for s, hs in hr3.items() for v, h in zip(("isolated", "clustered_sft", "full"), hs)]
    return {"rows": rows, **({"test cases": cases} if cases else {})}


def test_method_1s_study_reads_as_claim_rows_with_intervals_over_its_test_cases():
    rows = budget_curves.needs_rows(needs_doc({1000: (.40, .20, .21), 3000: (.40, .35, .36), 10000: (.40, .36, .36)}), "96x2")
    joint = [r for r in rows if r["claim"] == "needs.joint_vs_isolated"]
    assert [round(r["estimate"], 2) for r in joint] == [-.19, -.04, -.04]
    half = 1.96 * ((.21 * .79 + .40 * .60) / 1200) ** .5
    assert joint[0]["high"] - joint[0]["estimate"] == pytest.approx(half)
    assert budget_curves.stable_budget(rows)["budget"] == 3000
    # another model size, the evidence study's rows, or no case count: not read as this study's claims
    assert budget_curves.needs_rows(needs_doc({1000: (.4, .2, .2)}), "128x4") == []
    assert budget_curves.needs_rows(needs_doc({1000: (.4, .2, .2)}, cases=None), "96x2") == []


def test_a_missing_or_unreadable_study_is_none_and_said_in_one_line(tmp_path):
    assert budget_curves.load("glass", tmp_path / "absent.json") is None
    (tmp_path / "bad.json").write_text("{")
    assert budget_curves.load("merging", tmp_path / "bad.json") is None
    assert budget_curves.describe("merging", None) == ("No budget study of merging in this checkout: "
                                                       "`python benchmarks/run.py merging_budget` measures it.")


def test_the_figure_marks_the_stable_budget_or_says_there_is_none():
    row = lambda b, e, r: {"budget": b, "claim": "x", "estimate": e, "low": e - .02, "high": e + .02, "reproduced": r}  # noqa: E731
    settled = [row(300, .0, False), row(1200, .1, True), row(3000, .11, True)]
    study = {"curve": pd.DataFrame(settled), "stable": budget_curves.stable_budget(settled)}
    figure = claims_curve(study, "child fine-tuning steps")
    assert figure.layout.title.text == "stable budget: 1,200 child fine-tuning steps (dashed)"
    assert [s.line.dash for s in figure.layout.shapes] == ["dash"]
    moving = settled[:2]
    study = {"curve": pd.DataFrame(moving), "stable": budget_curves.stable_budget(moving)}
    figure = claims_curve(study, "steps")
    assert figure.layout.title.text.startswith("no stable budget within the budgets studied (300, 1,200)")
    assert not figure.layout.shapes


def test_a_reference_is_at_the_stable_budget_only_when_its_budgets_match_the_studies():
    stable = {m: s["budget"] for m, s in budget_curves.stable_budgets().items() if s["budget"] is not None}
    assert stable, "no committed study names a stable budget"
    demo = report.reference_budgets({"profile": "demo", "command": "workbench reference --profile demo --seeds 3",
                                     "claims": [{"method": m} for m in ("needs", "glass", "merging")]})
    assert demo == {"needs": 1000, "glass": 600, "merging": 300}  # made before `budgets`: the profile's own
    at = {"profile": "demo", "budgets": {**demo, **stable}, "claims": [{"method": m} for m in demo]}
    assert report.at_stable_budget(at)
    method = next(iter(stable))
    assert not report.at_stable_budget({**at, "budgets": {**at["budgets"], method: stable[method] + 1}})
    assert report.reference_budgets({"profile": "demo", "command": f"workbench reference --set {method}."
                                     f"{budget_curves.BUDGETS[method]}={stable[method]}",
                                     "claims": [{"method": method}]}) == {method: stable[method]}
    assert report.reference_path("demo", 3, stable=True).name == "demo-stable-3seeds.json"


def test_the_stable_budget_recipe_follows_the_committed_studies():
    """Each method of the recipe is read at its study's stable budget; a method whose study names none
    (still moving at its largest budget) at the largest budget studied."""
    recipe = tomllib.loads(RECIPE.read_text())
    for method, found in budget_curves.stable_budgets().items():
        wanted = found["budget"] if found["budget"] is not None else found["largest"]
        given = recipe["settings"].get(method, {}).get(found["setting"])
        assert given == wanted, f"{RECIPE.name}: {method}.{found['setting']} = {given}, the study says {wanted}"
    # and what `workbench reference --recipe reference-stable-budget` would build is recognised as such,
    # so it is written to demo-stable-3seeds.json and leads on Home
    from workbench import recipes

    profile, seeds, setting = recipes.reference_options(recipes.load("reference-stable-budget", check=True), None, None, [])
    planned = {"budgets": report.planned_budgets(report.reference_configs(profile, seeds, overrides=list(setting)))}
    assert report.at_stable_budget(planned)
    committed = json.loads((budget_curves.REFERENCE / "needs-budget.json").read_text())
    assert committed["test cases"] > 0  # what method 1's claim rows take their intervals over


def test_workbench_claims_leads_with_a_reference_at_the_stable_budget(cli, tmp_path, toy_method, monkeypatch):
    """``workbench claims``: the headline says what the reference is; at the stable budget the reference
    column comes first and the built run is "your run" (fixture reference and study files)."""
    import toy_pipeline

    from workbench.claims import read_run_claims
    from workbench.store import ArtifactStore

    monkeypatch.setitem(budget_curves.BUDGETS, "toy", "n")
    monkeypatch.setitem(budget_curves.UNITS, "toy", "examples")
    monkeypatch.setattr(budget_curves, "REFERENCE", tmp_path / "studies")
    monkeypatch.setattr(report, "REFERENCE_DIR", tmp_path / "reference")
    (tmp_path / "studies").mkdir()
    (tmp_path / "reference").mkdir()
    rows = [{"budget": n, "claim": "toy.better", "estimate": e, "low": e - .05, "high": e + .05, "reproduced": e > 0}
            for n, e in ((60, 0.0), (120, 0.2), (200, 0.2))]
    (tmp_path / "studies" / "toy-budget.json").write_text(json.dumps({"rows": rows}))
    store = ArtifactStore(tmp_path / "store")
    run = toy_pipeline.build(toy_pipeline.Config.for_profile("demo"), store)
    claim = {**read_run_claims(run)[0].to_dict(), "seeds": 3}
    ref = {"profile": "demo", "seeds": [0, 1, 2], "budget": "the demo profile's settings with toy.n=120",
           "budgets": {"toy": 120}, "command": "workbench reference --set toy.n=120", "commit": "abc",
           "created": "today", "claims": [claim]}
    (tmp_path / "reference" / "demo-stable-3seeds.json").write_text(json.dumps(ref))
    out = cli("claims", home=tmp_path / "store").stdout
    assert out.startswith("reference: 3 seeds at the stable budget (toy 120 examples)")
    header = next(line for line in out.splitlines() if line.startswith("id "))
    assert header.index("reference (seeds)") < header.index("your run") and "ref (seeds)" not in header
    markdown = cli("claims", "--markdown", home=tmp_path / "store").stdout
    assert "| claim | reference (stable budget) | your run | verdict (your run) |" in markdown

    (tmp_path / "reference" / "demo-stable-3seeds.json").write_text(json.dumps({**ref, "budgets": {"toy": 200}}))
    out = cli("claims", home=tmp_path / "store").stdout
    assert out.startswith("reference: 3 seeds at the demo profile's settings with toy.n=120, not at the stable budget")
    assert "toy (stable from 120 examples; the reference has 200)" in out
    assert "ref (seeds)" in out and "your run" not in out.split("\n\n", 1)[1]
    shown = json.loads(cli("claims", "--json", home=tmp_path / "store").stdout)
    assert shown["reference_at_stable_budget"] is False and shown["reference_headline"].startswith("reference: 3 seeds")
