"""SID tree: featured cases, two systems compared case by case, the codebook tree, and for one
held-out user what TIGER or GLASS generated and why."""

import streamlit as st

import ui
from workbench.glass import cases as glass_cases
from workbench.store import Run
from workbench.viz import glass as gviz

st.title("SID tree")
st.caption(
    "Every item's semantic ID is a path c1 → c2 → c3 (→ collision digit) in the codebook tree. Pick a "
    "held-out user to see the long history's SID-Tier histogram, the top generated SIDs as paths on the "
    "tree, each beam's retrieved history bucket with its gate, and the true next item."
)


# Read-only and shared (cache_resource): cache_data would unpickle a copy of the beams and the
# walkthrough tensors on every rerun, more than a page interaction may take.
@st.cache_resource(show_spinner=False)
def load_tables(path: str):
    t = gviz.run_tables(Run(path))
    return t["items"], t["cases"], t["beams"], t["walk"], t["summary"]


@st.cache_resource(show_spinner=False)
def case_names(path: str) -> dict[int, str]:
    """The label of every test case in the picker (built once, not per option per rerun)."""
    cases = load_tables(path)[1]
    return {int(i): f"case {i} · user {u} · {'absent-topic' if a else 'continuing'} · long history {n}"
            for i, u, a, n in zip(cases.index, cases["user"], cases["absent"], cases["long history"])}


@st.cache_resource(show_spinner=False)
def compare_tables(path: str):
    """Every system's per-case hits and the featured cases (GLASS vs TIGER)."""
    run = Run(path)
    items, cases, beams, walk, _ = load_tables(path)
    per_case = {s: run.read_parquet(f"per_case/{s}") for s in glass_cases.systems_of(run)}
    frame = glass_cases.case_frame(per_case, cases) if per_case else None
    featured = glass_cases.featured_cases(per_case, cases, items, beams, walk) if per_case else []
    return frame, featured


@st.cache_resource(show_spinner=False, max_entries=64)
def tree(path: str, focus, paths: tuple, truth: tuple, kind: str = "icicle", other_paths: tuple | None = None,
         names: tuple = ("", "")):
    """The codebook tree with highlighted paths (a plotly figure takes ~0.3 s to build: built once per view)."""
    return gviz.sid_tree(load_tables(path)[0], focus=focus, paths=list(paths), truth=truth, kind=kind,
                         other_paths=None if other_paths is None else list(other_paths), names=names)


@st.cache_resource(show_spinner=False, max_entries=64)
def heatmap(path: str, case: int, k1: int, c1: int):
    walk = load_tables(path)[3]
    return gviz.tier_heatmap(walk["tier"][case], k1, walk["tier_edges"], highlight=[c1])


def show_pair(path: str, labels: dict, case: int, a: str, b: str) -> None:
    """One held-out user with systems a and b side by side: each one's beams on the tree, then the
    bucket GLASS retrieved for its winning beam (the one that hit, else its best)."""
    items, cases, beams, walk, _ = load_tables(path)
    target = int(cases.loc[case, "target"])
    levels = [c for c in ("c1", "c2", "c3", "c4") if c in items]
    truth = tuple(int(v) for v in items.loc[target, levels])
    buckets = gviz.case_buckets(walk, case)
    st.markdown(f"**Case {case}** (user {cases.loc[case, 'user']}, "
                f"{'absent' if cases.loc[case, 'absent'] else 'continuing'} topic) — true next item "
                f"**{items.loc[target, 'name']}**, SID `{gviz.sid_label(truth)}`.")
    frames, top = {}, {}
    for column, system in zip(st.columns(2), (a, b)):
        column.markdown(f"**{labels.get(system, system)}**")
        if system not in beams:
            column.caption("Beams are stored for TIGER and GLASS only; this system's per-case hits are in the table above.")
            continue
        frame = gviz.beams_frame(beams[system], case, items, target, buckets)
        frames[system] = frame
        hit = frame["hit"].astype(bool)
        column.caption(f"ranks the true item #{int(frame.loc[hit, 'rank'].iloc[0])}" if hit.any()
                       else f"the true item is not in its top {len(frame)}")
        column.dataframe(frame, hide_index=True, width="stretch", key=f"sid-cmp-beams-{system}")
        top[system] = tuple(tuple(int(x) for x in sid.split("-")) for sid in frame["SID"].head(5))
    if top:  # both beam lists on one tree: A orange, B blue
        first, *other = list(top)
        focus = truth[0] if len(items) > 2000 else None  # a big catalogue: the target's branch only
        st.plotly_chart(tree(path, focus, top[first], truth, other_paths=top[other[0]] if other else None,
                             names=(labels.get(first, first), labels.get(other[0], other[0]) if other else "")),
                        key="sid-cmp-tree")
    if "glass" in frames:
        frame = frames["glass"]
        hit = frame["hit"].astype(bool)
        row = frame[hit].iloc[0] if hit.any() else frame.iloc[0]
        c1 = int(row["SID"].split("-")[0])
        st.caption(f"GLASS's retrieved bucket for its {'winning' if hit.any() else 'best'} beam #{row['rank']} "
                   f"(SID {row['SID']}): the user's long-term items whose SID starts with {c1}, oldest first; "
                   f"gate {row['gate']}.")
        st.dataframe(gviz.bucket_frame(buckets[c1], items, target), hide_index=True, width="stretch", key="sid-cmp-bucket")


with ui.guard():
    ui.budget_study("glass")
    run = ui.pick_run("glass", dataset_key="sid-dataset")
    if run is not None:
        items, cases, beams, walk, summary = load_tables(str(run.path))
        st.caption(f"Data: {summary['data']}")
        for warning in summary.get("sid_warnings", {}).get("base", []):
            st.warning(f"Semantic IDs: {warning}.")
        if not beams:
            st.warning("This run has no stored beams (TIGER/GLASS were not among its systems).")
            st.stop()
        system = st.sidebar.radio("Model", list(beams), format_func=str.upper, key="sid-model", horizontal=True)

        frame_all, featured = compare_tables(str(run.path))
        if frame_all is None:
            st.info("This run has no per-case tables, so systems cannot be compared case by case; rebuild to compare: "
                    f"`workbench build glass --profile {run.profile}`.")
        else:
            ui.featured_cases(featured, "sid-cmp", also=lambda f: {"sid-case": int(f.case), "sid-slice": "all"})
            st.subheader("Compare two systems case by case")
            ui.compare_view(frame_all, "sid-cmp", lambda c, a, b: show_pair(str(run.path), frame_all.variants, int(c), a, b),
                            default=("glass", "tiger"), cache_key=str(run.path))
            st.divider()
            st.subheader("One held-out user in detail")

        # ---- pick a user (a held-out test case) ------------------------------------------------
        left, right = st.columns([2, 1])
        slice_name = right.radio("Cases", ["all", "absent-topic", "continuing"], key="sid-slice", horizontal=True,
                                 help="absent-topic: the next item's topic is not in the short window")
        pool = cases.index.to_numpy()
        if slice_name != "all":
            pool = pool[cases["absent"].to_numpy() == (slice_name == "absent-topic")]
        if len(pool) == 0:
            st.info("No test case in this slice.")
            st.stop()
        options = pool[:500].tolist()
        if st.session_state.get("sid-case") in set(pool.tolist()) - set(options):
            options.append(st.session_state["sid-case"])  # a featured case beyond the first 500
        names = case_names(str(run.path))
        case = left.selectbox("Held-out user (test case)", options, key="sid-case", format_func=names.__getitem__)
        target = int(cases.loc[case, "target"])
        levels = [c for c in ("c1", "c2", "c3", "c4") if c in items]
        truth = tuple(int(v) for v in items.loc[target, levels])
        k1 = int(items["c1"].max()) + 1
        frame = gviz.beams_frame(beams[system], case, items, target, gviz.case_buckets(walk, case))
        hit = frame["hit"].astype(bool)
        st.markdown(
            f"**True next item:** {items.loc[target, 'name']} (SID `{gviz.sid_label(truth)}`) — "
            + (f"{system.upper()} ranks it **#{int(frame.loc[hit, 'rank'].iloc[0])}**." if hit.any()
               else f"not in {system.upper()}'s top {len(frame)}.")
        )

        # ---- the long history and the tree -----------------------------------------------------
        if walk["tier"].shape[1]:
            st.plotly_chart(heatmap(str(run.path), case, k1, truth[0]),
                            key="sid-tier-heatmap")
        else:
            st.caption("No SID-Tier vectors in this run (no model of it reads the long history).")
        top_k = st.slider("Generated SIDs to draw", 1, len(frame), min(5, len(frame)), key="sid-topk")
        paths = [tuple(int(x) for x in s.split("-")) for s in frame["SID"].head(top_k)]
        focus_options = ["whole tree"] + sorted({p[0] for p in paths} | {truth[0]})
        focus = st.selectbox("Tree: show", focus_options, key="sid-focus",
                             format_func=lambda v: v if isinstance(v, str) else f"only c1={v}")
        kind = st.radio("Layout", ["icicle", "sunburst"], key="sid-layout", horizontal=True)
        st.plotly_chart(tree(str(run.path), None if isinstance(focus, str) else focus, tuple(paths), truth, kind),
                        key="sid-tree-chart")

        # ---- the beams and what each one retrieved ---------------------------------------------
        st.subheader(f"Top {len(frame)} generated SIDs ({system.upper()})")
        st.dataframe(frame, hide_index=True, width="stretch", key="sid-beams")
        if system == "glass":
            beam_rank = st.selectbox("Retrieved history bucket of beam", frame["rank"].tolist(), key="sid-beam",
                                     format_func=lambda r: f"#{r}: SID {frame.loc[frame['rank'] == r, 'SID'].iloc[0]}")
            row = frame[frame["rank"] == beam_rank].iloc[0]
            c1 = int(row["SID"].split("-")[0])
            st.caption(f"Hard search with c1={c1}: the user's {row['bucket size']} most recent long-term items whose "
                       f"SID starts with {c1} (oldest first). Mean gate after the c1 step: {row['gate']}.")
            st.dataframe(gviz.bucket_frame(gviz.case_buckets(walk, case)[c1], items, target), hide_index=True,
                         width="stretch", key="sid-bucket")
        else:
            st.caption("TIGER reads only the short window; switch the model to GLASS to see the retrieved buckets.")
        window = walk["window"][case]
        st.caption("Short window (oldest → newest): " + ", ".join(items.loc[int(i), "name"] for i in window[window >= 0][-10:]))
        if "user_strength" in walk:
            topics, strength = walk["user_topics"][case], walk["user_strength"][case]
            planted = ", ".join(f"topic {t}: {s:.2f}" for t, s in zip(topics, strength) if t >= 0)
            st.caption(f"Planted long-term topics and strengths of this user: {planted}.")
