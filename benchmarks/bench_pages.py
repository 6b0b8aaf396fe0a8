"""App pages: warm server time per interaction (switch case, switch variant, move a slider, open a comparison).

Each page runs headless under Streamlit's AppTest on the runs already in the store (``$WORKBENCH_HOME``
or data/artifacts): one run to load the tables and warm the caches, then each interaction several times
with a *different* value each time (a case not opened before, the next variant, the next λ), so the
time includes what a presenter's click really costs on a warm server: reading cached tables, building
the figures of the new choice, serialising the page. AppTest's own parsing of the page is included, so
the numbers are an upper bound of the server's time. Target: at most 1 s each on 2 cores.

``BENCH_PAGES_PROFILE`` picks the profile (default: demo when all three methods are built for it, else
smoke); nothing is built here — build first (``make demo``) to measure the demo runs.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

TITLE = "App pages: warm server time per interaction"
APP = Path(__file__).resolve().parent.parent / "app"
REPEATS = 5


def _profile(store) -> str:
    chosen = os.environ.get("BENCH_PAGES_PROFILE")
    if chosen:
        return chosen
    from workbench import methods

    built = lambda p: all(methods.latest(store, m, p) is not None for m in methods.available())  # noqa: E731
    return "demo" if built("demo") else "smoke"


def _time(at, act, values) -> list[float]:
    """Seconds of one page run after ``act(at, value)``, for each value."""
    out = []
    for value in values:
        act(at, value)
        start = time.perf_counter()
        at.run()
        out.append(time.perf_counter() - start)
        if at.exception:
            raise RuntimeError(f"the page failed: {at.exception[0].value}")
    return out


def _page(name: str, profile: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP / "views" / name), default_timeout=600)
    at.session_state["profile"] = profile
    at.run()
    at.run()  # warm: every cached table and the default view's figures are built
    if at.exception:
        raise RuntimeError(f"{name} failed: {at.exception[0].value}")
    return at


def _spread(values: list, current, n: int) -> list:
    """``n`` values other than ``current``, spread over the list (fresh choices, not cached yet)."""
    rest = [v for v in values if v != current]
    return rest[:: max(1, len(rest) // n)][:n]


def _widget(at, key):
    for kind in ("selectbox", "select_slider", "slider", "radio"):
        for w in getattr(at, kind):
            if w.key == key:
                return w
    raise KeyError(key)


def by_value(key):
    # set_value with the option's value: AppTest's select_index passes the shown label instead, which
    # breaks on selectboxes that show their options through a format function
    return lambda at, value: _widget(at, key).set_value(value)


def _listed(at, key: str) -> list:
    """The cases of a compare view's disagreement list (a selectable dataframe)."""
    return next(d.value for d in at.dataframe if d.key == f"{key}-list")["case"].tolist()


def interactions(profile: str) -> list[tuple[str, str, list[float], float]]:
    """(page, interaction, seconds of each repeat, the host's 1-minute load before it) per interaction."""
    from workbench import methods
    from workbench.glass import cases as glass_cases

    rows = []

    def record(page, what, at, key, values):
        load = os.getloadavg()[0]  # other work on the host slows every number: kept beside it
        rows.append((page, what, _time(at, by_value(key), values), load))

    def value(at, key):
        return _widget(at, key).value

    at = _page("needs_services.py", profile)
    variants = [o.split(" — ")[0] for o in at.selectbox(key="ns_variant").options]
    record("Needs & services", "switch case (user)", at, "ns_user",
           _spread(at.selectbox(key="ns_user").options, value(at, "ns_user"), REPEATS))
    record("Needs & services", "switch variant", at, "ns_variant", _spread(variants, value(at, "ns_variant"), REPEATS))
    record("Needs & services", "compare: switch variant B", at, "ns-cmp-b", _spread(variants, value(at, "ns-cmp-b"), REPEATS))
    record("Needs & services", "compare: open a case", at, "ns-cmp-case", _spread(_listed(at, "ns-cmp"), None, REPEATS))

    at = _page("sid_tree.py", profile)
    n_cases = len(at.selectbox(key="sid-case").options)
    record("SID tree", "switch case (user)", at, "sid-case", _spread(list(range(n_cases)), value(at, "sid-case"), REPEATS))
    record("SID tree", "switch variant (model)", at, "sid-model", (["glass", "tiger"] * REPEATS)[:REPEATS])
    systems = glass_cases.systems_of(methods.latest(_store(), "glass", profile))
    record("SID tree", "compare: switch variant B", at, "sid-cmp-b", _spread(systems, value(at, "sid-cmp-b"), REPEATS))
    record("SID tree", "compare: open a case", at, "sid-cmp-case", _spread(_listed(at, "sid-cmp"), None, REPEATS))

    at = _page("merge_strength.py", profile)
    summary = methods.latest(_store(), "merging", profile).read_parquet("summary")
    grid = sorted(summary.loc[summary["method"] == value(at, "merge-method"), "strength"])
    record("Merge strength", "move the merge slider", at, "merge-strength", _spread(grid, value(at, "merge-strength"), REPEATS))
    record("Merge strength", "switch variant (merge method)", at, "merge-method",
           _spread(at.selectbox(key="merge-method").options, value(at, "merge-method"), REPEATS))
    record("Merge strength", "compare: open a case", at, "merge-cmp-case", _spread(_listed(at, "merge-cmp"), None, REPEATS))

    at = _page("behavior_clusters.py", profile)
    record("Behavior clusters", "move the filter slider", at, "bc_min_support", [2, 4, 6, 8, 3][:REPEATS])
    return rows


def _store():
    from workbench.store import ArtifactStore

    return ArtifactStore(os.environ.get("WORKBENCH_HOME"))


def run() -> list[dict]:
    from workbench import methods

    sys.path.insert(0, str(APP))
    store = _store()
    profile = _profile(store)
    missing = [m for m in methods.available() if methods.latest(store, m, profile) is None]
    if missing:
        return [{"note": f"nothing to measure: {', '.join(missing)} not built for profile {profile} in {store.root}; "
                         f"run `workbench build all --profile {profile}` first"}]
    rows = []
    for page, what, seconds, load in interactions(profile):
        rows.append({"page": page, "interaction": what, "profile": profile, "repeats": len(seconds),
                     "median s": round(statistics.median(seconds), 3), "max s": round(max(seconds), 3),
                     "≤ 1 s": "yes" if max(seconds) <= 1.0 else "no",
                     "host load": round(load, 1)})  # above the core count: other work competed for the CPU
    return rows


if __name__ == "__main__":  # quick look: python benchmarks/bench_pages.py
    for row in run():
        print(row)
