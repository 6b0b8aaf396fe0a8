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
    assert {r.config["n"] for r in tmp_store.runs("toy")} == {200, 120}  # the reference ran at its own budget
    monkeypatch.setattr(report, "REFERENCE_DIR", tmp_path / "reference")
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "demo-3seeds.json").write_text(json.dumps(ref))
    at = run_page("views/home.py")
    claims = at.dataframe[1].value.set_index("id")
    assert claims.loc["toy.better", "seeds"] == 1
    assert claims.loc["toy.better", "reference verdict"] == "reproduced (3 seeds)"
    assert "workbench reference --profile demo --seeds 3 --set toy.n=120" in texts(at)
