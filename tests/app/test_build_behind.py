"""The app first, the build behind it: from an empty store the Home button starts a background build
(the real ``workbench.background`` process, building the toy method through the runner), every page
shows its progress while it runs, a second session joins it, and the pages fill in once it lands."""

import os
import time
from pathlib import Path

import pytest

import toy_pipeline
from apptest import APP_DIR, assert_clean, run_page, texts
from streamlit.testing.v1 import AppTest

from workbench import background, methods, report

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture
def toy_only(tmp_store, toy_method, monkeypatch):
    """Only the toy method, known to the build process too; its one job takes 4 s."""
    monkeypatch.setattr(methods, "METHODS", {"toy": methods.METHODS["toy"]})
    monkeypatch.setattr(background, "command", toy_pipeline.background_command)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS.parent), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("TOY_JOB_SECONDS", "4")
    # no committed reference: its claims are the real methods', and Home's table keeps its own layout
    monkeypatch.setattr(report, "REFERENCE_DIR", tmp_store.root / "no-reference")
    yield tmp_store
    background.wait_stopped(tmp_store.root, timeout=120)


def toy_page():
    """A method page as the real ones start: the run, or the build's progress."""
    import ui

    run = ui.require_run("toy", "demo")
    if run is not None:
        import streamlit as st

        st.success(f"showing {run.path.name}")


def progress_texts(at: AppTest) -> str:
    return "\n".join(str(p.proto.text) for p in at.get("progress"))


def built_status(at: AppTest) -> list:
    frame = at.dataframe[0].value
    return frame[frame["method"] == "Toy"]["status"].tolist()


def test_from_an_empty_store_the_pages_follow_the_build_behind_the_app(toy_only):
    root = toy_only.root
    home = run_page("views/home.py")
    assert built_status(home) == ["not built"]
    home.button(key="build-all").click().run()
    assert_clean(home)
    assert background.running(root)  # the build process holds the store's lock
    assert "Toy" in progress_texts(home) or "starting" in progress_texts(home)
    assert "build-all" not in [b.key for b in home.button]  # a build runs: no button to start another

    page = AppTest.from_function(toy_page, default_timeout=60)
    page.run()
    assert_clean(page)
    assert "being built in the background" in texts(page) and page.get("progress")
    assert not page.success  # nothing to show yet

    second = run_page("views/home.py")  # another browser session joins the build: no second button
    assert "build-all" not in [b.key for b in second.button]
    assert second.get("progress")

    deadline = time.monotonic() + 120
    while background.running(root) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert background.read(root)["state"] == "done"
    page.run()  # in the browser the fragment's poll reruns the page; here we rerun it ourselves
    assert_clean(page)
    assert page.success and page.success[0].value.startswith("showing demo-")
    home.run()
    assert_clean(home)
    assert built_status(home) == ["built"]
    assert home.dataframe[1].value.set_index("id").loc["toy.better", "verdict"] == "reproduced"
    assert len(toy_only.runs("toy")) == 1  # one build, although two sessions and a page asked


def test_a_method_pages_build_button_builds_behind_the_page(toy_only):
    page = AppTest.from_function(toy_page, default_timeout=60)
    page.run()
    assert "Nothing of **toy** is built" in texts(page)
    page.button(key="build-toy-demo").click().run()
    assert_clean(page)
    assert "being built in the background" in texts(page)  # the page reran into the build's progress
    assert background.wait_stopped(toy_only.root, timeout=120)
    page.run()
    assert page.success and background.read(toy_only.root)["state"] == "done"
