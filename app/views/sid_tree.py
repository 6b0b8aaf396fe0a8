"""SID tree: the codebook tree, and for one held-out user what TIGER or GLASS generated and why."""

import streamlit as st

import ui
from workbench.viz import glass as gviz

st.title("SID tree")
st.caption(
    "Every item's semantic ID is a path c1 → c2 → c3 (→ collision digit) in the codebook tree. Pick a "
    "held-out user to see the long history's SID-Tier histogram, the top generated SIDs as paths on the "
    "tree, each beam's retrieved history bucket with its gate, and the true next item."
)


@st.cache_data(show_spinner=False)
def load_tables(path: str):
    from workbench.store import Run

    t = gviz.run_tables(Run(path))
    return t["items"], t["cases"], t["beams"], t["walk"], t["summary"]


with ui.guard():
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
        case = left.selectbox(
            "Held-out user (test case)", pool[:500].tolist(), key="sid-case",
            format_func=lambda i: f"case {i} · user {cases.loc[i, 'user']} · "
                                  f"{'absent-topic' if cases.loc[i, 'absent'] else 'continuing'} · "
                                  f"long history {cases.loc[i, 'long history']}")
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
            st.plotly_chart(gviz.tier_heatmap(walk["tier"][case], k1, walk["tier_edges"], highlight=[truth[0]]),
                            key="sid-tier-heatmap")
        else:
            st.caption("No SID-Tier vectors in this run (no model of it reads the long history).")
        top_k = st.slider("Generated SIDs to draw", 1, len(frame), min(5, len(frame)), key="sid-topk")
        paths = [tuple(int(x) for x in s.split("-")) for s in frame["SID"].head(top_k)]
        focus_options = ["whole tree"] + sorted({p[0] for p in paths} | {truth[0]})
        focus = st.selectbox("Tree: show", focus_options, key="sid-focus",
                             format_func=lambda v: v if isinstance(v, str) else f"only c1={v}")
        kind = st.radio("Layout", ["icicle", "sunburst"], key="sid-layout", horizontal=True)
        st.plotly_chart(gviz.sid_tree(items, focus=None if isinstance(focus, str) else focus, paths=paths, truth=truth,
                                      kind=kind), key="sid-tree-chart")

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
