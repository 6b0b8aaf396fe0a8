"""Helpers shared by the app's pages: the page list, the store, the profile picker, build buttons.

Pages stay small: they read runs through these helpers, draw with ``workbench.viz`` and hold no
method logic. Builds run in a background process (``workbench.background``: one per store, started by
``workbench app --build`` or a build button, joined by every other session); a page whose run is
missing shows that build's progress in a polling fragment and reruns itself when the run lands.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from workbench import background, methods
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


POLL_SECONDS = 2.0
"""How often a page asks the background build how far it is."""


def start_build(names: list[str], profile: str) -> bool:
    """Start the background build of ``names`` for ``profile``, or join the build that runs in this store
    (one at a time). False, with a note, when the running build is of something else."""
    background.start(store().root, profile, names)
    status = background.read(store().root) or {}
    if status.get("profile") == profile and set(names) <= set(status.get("methods") or names):
        return True
    st.warning(f"Another build (profile {status.get('profile')}: {', '.join(status.get('methods', {}))}) runs in "
               "this store; press again when it has finished.")
    return False


def build_button(method: str, profile: str, label: str | None = None, key: str | None = None) -> bool:
    """A button that builds one method's artifacts in the background; True once that build runs."""
    if not st.button(label or f"Build {method} ({profile})", key=key or f"build-{method}-{profile}", type="primary"):
        return False
    return start_build([method], profile)


def _landed(status: dict) -> tuple:
    """What a full rerun of a page must follow: whether the build runs, and which methods landed."""
    built = sorted(name for name, m in (status.get("methods") or {}).items() if m.get("state") == "built")
    return bool(status.get("running")), tuple(built)


def build_progress(method: str | None, profile: str, note: str = "") -> bool:
    """While the store's background build makes ``profile``: its progress (``method``'s, or every
    method's with None), polled every ``POLL_SECONDS`` in a fragment; the whole page reruns (no browser
    reload) when a method lands or the build ends; ``note`` (markdown) above it. False when no such build
    runs; then a build of this profile that failed or was stopped is named in one warning."""
    status = background.read(store().root)
    if not status or status.get("profile") != profile:
        return False
    names = list(status.get("methods") or {})
    if method is not None and names and method not in names:
        return False
    if not status["running"]:
        if status.get("error") and (method is None or status["methods"].get(method, {}).get("state") != "built"):
            st.warning(f"The background build of the {profile} artifacts did not finish: {status['error']}")
        return False
    if note:
        st.info(note)
    _poll(method, _landed(status))
    return True


@st.fragment(run_every=POLL_SECONDS)
def _poll(method: str | None, seen: tuple) -> None:
    status = background.read(store().root) or {}
    if _landed(status) != seen:
        st.rerun()  # a run landed or the build ended: draw the whole page again
    states = status.get("methods") or {}
    if not states:
        st.progress(0.0, text="The build is starting …")
    for name, m in states.items():
        if method is not None and name != method:
            continue
        title = _title(name)
        if m.get("state") == "built":
            st.progress(1.0, text=f"{title}: built")
        elif m.get("state") == "building" and m.get("jobs_done") is not None:
            text = f"{title}: {m['jobs_done']}/{m['jobs']} jobs done"
            st.progress(min(max(float(m.get("share", 0.0)), 0.0), 1.0),
                        text=text + (f" · {m['message']}" if m.get("message") else ""))
        else:
            st.progress(0.0, text=f"{title}: waiting (the cheapest method is built first)")
    st.caption(f"Building in the background since {time.strftime('%H:%M:%S', time.localtime(status.get('started', 0)))} "
               f"(log: `{store().root / background.LOG}`); pages fill in as their method lands.")


def _title(name: str) -> str:
    try:
        return methods.load(name).TITLE
    except WorkbenchError:
        return name


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
    if build_progress(method, profile, note=f"**{_title(method)}** is being built in the background for profile "
                                             f"**{profile}**; this page fills in when it lands."):
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


# ---- the budget study (every method page) ---------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _budget_study(method: str, path: str, mtime: float):
    """The committed study of ``method`` and its figure, read and drawn once per version of the file."""
    from workbench import budget_curves
    from workbench.viz.budget import claims_curve

    study = budget_curves.load(method, Path(path))
    return study, (claims_curve(study, budget_curves.UNITS[method]) if study is not None else None)


def budget_study(method: str) -> None:
    """``method``'s budget curve (``workbench.budget_curves``): each claim's quantity as the training
    budget grows, the stable budget marked and named with the rule's reason. The same for every run,
    so it sits above the run's own tables; a missing or unreadable study file is said in one line."""
    from workbench import budget_curves

    path = budget_curves.path_of(method)
    study, figure = _budget_study(method, str(path), path.stat().st_mtime if path.exists() else 0.0)
    with st.expander("At which training budget do the verdicts settle? Each claim against the budget (measured study)"):
        st.markdown(budget_curves.describe(method, study))
        if study is None:
            return
        st.plotly_chart(figure, key=f"{method}-budget-claims")
        columns = [c for c in ("budget", "claim", "estimate", "low", "high", "reproduced", "a", "b") if c in study["curve"]]
        st.dataframe(study["curve"][columns], hide_index=True, width="stretch", key=f"{method}-budget-table")
        st.caption(budget_curves.provenance(study))


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
