"""Merge strength: slide along the precomputed strength grid of each merge method; merge and evaluate
any exact strength live."""

import pandas as pd
import streamlit as st

import ui
from workbench.merging.analysis import pareto_frontier
from workbench.merging.methods import REGISTRY
from workbench.merging.parents import load_parents
from workbench.merging.sweep import evaluate_strength
from workbench.store import Run
from workbench.viz import merging as viz

METHOD = "merging"

st.title("Merge strength")
st.caption(
    "A direct parent and a thinking parent, fine-tuned from one base, merged at many strengths λ "
    "(λ = weight of the direct parent: 0 = thinking, 1 = direct). Every merge answered the same arithmetic "
    "problems; accuracy and mean generated tokens carry 95% bootstrap intervals over problems."
)


@st.cache_data(show_spinner=False)
def tables(path: str) -> dict:
    run = Run(path)
    names = ("summary", "difficulty", "pareto", "examples", "weights")
    return {**{n: run.read_parquet(n) for n in names}, "metrics": run.read_json("metrics"), "losses": run.read_json("losses")}


@st.cache_resource(show_spinner="Loading the parents …")
def parents(path: str):
    return load_parents(Run(path))


def fmt_interval(low: float, high: float, pct: bool = False) -> str:
    return f"[{low:+.1%}, {high:+.1%}]" if pct else f"[{low:+.3f}, {high:+.3f}]"


def show_generations(frame: pd.DataFrame, limit: int) -> None:
    for _, row in frame.head(limit).iterrows():
        mark = ":green[**right**]" if row["correct"] else ":red[**wrong**]"
        st.markdown(f"{mark} · `{row['prompt']}` · {row['n_ops']} ops · {row['tokens']} tokens")
        st.code(row["text"] or "(empty output)", language=None, wrap_lines=True)


profile = ui.profile_picker()
run = ui.require_run(METHOD, profile)
if run is not None:
    with ui.guard():
        t = tables(str(run.path))
        summary, metrics = t["summary"], t["metrics"]
        seed_metrics = metrics["per_seed"][0]
        parent_rows = {k: tuple(v) for k, v in metrics["parent_rows"].items()}
        st.caption(f"Run `{run.path.name}` · {metrics['n_problems']} problems × {metrics['samples']} samples per model "
                   f"at temperature {metrics['temperature']}, top-p {metrics['top_p']}.")

        methods = [m for m in REGISTRY if m in set(summary["method"])]
        left, right = st.columns([1, 3])
        method = left.selectbox("Merge method", methods, key="merge-method",
                                help="; ".join(f"{m}: {REGISTRY[m].summary}" for m in methods))
        grid = sorted(summary.loc[summary["method"] == method, "strength"].tolist())
        if st.session_state.get("merge-strength") not in grid:  # the grid changed with the method
            target = st.session_state.get("merge-strength", 0.0) or 0.0
            st.session_state["merge-strength"] = min(grid, key=lambda s: abs(s - target))
        strength = right.select_slider("Strength λ (weight of the direct parent)", options=grid, key="merge-strength",
                                       format_func=lambda s: f"{s:.2f}")
        row = summary[(summary["method"] == method) & (summary["strength"] == strength)].iloc[0]

        cols = st.columns(4)
        cols[0].metric("accuracy", f"{row['accuracy']:.3f}", f"{row['d_acc_thinking']:+.3f} vs thinking",
                       help=f"95% interval {row['accuracy_low']:.3f}–{row['accuracy_high']:.3f}")
        cols[1].metric("mean tokens", f"{row['tokens']:.1f}", f"{row['rel_tok_thinking']:+.1%} vs thinking",
                       delta_color="inverse")
        cols[2].metric("share that thinks", f"{row['thinking_share']:.0%}")
        cols[3].metric("re-checks per output", f"{row['rechecks']:.2f}")
        st.markdown(
            f"**vs thinking parent:** Δaccuracy {row['d_acc_thinking']:+.3f} "
            f"{fmt_interval(row['d_acc_thinking_low'], row['d_acc_thinking_high'])}, tokens {row['rel_tok_thinking']:+.1%} "
            f"{fmt_interval(row['rel_tok_thinking_low'], row['rel_tok_thinking_high'], pct=True)} · "
            f"**vs direct parent:** Δaccuracy {row['d_acc_direct']:+.3f} "
            f"{fmt_interval(row['d_acc_direct_low'], row['d_acc_direct_high'])}, tokens {row['rel_tok_direct']:+.1%} "
            f"{fmt_interval(row['rel_tok_direct_low'], row['rel_tok_direct_high'], pct=True)}"
        )

        chosen = st.multiselect("Curves", methods, default=sorted({method, "linear"} & set(methods)), key="merge-curves")
        st.plotly_chart(viz.accuracy_vs_tokens(summary, chosen or [method], selected=(method, strength),
                                               parents=parent_rows, frontier=pareto_frontier(summary),
                                               improvements=t["pareto"]), key="acc-tokens")
        a, b = st.columns(2)
        trans = seed_metrics["transition"]
        a.plotly_chart(viz.strength_curves(summary, method, trans if method == "linear" else None, selected=strength),
                       key="curves")
        b.plotly_chart(viz.difficulty_bars(t["difficulty"], method, strength, parent_rows), key="difficulty")
        if trans["switch_off"] == trans["switch_off"]:
            st.info(f"Linear merges stop thinking around **λ = {trans['switch_off']:.2f}** "
                    f"(95% interval {trans['switch_off_low']:.2f}–{trans['switch_off_high']:.2f}); the share that "
                    f"thinks falls from 90% to 10% between λ = {trans['share90_at']:.2f} and {trans['share10_at']:.2f}.")

        st.subheader("Pareto improvements over a parent")
        pareto = t["pareto"]
        st.caption("A merge improves on a parent when its point estimates are at least as good on both axes; "
                   "*significant*: one axis significantly better (95% paired-bootstrap interval excludes 0) and the "
                   f"other not significantly worse. {int(pareto['significant'].sum()) if len(pareto) else 0} significant "
                   f"of {len(pareto)}.")
        st.dataframe(viz.pareto_display(pareto), hide_index=True, key="pareto-table")

        st.subheader(f"Sample generations at {method} λ={strength:.2f}")
        ex = t["examples"]
        ex = ex[(ex["method"] == method) & (ex["strength"] == strength)]
        show_generations(ex, limit=6)

        st.subheader("Merge and evaluate any strength now")
        c1, c2, c3, c4 = st.columns(4)
        live_method = c1.selectbox("method", methods, key="live-method")
        live_strength = c2.number_input("exact strength λ", 0.0, 1.0, value=0.15, step=0.01, format="%.3f",
                                        key="live-strength")
        live_density = c3.number_input("density", 0.05, 1.0, value=float(run.config.get("density", 0.5)), step=0.05,
                                       key="live-density", disabled=not REGISTRY[live_method].uses_density)
        live_n = c4.slider("problems", 12, 120, 36, step=6, key="live-n")
        if st.button("merge and evaluate this exact strength now", key="live-run", type="primary"):
            bar = st.progress(0.0, text="merging …")
            result = evaluate_strength(
                parents(str(run.path)), live_method, float(live_strength), n_problems=int(live_n),
                density=float(live_density), merge_seed=int(run.config.get("merge_seed", 0)),
                progress=lambda msg, f: bar.progress(min(max(f, 0.0), 1.0), text=msg),
            )
            st.session_state["live-result"] = (live_method, float(live_strength), result)
        if "live-result" in st.session_state:
            name, lam, (live_summary, live_frame) = st.session_state["live-result"]
            st.success(f"{name} at λ={lam:.3f}: accuracy {live_summary['accuracy']:.3f}, mean tokens "
                       f"{live_summary['tokens']:.1f}, {live_summary['thinking_share']:.0%} think "
                       f"({live_summary['n_problems']} fresh problems, 1 sample each).")
            show_generations(live_frame.sort_values("n_ops", ascending=False), limit=4)

        with st.expander("The parents' weights: where do they differ?"):
            st.caption(f"Relative L2 distance of the parents over all weights: {seed_metrics['parents_rel_l2']:.1%}.")
            value = st.radio("show", ["rel_l2_parents", "cos_task_vectors", "angle_deg"], horizontal=True, key="weights-value")
            st.plotly_chart(viz.weight_heatmap(t["weights"], value), key="weights")
            st.plotly_chart(viz.loss_curves(t["losses"]), key="losses")
