"""Helpers shared by the app's pages: the page list, the store, the profile picker, build buttons.

Pages stay small: they read runs through these helpers, draw with ``workbench.viz`` and hold no
method logic. Slow work happens only when a button is pressed, with ``st.progress``.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from workbench import methods
from workbench.config import PROFILES
from workbench.errors import WorkbenchError
from workbench.store import ArtifactStore, Run

APP_DIR = Path(__file__).resolve().parent

# (file, title, icon, url path, method it needs or None). Pages whose file is missing are skipped,
# so a method's page appears once its file exists.
PAGES = [
    ("views/home.py", "Home", ":material/home:", "home", None),
    ("views/behavior_clusters.py", "Behavior clusters", ":material/scatter_plot:", "behavior-clusters", "needs"),
    ("views/needs_services.py", "Needs & services", ":material/storefront:", "needs-services", "needs"),
    ("views/sid_tree.py", "SID tree", ":material/account_tree:", "sid-tree", "glass"),
    ("views/merge_strength.py", "Merge strength", ":material/tune:", "merge-strength", "merging"),
]


def existing_pages() -> list[tuple[str, str, str, str, str | None]]:
    return [p for p in PAGES if (APP_DIR / p[0]).exists()]


@st.cache_resource
def get_store(root: str | None) -> ArtifactStore:
    return ArtifactStore(root)


def store() -> ArtifactStore:
    """The artifact store ($WORKBENCH_HOME or data/artifacts)."""
    return get_store(os.environ.get("WORKBENCH_HOME"))


def default_profile(s: ArtifactStore) -> str:
    """demo if anything of it is built, else the first profile that has runs, else demo."""
    built = {r.profile for r in s.runs()}
    for profile in ("demo", "smoke", "full"):
        if profile in built:
            return profile
    return "demo"


def profile_picker() -> str:
    """Sidebar profile selector shared by every page (kept in session state)."""
    s = store()
    if "profile" not in st.session_state:
        st.session_state["profile"] = default_profile(s)
    return st.sidebar.selectbox(
        "Profile", PROFILES, key="profile",
        help="smoke: tiny, for tests · demo: what the app is made for · full: the paper-style study",
    )


def build_button(method: str, profile: str, label: str | None = None, key: str | None = None) -> Run | None:
    """A button that builds one method's artifacts with a progress bar; returns the run once built."""
    if not st.button(label or f"Build {method} ({profile})", key=key or f"build-{method}-{profile}", type="primary"):
        return None
    bar = st.progress(0.0, text=f"Building {method} …")

    def progress(message: str, fraction: float) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=f"{method}: {message}")

    run = methods.build(method, profile, store=store(), progress=progress)
    bar.progress(1.0, text=f"{method}: built")
    return run


def require_run(method: str, profile: str, dataset: str = "synthetic") -> Run | None:
    """The run to show, or a note that it is missing with a button to build it (then None)."""
    s = store()
    run = methods.latest(s, method, profile, dataset)
    if run is not None:
        return run
    try:
        methods.load(method)
    except WorkbenchError as err:
        st.warning(str(err))
        return None
    st.info(
        f"Nothing of **{method}** is built for profile **{profile}** yet. Build it here "
        f"(with progress), or from a terminal: `workbench build {method} --profile {profile}`."
    )
    if build_button(method, profile):
        st.rerun()
    return None


def pick_run(method: str, dataset_key: str) -> Run | None:
    """Sidebar profile and dataset pickers for a method's page, then :func:`require_run` on the choice.

    The dataset list holds what is built for that profile (``synthetic`` when nothing is), so a real-data
    run built with ``--dataset`` shows up here without any page change."""
    profile = profile_picker()
    datasets = store().datasets(method, profile) or ["synthetic"]
    dataset = st.sidebar.selectbox("Dataset", datasets, key=dataset_key)
    return require_run(method, profile, dataset)


@contextmanager
def guard() -> Iterator[None]:
    """Show user errors as one sentence and anything unexpected as a collapsed traceback; never crash."""
    try:
        yield
    except WorkbenchError as err:
        st.error(str(err))
    except Exception as err:  # noqa: BLE001 — the app must keep running
        st.error(f"Something went wrong on this page: {type(err).__name__}: {err}")
        with st.expander("Details"):
            st.code(traceback.format_exc())
