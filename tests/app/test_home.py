import toy_pipeline
from apptest import run_page, texts


def test_home_with_nothing_built_offers_a_build_that_works(tmp_store, toy_method, monkeypatch):
    import os
    from pathlib import Path

    from workbench import background, methods

    # only the toy method, so "build all" takes a second and not the real methods' demo builds; the
    # build runs in a background process (tests/app/test_build_behind.py follows it while it runs)
    monkeypatch.setattr(methods, "METHODS", {"toy": methods.METHODS["toy"]})
    monkeypatch.setattr(background, "command", toy_pipeline.background_command)
    from workbench import report  # no committed reference (its claims are the real methods'): the plain layout

    monkeypatch.setattr(report, "REFERENCE_DIR", tmp_store.root / "no-reference")
    root = str(Path(__file__).resolve().parents[2])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    at = run_page("views/home.py")
    frame = at.dataframe[0].value
    toy_row = frame[frame["method"] == "Toy"]
    assert toy_row["status"].tolist() == ["not built"]
    claims = at.dataframe[1].value
    assert claims.set_index("id").loc["toy.better", "verdict"] == "not built"
    at.button(key="build-all").click().run()
    assert not at.exception
    assert background.wait_stopped(tmp_store.root, timeout=120)
    at.run()
    assert tmp_store.latest("toy", "demo") is not None
    frame = at.dataframe[0].value
    assert frame[frame["method"] == "Toy"]["status"].tolist() == ["built"]
    claims = at.dataframe[1].value.set_index("id")
    assert claims.loc["toy.better", "verdict"] == "reproduced"
    # the comparison in words and numbers, in full (a row stored without a/b names its metric)
    comparison = claims.loc["toy.better", "comparison"]
    assert comparison.startswith("accuracy model - baseline: .") and comparison.endswith("→ reproduced (1 seed, demo)")
    assert comparison in texts(at)  # the same sentence, untruncated, in the text list
    assert len(at.get("download_button")) == 1  # the shareable report


def test_home_follows_the_profile_picker(tmp_store, toy_method):
    toy_pipeline.build(toy_pipeline.Config.for_profile("smoke"), tmp_store)
    at = run_page("views/home.py")
    assert at.selectbox(key="profile").value == "smoke"  # the only built profile is preselected
    at.selectbox(key="profile").set_value("full").run()
    frame = at.dataframe[0].value
    assert frame[frame["method"] == "Toy"]["status"].tolist() == ["not built"]
    assert "Research workbench" in at.title[0].value and "GLASS" in texts(at)


def test_home_on_smoke_artifacts(smoke_store):
    at = run_page("views/home.py")
    assert at.selectbox(key="profile").value in ("smoke", "demo")


def test_home_shows_the_reference_verdict_beside_the_built_one(tmp_store, toy_method, tmp_path, monkeypatch):
    """A committed reference (several seeds) is shown next to the one-seed verdict, with its command."""
    import json

    from workbench import report

    toy_pipeline.build(toy_pipeline.Config.for_profile("demo"), tmp_store)
    ref = report.build_reference("demo", 3, tmp_store, method_names=["toy"], overrides=["toy.n=120"])
    assert ref["seeds"] == [0, 1, 2] and ref["claims"][0]["seeds"] == 3
    assert "toy.n=120" in ref["budget"] and ref["command"].endswith("--seeds 3 --set toy.n=120")
    assert ref["cpu_seconds"] > 0  # the builds' CPU beside their wall time (this host's speed swings)
    assert {r.config["n"] for r in tmp_store.runs("toy")} == {200, 120}  # the reference ran at its own budget
    monkeypatch.setattr(report, "REFERENCE_DIR", tmp_path / "reference")
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "demo-3seeds.json").write_text(json.dumps(ref))
    at = run_page("views/home.py")
    claims = at.dataframe[1].value.set_index("id")
    assert claims.loc["toy.better", "seeds"] == 1
    assert claims.loc["toy.better", "reference verdict"] == "reproduced (3 seeds)"
    assert "workbench reference --profile demo --seeds 3 --set toy.n=120" in texts(at)


def write_toy_study(folder, stable_from: int) -> None:
    """A budget study of the toy method's ``n`` (fixture): toy.better moves until ``stable_from``, then
    stays put within the intervals, so the one rule names ``stable_from`` as the stable budget."""
    import json

    rows = []
    for n in (60, 120, 200, 400):
        estimate = 0.2 if n >= stable_from else 0.0
        rows.append({"method": "toy", "budget": n, "claim": "toy.better", "estimate": estimate, "low": estimate - .05,
                     "high": estimate + .05, "reproduced": n >= stable_from})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "toy-budget.json").write_text(json.dumps({"method": "toy", "rows": rows, "command": "fixture"}))


def test_home_leads_with_the_reference_only_when_it_is_at_the_stable_budget(tmp_store, toy_method, tmp_path,
                                                                          monkeypatch):
    """Issue 26: a reference recognised as built at the stable budget (its ``budgets`` field equals what the
    committed study names) leads, with the built run beside it as "your run"; otherwise Home says plainly
    that the reference is at the demo budget and names the method whose budget is not stable."""
    import json

    from workbench import budget_curves, report

    monkeypatch.setitem(budget_curves.BUDGETS, "toy", "n")
    monkeypatch.setitem(budget_curves.UNITS, "toy", "examples")
    monkeypatch.setattr(budget_curves, "REFERENCE", tmp_path / "studies")
    monkeypatch.setattr(report, "REFERENCE_DIR", tmp_path / "reference")
    (tmp_path / "reference").mkdir()
    write_toy_study(tmp_path / "studies", stable_from=120)
    toy_pipeline.build(toy_pipeline.Config.for_profile("demo"), tmp_store)  # your run: n=200, one seed

    stable = report.build_reference("demo", 3, tmp_store, method_names=["toy"], overrides=["toy.n=120"])
    assert stable["budgets"] == {"toy": 120} and report.at_stable_budget(stable)
    # the same rows said to be at the profile's own n=200: a reference at the demo budget (fixture)
    demo = {**stable, "budgets": {"toy": 200}, "budget": "the demo profile's settings",
            "command": "workbench reference --profile demo --seeds 3"}
    assert not report.at_stable_budget(demo)
    (tmp_path / "reference" / "demo-3seeds.json").write_text(json.dumps(demo))
    at = run_page("views/home.py")
    assert not at.success and "reference: 3 seeds at the demo profile's settings, not at the stable budget" in at.warning[0].value
    assert "toy (stable from 120 examples; the reference has 200)" in at.warning[0].value
    claims = at.dataframe[1].value
    assert list(claims.columns[:5]) == ["method", "claim", "comparison", "verdict", "seeds"]
    assert claims.set_index("id").loc["toy.better", "reference verdict"] == "reproduced (3 seeds)"

    (tmp_path / "reference" / "demo-stable-3seeds.json").write_text(json.dumps(stable))
    at = run_page("views/home.py")  # both files present: the one at the stable budget leads
    assert not at.warning and at.success[0].value.startswith("reference: 3 seeds at the stable budget (toy 120 examples)")
    assert "workbench reference --profile demo --seeds 3 --set toy.n=120" in at.success[0].value
    claims = at.dataframe[1].value
    assert list(claims.columns[:6]) == ["method", "claim", "reference verdict", "reference comparison", "your run",
                                        "your run comparison"]
    row = claims.set_index("id").loc["toy.better"]
    assert row["reference verdict"] == "reproduced (3 seeds)" and row["your run"] == "reproduced" and row["seeds"] == 1

    write_toy_study(tmp_path / "studies", stable_from=200)  # a longer study moves the stable budget: no longer it
    assert not report.at_stable_budget(stable)
    (tmp_path / "studies" / "toy-budget.json").unlink()  # no study at all: nothing is "stable", and nothing crashes
    at = run_page("views/home.py")
    assert not at.success and "not at the stable budget" in at.warning[0].value
