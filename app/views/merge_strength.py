"""Merge strength: featured cases, slide along the precomputed strength grid of each merge method,
compare two merge settings problem by problem, merge and evaluate any exact strength live."""

from pathlib import Path

import pandas as pd
import streamlit as st

import ui
from workbench.merging import cases as merge_cases
from workbench.merging import overthink, world
from workbench.merging.analysis import pareto_frontier
from workbench.merging.merge_methods import REGISTRY
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


@st.cache_resource(show_spinner=False)  # read-only, shared: no copy per rerun
def tables(path: str) -> dict:
    run = Run(path)
    names = ("summary", "difficulty", "pareto", "examples", "weights")
    return {**{n: run.read_parquet(n) for n in names}, "metrics": run.read_json("metrics"), "losses": run.read_json("losses")}


# Read-only and shared (cache_resource): the outputs hold one row per setting x problem x sample, and
# cache_data would unpickle a copy of them on every rerun.
@st.cache_resource(show_spinner=False)
def compare_tables(path: str):
    """Every setting's output per (problem, sample), the featured cases and every problem's prompt."""
    run, t = Run(path), tables(path)
    frame = merge_cases.case_frame(run.read_parquet("outputs"), t["summary"])
    problems = merge_cases.problems_of(run.config)
    return (frame, merge_cases.featured_cases(frame, t["summary"], t["examples"], problems),
            {i: world.prompt(p) for i, p in problems.items()})


@st.cache_resource(show_spinner=False, max_entries=128)
def figure(path: str, name: str, curves: tuple = (), method: str = "", strength: float = 0.0):
    """One of the page's figures, built once per choice (a plotly figure takes ~0.2 s to build, and a
    slider move would otherwise rebuild all five)."""
    t = tables(path)
    summary = t["summary"]
    parent_rows = {k: tuple(v) for k, v in t["metrics"]["parent_rows"].items()}
    if name == "accuracy_vs_tokens":
        return viz.accuracy_vs_tokens(summary, list(curves), selected=(method, strength), parents=parent_rows,
                                      frontier=pareto_frontier(summary), improvements=t["pareto"])
    if name == "strength_curves":
        trans = t["metrics"]["per_seed"][0]["transition"]
        return viz.strength_curves(summary, method, trans if method == "linear" else None, selected=strength)
    if name == "difficulty_bars":
        return viz.difficulty_bars(t["difficulty"], method, strength, parent_rows)
    if name == "weight_heatmap":
        return viz.weight_heatmap(t["weights"], curves[0])
    return viz.loss_curves(t["losses"])


def show_pair(path: str, case: str, a: str, b: str) -> None:
    """One problem with settings a and b side by side: each one's generation (when the sweep kept its
    text) with its tokens, then every sample of the problem for both."""
    from workbench.compare import case_rows

    frame, _, prompts = compare_tables(path)
    examples = tables(path)["examples"]
    problem, sample = (int(x) for x in case.split("/"))
    rows = case_rows(frame, case, [a, b])
    first = next(r for r in rows.values() if r is not None)
    ops = int(first["ops"])
    st.markdown(f"**Problem {problem}** ({ops} operation{'s' if ops != 1 else ''}), sample {sample}: "
                f"`{prompts.get(problem, '?')}`")
    for column, name in zip(st.columns(2), (a, b)):
        row = rows[name]
        column.markdown(f"**{frame.variants.get(name, name)}**")
        if row is None:
            column.warning("This setting did not answer this problem.")
            continue
        mark = ":green[**right**]" if row["correct"] else ":red[**wrong**]"
        column.markdown(f"{mark} · {int(row['tokens'])} tokens · {'thinks' if row['thinking'] else 'answers directly'}")
        method, strength = merge_cases.parse_setting(name)
        text = examples[(examples["method"] == method) & (examples["strength"].round(6) == round(strength, 6))
                        & (examples["problem"] == problem)]
        if sample == 0 and len(text):
            column.code(text["text"].iloc[0] or "(empty output)", language=None, wrap_lines=True)
        else:
            column.caption("Text not stored: the sweep keeps the text of sample 0 of two problems per difficulty "
                           "(the featured cases are picked among those).")
    both = frame.cases[(frame.cases["problem"] == problem) & frame.cases["variant"].isin([a, b])]
    table = both.pivot_table(index="sample", columns="variant", values=["correct", "tokens"], aggfunc="first", observed=True)
    table = table.reindex(columns=[(m, v) for v in dict.fromkeys((a, b)) for m in ("correct", "tokens")])  # A, then B
    table.columns = [f"{v}: {m}" for m, v in table.columns]
    st.caption("Every sample of this problem")
    st.dataframe(table, width="stretch")


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


@st.cache_resource(show_spinner=False)
def overthink_study(path: str):
    """The committed overthinking study and its tables (None when the checkout lacks it)."""
    study = overthink.load(Path(path))
    return (study, *overthink.frames(study)) if study else (None, None, None, None, None)


def show_overthinking_study() -> None:
    """The dial as a picker of precomputed worlds (benchmarks/bench_merging_overthink.py, 3 seeds)."""
    st.subheader("Along the overthinking dial (committed study, 3 seeds)")
    study, rows, savings, parents_table, transition = overthink_study(str(overthink.STUDY))
    if study is None:
        st.info("The overthinking study is not in this checkout; `python benchmarks/run.py merging_overthink` writes it.")
        return
    st.caption("Each dial point is its own world: the thinking child retrained on traces whose re-checks can drift "
               "off a correct result, with more re-checks on every difficulty and a shorter generation budget. "
               f"{study['cut']}. Written by `{study['command']}` (commit {study['commit'] or '-'}).")
    dial = st.select_slider("Overthinking dial (0 = today's world)", options=study["dials"], key="overthink-dial",
                            format_func=lambda d: f"{d:g}")
    p = parents_table[parents_table["dial"] == dial].iloc[0]
    cols = st.columns(4)
    cols[0].metric("thinking parent accuracy", f"{p['thinking_accuracy']:.3f}",
                   help=f"direct parent {p['direct_accuracy']:.3f}; per seed {p['thinking_accuracy_per_seed']}")
    cols[1].metric("thinking parent tokens", f"{p['thinking_tokens']:.1f}",
                   help=f"on 1-2 operation problems: {p['thinking_easy_tokens']:.1f} (direct parent {p['direct_easy_tokens']:.1f})")
    cols[2].metric("errors that drifted", f"{p['thinking_drift_share']:.0%}",
                   help="had the correct answer in a step, a later re-check rewrote it, ended wrong (planted truth)")
    cols[3].metric("errors cut off by the budget", f"{p['thinking_truncated_share']:.0%}")
    st.plotly_chart(viz.overthink_frontier(rows, p, dial), key="overthink-frontier")
    here = rows[(rows["dial"] == dial) & rows["strict"]]
    if len(here):
        best = here.sort_values("d_accuracy").iloc[-1]
        st.success(f"Strict Pareto improvement over the thinking parent: **{best['method']} λ={best['strength']:g}**, "
                   f"accuracy {best['d_accuracy']:+.3f} {fmt_interval(*best['d_accuracy_interval'])}, tokens "
                   f"{best['d_tokens_rel']:+.1%} {fmt_interval(*best['d_tokens_rel_interval'], pct=True)} "
                   f"({'meets' if best['goal'] else 'misses'} the +2 points at −15% tokens bar).")
    else:
        st.warning("No merge is a strict Pareto improvement over the thinking parent at this dial point "
                   "(both paired intervals over seeds and problems excluding 0).")
    here = transition[transition["dial"] == dial] if len(transition) else transition
    if len(here):
        t = here.iloc[0]
        st.info(f"**Sharp transition at this dial** (the build's rule, over seeds and problems): {t['sentence']}")
    table = savings[savings["dial"] == dial][["method", "saved", "saved_interval"]]
    st.caption("Tokens saved at the thinking parent's accuracy (most saving among each method's points that keep it)")
    st.dataframe(table, hide_index=True, key="overthink-savings")
    case = overthink.featured_drift_case(study, dial)
    if case:
        st.markdown(f"**A drift case** `{case['prompt']}` (answer {case['answer']}): the thinking parent had it, "
                    f"re-checked and lost it; the linear merge at λ={case['merge_strength']:g} stopped earlier.")
        for column, (label, out) in zip(st.columns(2), (("thinking parent", case["parent"]),
                                                        (f"linear λ={case['merge_strength']:g}", case["merge"]))):
            mark = ":green[**right**]" if out["correct"] else ":red[**wrong**]"
            column.markdown(f"**{label}** · {mark} · {out['tokens']} tokens")
            column.code(out["text"], language=None, wrap_lines=True)


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
        frame, featured, _ = compare_tables(str(run.path))

        def also(item) -> dict:  # a featured case also moves the slider to its merge
            method, strength = merge_cases.parse_setting(item.a)
            return {"merge-method": method, "merge-strength": strength}

        ui.featured_cases(featured, "merge-cmp", also=also)

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
        st.plotly_chart(figure(str(run.path), "accuracy_vs_tokens", tuple(chosen or [method]), method, strength),
                        key="acc-tokens")
        a, b = st.columns(2)
        trans = seed_metrics["transition"]
        a.plotly_chart(figure(str(run.path), "strength_curves", (), method, strength),
                       key="curves")
        b.plotly_chart(figure(str(run.path), "difficulty_bars", (), method, strength), key="difficulty")
        if trans["switch_off"] == trans["switch_off"]:
            st.info(f"Linear merges stop thinking around **λ = {trans['switch_off']:.2f}** "
                    f"(95% interval {trans['switch_off_low']:.2f}–{trans['switch_off_high']:.2f}); the share that "
                    f"thinks falls from 90% to 10% between λ = {trans['share90_at']:.2f} and {trans['share10_at']:.2f}.")

        st.subheader("Compare two merge settings problem by problem")
        st.caption("Each case is one output (problem/sample): every setting draws sample s of a problem from the same "
                   "random stream, so two settings are paired on it.")
        thinking = merge_cases.setting(*parent_rows["thinking"])
        ui.compare_view(frame, "merge-cmp", lambda case, a, b: show_pair(str(run.path), case, a, b),
                        default=(merge_cases.featured_setting(summary) or merge_cases.setting(method, strength), thinking),
                        cache_key=str(run.path))

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
                overthink=float(run.config.get("overthink", 0.0)),
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
            st.plotly_chart(figure(str(run.path), "weight_heatmap", (value,)), key="weights")
            st.plotly_chart(figure(str(run.path), "loss_curves"), key="losses")


show_overthinking_study()
with ui.guard():  # the committed studies sit at the end of this page, after the run's own views
    ui.budget_study(METHOD)
