"""Behavior clusters: the records on a precomputed 2-D UMAP map, the behavioral filter, and its
precision/recall against the planted accidental records — thresholds re-applied live, no retraining."""

import pandas as pd
import streamlit as st

import ui
from workbench.needs import clustering
from workbench.store import Run
from workbench.viz import needs as viz

st.title("Behavior clusters")
st.caption(
    "Every point is one history record (a sample of them), placed by UMAP on its context and behavior "
    "features at build time. The behavioral filter keeps a record when it belongs to a habit of its "
    "user (a cluster of at least *min support* of the user's records) or its need is common in that "
    "context for everyone (*min population share*); the rest is dropped from training. Move the "
    "thresholds to see what is filtered and how well that matches the planted accidents."
)


# Read-only and shared (cache_resource): cache_data would unpickle a copy of every record on each
# slider move, which alone costs more than the 1 s an interaction may take on the demo run.
@st.cache_resource(show_spinner=False)
def history_records(path: str) -> pd.DataFrame:
    records = Run(path).read_parquet("records")
    return records[records["split"] != "test"].reset_index(drop=True)


@st.cache_resource(show_spinner=False)
def grid(path: str) -> pd.DataFrame:
    return clustering.threshold_grid(history_records(path))


@st.cache_resource(show_spinner=False, max_entries=32)
def scatter(path: str, color_by: str, highlight: tuple, thresholds: tuple | None):
    """The map (a plotly figure of thousands of points takes about a second to build): rebuilt only when
    what it shows changes — the thresholds matter only when it is coloured by kept/filtered."""
    points = history_records(path)
    if thresholds is not None:
        points = points.assign(kept=clustering.typical_mask(points, *thresholds).to_numpy())
    return viz.umap_scatter(points.dropna(subset=["umap_x"]), color_by, highlight=list(highlight))


with ui.guard():
    run = ui.pick_run("needs", dataset_key="needs_dataset")
    if run is not None:
        path = str(run.path)
        history = history_records(path)
        settings = run.read_json("filter")["settings"]
        has_truth = bool(history["accidental"].notna().any())

        st.subheader("The filter")
        left, right = st.columns(2)
        min_support = left.slider("Min. support: records of the user in the same cluster", 1, 10,
                                  int(settings["min_support"]), key="bc_min_support")
        min_share = right.slider("Min. population share of the need in its context", 0.0, 1.0,
                                 float(settings["min_pop_share"]), 0.05, key="bc_min_share")
        kept = clustering.typical_mask(history, min_support, min_share)
        history = history.assign(kept=kept.to_numpy())
        st.caption(f"Clustering: {settings['cluster_algorithm']} per user (eps {settings['cluster_eps']}); "
                   f"built with min support {settings['min_support']} and min share {settings['min_pop_share']}.")
        cols = st.columns(4)
        if has_truth:
            quality = clustering.filter_quality(kept, history["accidental"].fillna(False).astype(bool))
            cols[0].metric("Precision", f"{quality['precision']:.3f}", help="Of the dropped records, the share that are planted accidents.")
            cols[1].metric("Recall", f"{quality['recall']:.3f}", help="Of the planted accidents, the share that is dropped.")
            cols[2].metric("Dropped", f"{quality['dropped_share']:.1%}")
            cols[3].metric("Accidental share of kept data", f"{quality['accidental_share_after']:.1%}",
                           delta=f"{quality['accidental_share_after'] - quality['accidental_share_before']:+.1%}",
                           delta_color="inverse")
            with st.expander("Precision/recall over all thresholds"):
                st.plotly_chart(viz.filter_tradeoff(grid(path), (min_support, min_share)), key="bc_tradeoff")
        else:
            cols[0].metric("Dropped", f"{1 - kept.mean():.1%}")
            st.info("This dataset has no planted accidental records, so the filter's precision and recall "
                    "cannot be measured; the map shows what it keeps and drops.")

        st.subheader("The map")
        options = [c for c in viz.COLOR_BY if has_truth or c != "accidental"]
        color_by = st.selectbox("Colour by", options, format_func=lambda c: viz.COLOR_BY[c], key="bc_color")
        points = history.dropna(subset=["umap_x"])
        patterns = sorted(points["pattern"].dropna().unique())
        picked = st.multiselect("Select behavior patterns (or lasso/box-select points on the map)", patterns,
                                key="bc_patterns")
        selection = st.session_state.get("bc_scatter")
        lasso = []
        if selection and selection.get("selection", {}).get("points"):
            lasso = [int(p["customdata"][0]) for p in selection["selection"]["points"] if p.get("customdata")]
        chosen = points[points["record"].isin(lasso) | points["pattern"].isin(picked)]
        st.plotly_chart(scatter(path, color_by, tuple(chosen["record"].tolist()[:2000]),
                                (min_support, min_share) if color_by == "kept" else None),
                        key="bc_scatter", on_select="rerun", selection_mode=("lasso", "box", "points"))

        subject = chosen if len(chosen) else points
        st.subheader(f"Selected records ({len(chosen)})" if len(chosen) else "Per-pattern statistics (all mapped records)")
        st.dataframe(clustering.cluster_stats(subject), hide_index=True, width="stretch",
                     column_config={"share filtered": st.column_config.ProgressColumn(format="%.2f", min_value=0, max_value=1),
                                    "share accidental (truth)": st.column_config.ProgressColumn(format="%.2f", min_value=0, max_value=1)})
        if len(chosen):
            columns = ["user", "t", "day", "hour_bin", "scene", "need_text", "category", "merchant", "pattern",
                       "support", "pop_share", "kept"] + (["accidental", "kind"] if has_truth else [])
            st.dataframe(chosen[columns].head(500), hide_index=True, width="stretch")
            if len(chosen) > 500:
                st.caption(f"Showing 500 of {len(chosen)} selected records.")
