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
    """Sidebar profile selector shared by every page (kept in session state); every page that calls
    it also shows one warning per damaged run of that profile (see :func:`damaged_notice`)."""
    s = store()
    if "profile" not in st.session_state:
        st.session_state["profile"] = default_profile(s)
    profile = st.sidebar.selectbox(
        "Profile", PROFILES, key="profile",
        help="smoke: tiny, for tests · demo: what the app is made for · full: the paper-style study",
    )
    damaged_notice(profile)
    return profile


def damaged_notice(profile: str) -> None:
    """One sentence per damaged run of ``profile`` (unreadable manifest, missing or resized files) with
    the command that rebuilds it. Pages never see such a run: the store's listings skip it."""
    for item in store().damaged():
        if item.profile == profile:
            st.warning(item.sentence)


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


# ---- comparing two variants case by case (every method page) --------------------------------------
@st.cache_resource(show_spinner=False, max_entries=64)  # shared, not copied: a rerun stays fast
def _pair(cache_key: str, _frame, a: str, b: str, outcome: str, slice_name: str):
    """The comparison and its disagreement list, cached per run (``cache_key``) and choice."""
    from workbench import compare

    pair = compare.paired(_frame, a, b, outcome, slice_name)
    return (compare.compare_pair(_frame, a, b, outcome, slice_name, pair=pair),
            compare.disagreements(_frame, a, b, outcome, slice_name, pair=pair))


def open_case(key: str, item, also: dict | None = None) -> None:
    """Open a featured case in the compare view ``key`` (its pair, all cases, the case); ``also`` sets
    the page's own widgets (a callback: runs before the widgets of the next run exist)."""
    from workbench.compare import ALL

    if item.a:
        st.session_state[f"{key}-a"] = item.a
    if item.b:
        st.session_state[f"{key}-b"] = item.b
    st.session_state[f"{key}-slice"] = ALL
    st.session_state[f"{key}-case"] = item.case
    st.session_state.update(also or {})


def featured_cases(items: list, key: str, also=None) -> None:
    """The page's featured cases: each reason with an Open button that opens the case in the compare
    view ``key``; ``also(item) -> dict`` gives page widgets to set with it (the user, the model, …)."""
    if not items:
        return
    st.markdown("**Featured cases** — found in this run by the rule each line states")
    for i, item in enumerate(items):
        text, button = st.columns([6, 1], vertical_alignment="center")
        pair = f" ({item.a} vs {item.b})" if item.a and item.b else ""
        text.markdown(f"**{item.case}** — {item.reason}{pair}")
        button.button("Open", key=f"{key}-featured-{i}", on_click=open_case,
                      args=(key, item, also(item) if also else None))


def compare_view(frame, key: str, show_case, cache_key: str, default: tuple[str, str] | None = None) -> None:
    """Pick variants A and B: the 2 × 2 table with McNemar's exact p and the paired-bootstrap difference,
    a slice filter, the disagreement cases; a selected case opens with A and B side by side through the
    page's ``show_case(case, a, b)`` (its own renderers). ``frame`` is a ``workbench.compare.CaseFrame``;
    ``cache_key`` names it (the run's folder) for the cached comparisons."""
    from workbench.compare import ALL

    variants = list(frame.variants)
    if len(variants) < 2:
        st.info("This run has fewer than two variants with per-case outcomes, so there is nothing to compare; "
                "rebuild it to compare.")
        return
    a0, b0 = default if default and set(default) <= set(variants) else (variants[-1], variants[0])
    for suffix, value in (("a", a0), ("b", b0)):  # a new run may not have the remembered variant
        if st.session_state.get(f"{key}-{suffix}") not in variants:
            st.session_state[f"{key}-{suffix}"] = value
    c1, c2, c3, c4 = st.columns(4)
    a = c1.selectbox("A", variants, key=f"{key}-a", format_func=frame.variants.get)
    b = c2.selectbox("B", variants, key=f"{key}-b", format_func=frame.variants.get)
    outcome = c3.selectbox("Outcome", frame.outcomes, key=f"{key}-outcome") if len(frame.outcomes) > 1 else frame.outcomes[0]
    slice_name = c4.selectbox("Cases", [ALL, *frame.slices], key=f"{key}-slice")
    result, disagree = _pair(cache_key, frame, a, b, outcome, slice_name)

    left, right = st.columns([4, 1])
    left.dataframe(result.table(frame.variants), width="stretch", key=f"{key}-table")
    right.metric("McNemar exact p", "–" if result.n == 0 else f"{result.p_value:.3g}",
                 help="Two-sided exact binomial test of the cases only A or only B gets right.")
    right.metric(f"{outcome}: A − B", "–" if result.n == 0 else f"{result.diff:+.3f}",
                 help=f"95% paired-bootstrap interval [{result.low:+.3f}, {result.high:+.3f}]")
    st.markdown(result.sentence(frame.variants))

    st.caption(f"{len(disagree)} cases where exactly one of them is right — select a row (or pick it below) "
               "to open the case with A and B side by side.")
    event = st.dataframe(disagree, hide_index=True, width="stretch", height=240, key=f"{key}-list",
                         on_select="rerun", selection_mode="single-row")
    rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
    picked = (rows[0], a, b, outcome, slice_name) if rows else None
    if picked and st.session_state.get(f"_{key}-picked") != picked and rows[0] < len(disagree):
        st.session_state[f"_{key}-picked"] = picked  # apply a row selection once, not on every rerun
        st.session_state[f"{key}-case"] = disagree.loc[rows[0], "case"]
    options = [None, *disagree["case"].tolist()]
    current = st.session_state.get(f"{key}-case")
    if current is not None and current not in options:
        options.insert(1, current)  # a featured case both get right (or wrong) stays selectable
    case = st.selectbox("Open case", options, key=f"{key}-case",
                        format_func=lambda c: "— pick a case —" if c is None else str(c))
    if case is not None:
        show_case(case, a, b)
