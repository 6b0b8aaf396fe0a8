"""The entry point builds the navigation from the page files that exist, and every page runs."""

import pytest
from apptest import APP_DIR, run_page

import ui


def test_navigation_lists_existing_pages_and_home_first():
    pages = ui.existing_pages()
    assert pages[0][3] == "home"
    assert all((APP_DIR / p[0]).exists() for p in pages)
    assert len({p[3] for p in pages}) == len(pages)


def test_entry_point_runs(smoke_store):
    run_page("streamlit_app.py")


@pytest.mark.parametrize("page", [p[0] for p in ui.existing_pages()])
def test_every_page_runs_without_error_on_smoke_artifacts(smoke_store, page):
    run_page(page, session_state={"profile": "smoke"})


@pytest.mark.parametrize("page", [p[0] for p in ui.existing_pages() if p[4]])
def test_every_method_page_explains_missing_artifacts(tmp_store, page):
    at = run_page(page, session_state={"profile": "full"})
    assert at.info or at.warning, "a page without artifacts must say so"
