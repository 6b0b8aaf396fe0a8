"""Needs & services: featured cases, two variants compared case by case, one user's history and test
case with the generated chain need → category → ranked services beside the truth, per model variant;
and an error-analysis table over all test cases."""

import pandas as pd
import streamlit as st

import ui
from workbench.needs import budget as needs_budget
from workbench.needs import cases as needs_cases
from workbench.needs import checkins as needs_checkins
from workbench.needs import coupling as needs_coupling
from workbench.store import Run
from workbench.viz import needs as viz

st.title("Needs & services")
st.caption(
    "Pick a user to see their history, the context of their test case and what each model variant "
    "generated: the need, the service category and a ranked list of merchants, each stage marked right "
    "or wrong against the truth. Below, every test case of every variant, filterable by the stage that "
    "failed; select a row to open that user."
)


# Read-only tables are shared (cache_resource): cache_data would unpickle a copy of every table on
# every rerun, which alone costs more than the 1 s a page interaction may take on the demo run.
@st.cache_resource(show_spinner=False)
def tables(path: str) -> dict[str, pd.DataFrame]:
    run = Run(path)
    predictions = run.read_parquet("predictions")
    seed = run.manifest["seed"]
    return {
        "predictions": predictions[predictions["seed"] == seed].reset_index(drop=True),
        "records": run.read_parquet("records"),
        "cases": run.read_parquet("cases"),
        "users": run.read_parquet("users"),
        "merchants": run.read_parquet("merchants"),
    }


@st.cache_resource(show_spinner=False)
def lookups(path: str) -> dict:
    """What every rerun would otherwise recompute from the tables (kept warm: a rerun stays well under 1 s)."""
    t = tables(path)
    preds, cases = t["predictions"], t["cases"]
    return {"present": set(preds["variant"].unique()), "cities": sorted(preds["city"].unique()),
            "users": sorted(cases["user"].unique()), "user_of": dict(zip(cases["record"].astype(int), cases["user"])),
            "errors": viz.error_frame(preds),
            "stages": needs_cases.stage_breakdown(preds, list(Run(path).read_json("dataset")["variants"]))}


@st.cache_resource(show_spinner=False, max_entries=256)
def user_history(path: str, user: str) -> tuple[pd.DataFrame, object]:
    """One user's history (test records left out) and its timeline figure."""
    records = tables(path)["records"]
    history = records[(records["user"] == user) & (records["split"] != "test")]
    return history, viz.history_timeline(history)


@st.cache_resource(show_spinner=False)
def compare_tables(path: str):
    """The per-case frame of every variant and the featured cases (both from the main seed)."""
    run, t = Run(path), tables(path)
    frame = needs_cases.case_frame(t["predictions"], run.read_json("dataset")["variants"])
    return frame, needs_cases.featured_cases(t["predictions"], t["records"])


@st.cache_resource(show_spinner=False)
def training_figures(path: str) -> list:
    """The run's SFT loss curves and GRPO per-reward curves (empty when the run trained neither)."""
    run = Run(path)

    def main_seed(name: str) -> pd.DataFrame:
        frame = run.read_parquet(name) if run.exists(f"{name}.parquet") else pd.DataFrame()
        return frame[frame["seed"] == run.manifest["seed"]] if "seed" in frame else frame

    figures = []
    if not (sft := main_seed("sft_curves")).empty:
        figures.append(("SFT loss per variant (line dash: curriculum stage)", viz.sft_curves(sft)))
    if not (rl := main_seed("rl_curves")).empty:
        figures.append(("GRPO: each reward's mean per step, and the share of groups whose rewards were all equal "
                        "(dotted: such a group teaches nothing)", viz.rl_curves(rl)))
    return figures


def case_header(case: pd.Series) -> str:
    return (f"**Test case** of {case['user']} — {case['day']}, {case['hour_bin'].removeprefix('h_')}, at "
            f"**{case['scene']}**, {case['weather']}, {case['city']}"
            + (" · *long-tail situation*" if case["long_tail"] else "")
            + (" · *cross-city*" if case["set"] == "cross_city" else ""))


def show_pair(t: dict, catalog: dict, record, a: str, b: str) -> None:
    """One test case with variants a and b side by side: both chains, then the habit lines each read."""
    case = t["cases"].set_index("record").loc[record]
    st.markdown(case_header(case) + f" · true need **{case['need_text']}**")
    preds = t["predictions"]
    for column, variant in zip(st.columns(2), (a, b)):
        row = preds[(preds["record"] == record) & (preds["variant"] == variant)]
        column.markdown(f"**{variant}**" + (f": `{row.iloc[0]['completion']}`" if len(row) and row.iloc[0]["completion"] else ""))
        if row.empty:
            column.warning(f"No prediction of {variant} for this case.")
        else:
            column.dataframe(viz.chain_frame(row.iloc[0], catalog), hide_index=True, width="stretch")
    lines = needs_cases.habit_diff(case, a, b)
    if lines.empty:
        st.caption("Neither variant reads a prompt (baselines), so there are no habit lines to compare.")
    else:
        differ = int((lines.iloc[:, 1:].nunique(axis=1) > 1).sum()) if lines.shape[1] > 2 else 0
        st.caption(f"Habit lines in the prompts ({differ} read by only one of them, listed first): "
                   "`r1` lines are the user's habits, `r2` other records, `xN` how often.")
        st.dataframe(lines, hide_index=True, width="stretch")


@st.cache_resource(show_spinner=False)
def budget_figure(path: str, mtime: float, baseline: str | None = None, baseline_mtime: float = 0.0):
    """The committed study and its figure (beside the ``baseline`` study's language-model lines when
    given), read and drawn once per version of the files (not per rerun)."""
    study = needs_budget.load(path)
    if study is None:
        return None, None
    base = needs_budget.load(baseline) if baseline else None
    return study, viz.budget_curve(needs_budget.beside_baseline(study, base) if base is not None else study["curve"])


STUDIES = (
    (needs_budget.REFERENCE, "Does the joint model catch the isolated pipeline with more SFT budget? (measured study)"),
    (needs_budget.EVIDENCE, "Does the chain catch up when its prompt lists the user's merchants with their counts? "
                            "(measured study)"),
)


def budget_study() -> None:
    """The committed studies (benchmarks/bench_needs_budget.py): the same for every run, so they sit
    above the run's own tables."""
    mtime = lambda p: p.stat().st_mtime if p.exists() else 0.0  # noqa: E731
    for i, (path, title) in enumerate(STUDIES):
        base = STUDIES[0][0] if i else None  # the evidence study is drawn beside the plain prompt's lines
        study, figure = budget_figure(str(path), mtime(path), str(base) if base else None, mtime(base) if base else 0.0)
        with st.expander(title):
            if study is None:
                st.caption(f"No such study in this checkout yet: `python benchmarks/run.py needs_budget` measures it "
                           f"(its settings for {path.name}: the docstring of `benchmarks/bench_needs_budget.py`).")
                continue
            st.markdown(needs_budget.answer(study["verdicts"]).replace("\n", "  \n"))
            st.plotly_chart(figure, key=f"ns_budget_curve_{i}")
            st.dataframe(study["verdicts"], hide_index=True, width="stretch")
            st.caption(f"{study['changed']}; seed {study['seed']}; `{study['command']}` at commit {study['commit']}, "
                       f"{study['created']}. The isolated pipeline has no language model, so the budget cannot move it.")
            if study.get("note"):
                st.caption(study["note"])


@st.cache_resource(show_spinner=False)
def coupling_figures(path: str, mtime: float):
    """The committed coupling study and its three figures, read and drawn once per version of the file."""
    study = needs_coupling.load(path)
    if study is None or study["curve"].empty:
        return study, ()
    curve = study["curve"]
    return study, (viz.coupling_curve(study["points"]), viz.coupling_ratio(curve, needs_coupling.GOAL),
                   viz.coupling_stages(curve))


def coupling_study() -> None:
    """Where does the joint model win? The committed coupling studies (benchmarks/bench_needs_coupling.py),
    one per way of training the language models; the reader picks one."""
    present = {label: path for label, path in needs_coupling.studies().items() if path.exists()}
    with st.expander("Where does the joint model win? The world's coupling dial (measured study)"):
        st.markdown(
            "The generated world draws need | context, then category | need, then merchant | category and user "
            "— exactly the isolated pipeline's factorisation, so there a fitted pipeline is close to the best "
            "possible. The **coupling** dial (`--set coupling=0.5`) plants three dependencies across the stages "
            "that real life has: the merchant of a category follows the need's occasion, the category follows "
            "the context, the next need follows the last order's outcome. Each is measured on the generated "
            "data (conditional mutual information, bits, in the table below). Two pipelines stand beside the "
            "full framework: `isolated` (the paper's prior work: the user's usual category for the need) and "
            "`isolated_ctx`, whose category stage also reads the context (a classifier kept only where it beats "
            "the rule on validation cases) — every planted dependency is read from the context, so what the "
            "joint model gains over `isolated_ctx` is what joint modelling adds. With the loss on the prompt "
            "in every SFT phase the tiny model learns the need from the habit lines but copies their category "
            "and misses the weather rule; with it in the need phase only (`--set prompt_loss_stages=need`) it "
            "learns both.")
        label = st.radio("Language models trained with", list(present), key="ns_coupling_study",
                         horizontal=True) if len(present) > 1 else None
        path = present[label] if label else next(iter(present.values()), needs_coupling.REFERENCE)
        study, figures = coupling_figures(str(path), path.stat().st_mtime if path.exists() else 0.0)
        if study is None:
            st.caption("No coupling study in this checkout yet: `python benchmarks/run.py needs_coupling` measures it.")
            return
        if not figures:
            st.caption("The study has no dial setting with both the full framework and the isolated pipeline yet.")
            return
        st.markdown(needs_coupling.answer(study["curve"]).replace("\n", "  \n"))
        for i, figure in enumerate(figures):
            st.plotly_chart(figure, key=f"ns_coupling_{i}")
        st.dataframe(study["points"], hide_index=True, width="stretch")
        # the first series' settings are the file's own fields, each further series' under "series"
        series = [(0, study), *((float(n), meta) for n, meta in study.get("series", {}).items())]
        series = [(n, meta) for n, meta in series if "cut" in meta]  # a study may hold no first series
        for n, meta in series:
            named = f" ({needs_coupling.series_name(n)})" if len(series) > 1 else ""
            featured = meta.get("featured")
            if featured:
                st.markdown(f"**A case at coupling {featured['coupling']:g}{named}** where the full framework is right "
                            "and the isolated pipeline, with the same need and category, ranked another merchant of "
                            "that category first:")
                st.code(featured["prompt"], language=None, wrap_lines=True)
                st.dataframe(needs_coupling.featured_table(featured), width="stretch")
        for n, meta in series:
            named = f"{needs_coupling.series_name(n)}: " if len(series) > 1 else ""
            st.caption(f"{named}What was cut: {meta['cut']}. Settings: {meta['settings']}. `{meta['command']}` at "
                       f"commit {meta['commit']}, {meta['created']}.")


@st.cache_resource(show_spinner=False)
def checkins_figures(path: str, mtime: float):
    """The committed real check-ins study and its figures (HR@1, HR@3), read and drawn once per version."""
    study = needs_checkins.load(path)
    if study is None or study["levels"].empty:
        return study, ()
    return study, tuple(viz.checkins_levels(study["levels"], m, needs_checkins.LABELS) for m in ("HR@1", "HR@3"))


def checkins_study() -> None:
    """And on real check-ins? The committed study over seeds (benchmarks/bench_needs_checkins.py)."""
    path = needs_checkins.REFERENCE
    study, figures = checkins_figures(str(path), path.stat().st_mtime if path.exists() else 0.0)
    with st.expander("And on real check-ins? TSMC and MAT over 3 seeds (measured study)"):
        st.markdown(
            "The same variants on two public periods of New York check-ins, at the stable budget (3,000 SFT "
            "steps), 3 seeds each: the user's own history (the baseline to beat on real data), the two pipelines, "
            "the flat model, clustered SFT, the full framework with the chain that keeps its alternatives "
            "(services ranked by their marginal over 4 (need, category) paths) and the same model's **greedy "
            "chain** (one path). Intervals are 95% over seeds and cases.")
        if study is None or not figures:
            st.caption("No check-ins study in this checkout yet: `python benchmarks/run.py needs_checkins` measures it "
                       "(it needs the datasets under ../shared/data).")
            return
        if not study["versus"].empty:
            st.markdown(needs_checkins.answer(study["versus"]).replace("\n", "  \n"))
        for i, figure in enumerate(figures):
            st.plotly_chart(figure, key=f"ns_checkins_{i}")
        st.markdown("**The full framework against each other variant** (same cases, paired):")
        st.dataframe(study["versus"], hide_index=True, width="stretch")
        st.markdown("**Where each variant loses, stage by stage** (mean over seeds; the history names a need and "
                    "a category too, its most frequent in the user's records, but ranks the user's merchants of every "
                    "category, so its HR@1 is not bounded by them):")
        st.dataframe(study["stages"], hide_index=True, width="stretch")
        st.caption(f"Points: {', '.join(study['points'])}. Settings: {study['settings']}. `{study['command']}` at "
                   f"commit {study['commit']}, {study['created']}.")


def evidence_caption(dataset: dict, config: dict) -> str:
    """What each side of the comparison was given: the isolated pipeline's chosen need classifier and
    ranking, and whether the language model's prompts listed the user's merchants with their counts."""
    chosen = dataset.get("isolated_need_classifier") or {}
    scores = ", ".join(f"{k} {v:.3f}" for k, v in chosen.get("valid_need_acc", {}).items())
    classifier = f"{chosen['kind']} need classifier" + (f" (validation need accuracy {scores})" if scores else "") \
        if chosen else "logistic-regression need classifier"
    n = int(config.get("evidence", 0) or 0)
    prompt = (f"the language model's prompts list the user's {n} best merchants with their use counts, by category"
              if n else "the language model's prompts show habit lines only (no evidence block: `--set evidence=16` adds it)")
    return (f"Isolated pipeline: {classifier}, services ranked by the user's uses at the place, then all uses, then "
            f"recency; {prompt}.")


with ui.guard():
    ui.budget_study("needs")
    budget_study()
    coupling_study()
    checkins_study()
    run = ui.pick_run("needs", dataset_key="needs_dataset")
    if run is not None:
        t = tables(str(run.path))
        preds, records, cases = t["predictions"], t["records"], t["cases"]
        labels = run.read_json("dataset")["variants"]
        look = lookups(str(run.path))
        variants = [v for v in labels if v in look["present"]]
        catalog = dict(zip(t["merchants"]["merchant"], t["merchants"]["category"]))

        figures = training_figures(str(run.path))
        if figures:
            with st.expander("Training curves: SFT loss and GRPO per-reward curves"):
                for i, (caption, figure) in enumerate(figures):
                    st.caption(caption)
                    st.plotly_chart(figure, key=f"ns_training_{i}")

        frame, featured = compare_tables(str(run.path))
        ui.featured_cases(featured, "ns-cmp", also=lambda f: {
            "ns_user": look["user_of"][int(f.case)], "ns_case": int(f.case), "ns_search": "",
            **({"ns_variant": f.a} if f.a in variants else {})})
        st.subheader("Compare two variants case by case")
        ui.compare_view(frame, "ns-cmp", lambda record, a, b: show_pair(t, catalog, record, a, b),
                        default=("full", "isolated") if {"full", "isolated"} <= set(variants) else None,
                        cache_key=str(run.path))
        st.divider()

        st.subheader("One user in detail")
        user_area = st.container()
        st.divider()
        st.subheader("Error analysis: every test case")
        st.caption("Where each variant loses (in-city test cases, main seed): each stage's accuracy given the "
                   "earlier stages were right, and the share of cases that first fail at each stage.")
        st.dataframe(look["stages"], width="stretch", key="ns_stages")
        st.caption(evidence_caption(run.read_json("dataset"), run.config))
        f1, f2, f3, f4 = st.columns(4)
        stages = f1.multiselect("Failed stage", ["need", "category", "service", "none"], default=["need", "category", "service"],
                                key="ns_err_stage")
        tail = f2.selectbox("Long tail", ["all", "long-tail only", "not long-tail"], key="ns_err_tail")
        cities = f3.multiselect("City", look["cities"], key="ns_err_city")
        shown = f4.multiselect("Variants", variants, default=[v for v in ("isolated", "full") if v in variants] or variants[:1],
                               key="ns_err_variants")
        errors = look["errors"]
        keep = errors["failed_stage"].isin(stages) & errors["variant"].isin(shown or variants)
        if tail != "all":
            keep &= errors["long_tail"] == (tail == "long-tail only")
        if cities:
            keep &= errors["city"].isin(cities)
        errors = errors[keep].reset_index(drop=True)
        counts = errors.groupby(["variant", "failed_stage"]).size().unstack(fill_value=0)
        st.caption(f"{len(errors)} cases match. Failures by stage: "
                   + "; ".join(f"**{v}** " + ", ".join(f"{s} {n}" for s, n in row.items()) for v, row in counts.iterrows()))
        event = st.dataframe(errors, hide_index=True, width="stretch", height=320, key="ns_errors",
                             on_select="rerun", selection_mode="single-row")
        rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
        if rows and st.session_state.get("_ns_opened") != (rows[0], len(errors)):
            st.session_state["_ns_opened"] = (rows[0], len(errors))
            st.session_state["ns_user"] = errors.loc[rows[0], "user"]
            st.session_state["ns_case"] = int(errors.loc[rows[0], "record"])
            st.rerun()

        with user_area:
            all_users = look["users"]
            query = st.text_input("Find a user (part of the id)", key="ns_search").strip()
            matching = [u for u in all_users if query.lower() in u.lower()] or all_users
            if st.session_state.get("ns_user") not in matching:
                st.session_state["ns_user"] = matching[0]
            c1, c2 = st.columns([2, 3])
            user = c1.selectbox("User", matching, key="ns_user")
            default_variant = "full" if "full" in variants else variants[0]
            if st.session_state.get("ns_variant") not in variants:  # set here, not by index=: featured cases set it too
                st.session_state["ns_variant"] = default_variant
            variant = c2.selectbox("Model variant", variants, format_func=lambda v: f"{v} — {labels[v]}", key="ns_variant")

            # Real logs (Foursquare) hold several test cases per user; the generated world holds one.
            user_cases = cases[cases["user"] == user]
            records_of_user = [int(r) for r in user_cases["record"]]
            if len(records_of_user) > 1:
                if st.session_state.get("ns_case") not in records_of_user:
                    st.session_state["ns_case"] = records_of_user[-1]
                describe = dict(zip(records_of_user, user_cases["day"] + ", " + user_cases["hour_bin"].str.removeprefix("h_")
                                    + " · true need " + user_cases["need_text"]))
                record = st.selectbox(f"Test case ({len(records_of_user)} for this user)", records_of_user,
                                      format_func=lambda r: f"record {r}: {describe[r]}", key="ns_case")
            else:
                record = records_of_user[0]
            case = user_cases[user_cases["record"] == record].iloc[0]
            history, timeline = user_history(str(run.path), user)
            info = t["users"].set_index("user").loc[user]
            p1, p2, p3, p4 = st.columns(4)
            p1.metric("City", info["city"])
            p2.metric("History records", len(history))
            p3.metric("Filtered as atypical", f"{1 - history['kept'].fillna(True).astype(bool).mean():.0%}")
            if "persona" in info:
                p4.metric("Persona (hidden)", int(info["persona"]))
            st.plotly_chart(timeline, key="ns_timeline")

            st.markdown(case_header(case))
            with st.expander("Prompt the model saw"):
                st.code(case["prompt_raw"] if variant == "raw_sft" else case["prompt"], language=None, wrap_lines=True)
            row = preds[(preds["record"] == record) & (preds["variant"] == variant)]
            if row.empty:
                st.warning(f"No prediction of {variant} for {user}.")
            else:
                row = row.iloc[0]
                st.markdown(f"**Generated chain** ({variant}): `{row['completion']}`")
                st.dataframe(viz.chain_frame(row, catalog), hide_index=True, width="stretch")
            compare = preds[preds["record"] == record].set_index("variant").reindex(variants)
            st.caption("All variants for this test case")
            st.dataframe(pd.DataFrame({
                "need": compare["need_text_pred"].fillna("–"),
                "category": compare["category_pred"].fillna("–"),
                "top service": compare["services"].map(lambda s: s[0] if isinstance(s, (list, tuple)) or hasattr(s, "__len__") and len(s) else "–"),
                "first failed stage": compare["failed_stage"],
            }), width="stretch")
