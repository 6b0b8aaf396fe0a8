"""Figures and display tables of method 1 (living needs → services), for the notebook and the app."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from workbench.viz import BAD, GOOD, NEUTRAL, PALETTE, TEMPLATE

COLOR_BY = {
    "pattern": "behavior pattern (population k-means)",
    "kept": "kept vs filtered by the behavioral filter",
    "accidental": "planted accidental (hidden truth)",
    "need": "need of the record",
    "city": "city",
}
HOVER = ["user", "t", "day", "hour_bin", "scene", "need_text", "category", "merchant", "support", "pop_share"]


def umap_scatter(points: pd.DataFrame, color_by: str = "pattern", highlight: list[int] | None = None) -> go.Figure:
    """The precomputed 2-D UMAP of records; ``custom_data`` carries each point's record id (for selections)."""
    frame = points.copy()
    if color_by in ("kept", "accidental"):
        labels = {"kept": ("kept", "filtered"), "accidental": ("accidental", "clean")}[color_by]
        frame[color_by] = np.where(frame[color_by].fillna(False).astype(bool), *labels)
        colors = {labels[0]: GOOD if color_by == "kept" else BAD, labels[1]: BAD if color_by == "kept" else NEUTRAL}
    else:
        colors = None
    fig = px.scatter(
        frame, x="umap_x", y="umap_y", color=color_by, custom_data=["record"],
        hover_data={c: True for c in HOVER if c in frame.columns} | {"umap_x": False, "umap_y": False},
        color_discrete_map=colors, color_discrete_sequence=PALETTE, template=TEMPLATE, render_mode="webgl",
        labels={"umap_x": "UMAP 1", "umap_y": "UMAP 2"},
    )
    fig.update_traces(marker={"size": 5, "opacity": 0.75})
    if highlight:
        sel = frame[frame["record"].isin(highlight)]
        fig.add_trace(go.Scatter(x=sel["umap_x"], y=sel["umap_y"], mode="markers", name="selected",
                                 marker={"size": 10, "color": "rgba(0,0,0,0)", "line": {"width": 1.5, "color": "black"}},
                                 hoverinfo="skip"))
    fig.update_layout(height=560, legend={"title": COLOR_BY.get(color_by, color_by), "itemsizing": "constant"},
                      dragmode="lasso", margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def filter_tradeoff(grid: pd.DataFrame, chosen: tuple[int, float] | None = None) -> go.Figure:
    """Precision and recall of the filter over its two thresholds (``grid`` from ``threshold_grid``)."""
    fig = go.Figure()
    for i, (share, group) in enumerate(grid.groupby("min_pop_share")):
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=group["recall"], y=group["precision"], mode="lines+markers", name=f"pop share ≥ {share:g}",
                                 text=[f"min support {s}" for s in group["min_support"]], line={"color": color},
                                 hovertemplate="%{text}<br>recall %{x:.3f}<br>precision %{y:.3f}<extra></extra>"))
    if chosen is not None:
        row = grid[(grid["min_support"] == chosen[0]) & np.isclose(grid["min_pop_share"], chosen[1])]
        if len(row):
            fig.add_trace(go.Scatter(x=row["recall"], y=row["precision"], mode="markers", name="current",
                                     marker={"size": 16, "symbol": "star", "color": "black"}))
    fig.update_layout(template=TEMPLATE, height=380, xaxis_title="recall (accidents dropped / all accidents)",
                      yaxis_title="precision (accidents / dropped)", margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def sft_curves(curves: pd.DataFrame) -> go.Figure:
    """Training loss per SFT variant; the curriculum stage shows as the line dash."""
    fig = px.line(curves, x="step", y="loss", color="variant", line_dash="stage", template=TEMPLATE,
                  color_discrete_sequence=PALETTE, markers=False)
    fig.update_layout(height=380, yaxis_title="loss per completion token", margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def rl_curves(log: pd.DataFrame) -> go.Figure:
    """GRPO: mean of each reward per step (one panel per variant) and the zero-variance-group fraction."""
    value_cols = [c for c in ("format", "need_exact", "need_semantic", "category", "service", "full_path",
                              "frac_reward_zero_std") if c in log.columns]
    long = log.melt(id_vars=["variant", "step"], value_vars=value_cols, var_name="curve", value_name="value").dropna()
    fig = px.line(long, x="step", y="value", color="curve", facet_col="variant", template=TEMPLATE,
                  color_discrete_sequence=PALETTE)
    fig.for_each_trace(lambda t: t.update(line={"dash": "dot"}) if t.name == "frac_reward_zero_std" else None)
    fig.update_layout(height=400, yaxis_title="mean reward / fraction", margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def budget_curve(curve: pd.DataFrame, metric: str = "HR@1") -> go.Figure:
    """``metric`` of each variant against the SFT budget (log axis), one panel per model size: where
    the joint model's lines cross the isolated pipeline's flat one is the answer to "with budget?"."""
    frame = curve.sort_values(["size", "variant", "sft_steps"])
    sizes = sorted(frame["size"].unique(), key=lambda s: [int(x) for x in s.split("x")])  # 96x2 before 128x4
    two_prompts = "prompt" in frame and frame["prompt"].nunique() > 1  # budget.beside_baseline: dash by prompt
    fig = px.line(frame, x="sft_steps", y=metric, color="variant", facet_col="size", markers=True, log_x=True,
                  template=TEMPLATE, color_discrete_sequence=PALETTE, category_orders={"size": sizes},
                  line_dash="prompt" if two_prompts else None,
                  hover_data=[c for c in ("need acc", "cat acc", "HR@1", "HR@3", "prompt") if c in frame])
    if not two_prompts:
        fig.for_each_trace(lambda t: t.update(line={"dash": "dash"}) if t.name == "isolated" else None)
    fig.update_xaxes(title="SFT steps", tickvals=sorted(frame["sft_steps"].unique()))
    fig.update_layout(height=360, yaxis_title=metric, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def _series(frame: pd.DataFrame) -> pd.Series | None:
    """Each row's series name (``coupling.load``'s ``series`` column) when a study holds several, else None."""
    return frame["series"] if "series" in frame and frame["series"].nunique() > 1 else None


def coupling_curve(points: pd.DataFrame, metric: str = "HR@1") -> go.Figure:
    """``metric`` of each variant against the world's coupling dial (mean over the seeds of each point;
    ``coupling.study``'s "points" rows): where the full framework's line crosses the isolated
    pipeline's dashed one is the answer to "where does one model win?". With several series, the
    line's dash tells them apart (and the isolated pipeline is no longer the only dashed line)."""
    series = _series(points)
    keys = ["variant", "coupling"] if series is None else ["series", "variant", "coupling"]
    frame = points.groupby(keys, sort=False)[metric].mean().reset_index()
    fig = px.line(frame, x="coupling", y=metric, color="variant", markers=True, template=TEMPLATE,
                  color_discrete_sequence=PALETTE, line_dash=None if series is None else "series")
    if series is None:
        fig.for_each_trace(lambda t: t.update(line={"dash": "dash"}) if t.name == "isolated" else None)
    fig.update_xaxes(title="coupling (0 = the pipeline's own factorisation)", tickvals=sorted(frame["coupling"].unique()))
    fig.update_layout(height=340, yaxis_title=metric, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def coupling_ratio(curve: pd.DataFrame, goal: float = 1.25) -> go.Figure:
    """Full / isolated HR@1 at each dial setting with its 95% interval, against 1 (level) and ``goal``;
    one line per series, and a dashed one against the strongest pipeline (``isolated_ctx``) where the
    study has it."""
    names = _series(curve)
    fig = go.Figure()
    pipes = [("isolated", "ratio interval", "solid"), ("isolated_ctx", "ratio interval vs isolated_ctx", "dash")]
    for i, (name, frame) in enumerate(curve.assign(series="" if names is None else names).groupby("series", sort=False)):
        for pipe, interval, dash in pipes:
            if f"full / {pipe} HR@1" not in frame:
                continue
            part = frame.dropna(subset=[f"full / {pipe} HR@1"]).sort_values("coupling")
            if part.empty:
                continue
            low = np.array([r[0] for r in part[interval]])
            high = np.array([r[1] for r in part[interval]])
            ratio = part[f"full / {pipe} HR@1"].to_numpy()
            fig.add_trace(go.Scatter(x=part["coupling"], y=ratio, mode="lines+markers",
                                     name=f"full / {pipe} HR@1" + (f" ({name})" if name else ""),
                                     error_y={"type": "data", "symmetric": False, "array": high - ratio,
                                              "arrayminus": ratio - low},
                                     line={"color": PALETTE[i % len(PALETTE)], "dash": dash}))
    fig.add_hline(y=1.0, line_dash="dot", line_color=NEUTRAL, annotation_text="level")
    fig.add_hline(y=goal, line_dash="dash", line_color=GOOD, annotation_text=f"goal {goal:g}x")
    fig.update_layout(template=TEMPLATE, height=320, xaxis_title="coupling", yaxis_title="full / isolated HR@1",
                      margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def coupling_stages(curve: pd.DataFrame) -> go.Figure:
    """Per dial setting, each stage of the pipelines and the full framework side by side: need right,
    category right when the need was (and on the rainy or cold days whose category the dial fixes), HR@1
    when both were (each series' own bars when there are several)."""
    # the stages and the variants are the curve's "<variant>: <stage>" columns; the service stage last
    # (a stage that older points lack comes after the others in the frame's columns)
    stages = sorted((c.split(": ", 1)[1] for c in curve if c.startswith("full: ")), key=lambda s: s.startswith("HR@1"))
    variants = list(dict.fromkeys(c.split(": ", 1)[0] for c in curve if ": " in c and not c.startswith("full: ")))
    series = _series(curve)
    names = series if series is not None else pd.Series("", index=curve.index)
    rows = [{"coupling": f"{r['coupling']:g}", "stage": s, "variant": v + (f" · {names[i]}" if names[i] else ""),
             "share": r.get(f"{v}: {s}")}
            for i, r in curve.iterrows() for s in stages for v in (*variants, "full")]
    frame = pd.DataFrame(rows).dropna()
    dials = [f"{d:g}" for d in sorted(curve["coupling"].unique())]
    fig = px.bar(frame, x="coupling", y="share", color="variant", barmode="group", facet_col="stage",
                 template=TEMPLATE, color_discrete_sequence=PALETTE,
                 category_orders={"stage": list(stages), "coupling": dials})
    # facet titles on two lines: the stage, then what it is conditioned on
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1].replace(" | ", "<br>| ")))
    fig.update_layout(height=340, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def checkins_levels(levels: pd.DataFrame, metric: str = "HR@1", labels: dict[str, str] | None = None) -> go.Figure:
    """Real check-ins over seeds: each variant's ``metric`` per dataset, with its 95% interval over seeds
    and cases as the error bar (``needs.checkins`` levels table)."""
    frame = levels.dropna(subset=[metric]).copy()
    frame["dataset"] = frame["dataset"].map(lambda d: (labels or {}).get(d, d))
    frame["plus"] = [hi - v for v, (lo, hi) in zip(frame[metric], frame[f"{metric} interval"])]
    frame["minus"] = [v - lo for v, (lo, hi) in zip(frame[metric], frame[f"{metric} interval"])]
    fig = px.bar(frame, x="variant", y=metric, color="dataset", barmode="group", error_y="plus", error_y_minus="minus",
                 template=TEMPLATE, color_discrete_sequence=PALETTE,
                 hover_data={"seeds": True, "cases per seed": True, "plus": False, "minus": False})
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis_title=None)
    return fig


def metric_bars(metrics: pd.DataFrame, metric: str = "HR@3", variants: list[str] | None = None) -> go.Figure:
    """One bar per variant and slice (mean over seeds)."""
    frame = metrics.groupby(["variant", "slice"], sort=False)[metric].mean().reset_index()
    if variants:
        frame = frame[frame["variant"].isin(variants)]
    fig = px.bar(frame, x="variant", y=metric, color="slice", barmode="group", template=TEMPLATE,
                 color_discrete_sequence=PALETTE)
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def history_timeline(history: pd.DataFrame) -> go.Figure:
    """A user's records in time order: need per record, marked kept/filtered and (when known) accidental."""
    frame = history.copy()
    frame["status"] = np.where(frame["kept"].fillna(True).astype(bool), "kept", "filtered")
    if frame["accidental"].notna().any():
        frame["status"] += np.where(frame["accidental"].fillna(False).astype(bool), " · accidental (truth)", "")
    frame["when"] = frame["day"] + " " + frame["hour_bin"].str.removeprefix("h_") + " @ " + frame["scene"]
    colors = {"kept": GOOD, "filtered": NEUTRAL, "kept · accidental (truth)": "#F58518",
              "filtered · accidental (truth)": BAD}
    fig = px.scatter(frame, x="t", y="need", color="status", symbol="status", template=TEMPLATE,
                     hover_data=["when", "need_text", "category", "merchant", "split"], color_discrete_map=colors,
                     category_orders={"status": list(colors)})
    fig.update_traces(marker={"size": 10})
    fig.update_layout(height=360, xaxis_title="record (time order)", yaxis_title="",
                      margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def chain_frame(row: pd.Series, catalog: dict[str, str] | None = None) -> pd.DataFrame:
    """The generated chain beside the truth, one row per stage, with a right/wrong mark."""
    services = list(row["services"])[:5]
    rank = services.index(row["merchant"]) + 1 if row["merchant"] in services else None

    def mark(ok) -> str:
        if ok is None or (isinstance(ok, float) and np.isnan(ok)):
            return "–"
        return "✅ right" if ok else "❌ wrong"

    def name(m: str) -> str:
        return f"{m} ({catalog[m]})" if catalog and m in catalog else m

    return pd.DataFrame([
        {"stage": "1 · need", "generated": row["need_text_pred"] or "–", "truth": row["need_text"],
         "verdict": mark(row["need_ok"]) + (" (paraphrase)" if row["need_ok"] == 1 and row["need_text_pred"] != row["need_text"] else "")},
        {"stage": "2 · category", "generated": row["category_pred"] or "–", "truth": row["category"],
         "verdict": mark(row["category_ok"])},
        {"stage": "3 · services (ranked)", "generated": ", ".join(name(m) for m in services), "truth": name(row["merchant"]),
         "verdict": mark(bool(row["hit1"])) + (f" (truth at rank {rank})" if rank and rank > 1 else "")},
    ])


ERROR_COLUMNS = ["user", "record", "variant", "city", "long_tail", "failed_stage", "need_text", "need_text_pred", "category",
                 "category_pred", "merchant", "top_service", "hit3"]


def error_frame(predictions: pd.DataFrame) -> pd.DataFrame:
    """The error-analysis table: one row per case and variant, with the first stage that failed."""
    frame = predictions.copy()
    frame["top_service"] = frame["services"].map(lambda s: s[0] if len(s) else None)
    return frame[ERROR_COLUMNS].reset_index(drop=True)


def show_user(user: str, variant: str, predictions: pd.DataFrame, records: pd.DataFrame, cases: pd.DataFrame) -> None:
    """Notebook view of one user: context of the test case, the chain beside the truth, the history."""
    from IPython.display import Markdown, display

    case = cases[cases["user"] == user].iloc[-1]  # the user's last test case (real logs hold several)
    row = predictions[(predictions["record"] == case["record"]) & (predictions["variant"] == variant)]
    display(Markdown(f"**{user}** — test case: {case['day']}, {case['hour_bin'].removeprefix('h_')}, at "
                     f"**{case['scene']}**, {case['weather']}, {case['city']}"
                     + (" · *long-tail situation*" if case["long_tail"] else "")
                     + (" · *cross-city*" if case["set"] == "cross_city" else "")))
    if row.empty:
        display(Markdown(f"*no prediction of {variant}*"))
    else:
        display(Markdown(f"`{row.iloc[0]['completion']}`"))
        display(chain_frame(row.iloc[0]))
    history_timeline(records[(records["user"] == user) & (records["split"] != "test")]).show()


def user_picker(predictions: pd.DataFrame, records: pd.DataFrame, cases: pd.DataFrame):
    """An ipywidgets control (user + variant dropdowns) that re-draws ``show_user`` on every change."""
    import functools

    import ipywidgets as widgets

    users = sorted(cases["user"].unique())
    variants = list(predictions["variant"].unique())
    user = widgets.Dropdown(options=users, value=users[0], description="user")
    variant = widgets.Dropdown(options=variants, value="full" if "full" in variants else variants[0], description="variant")
    view = functools.partial(show_user, predictions=predictions, records=records, cases=cases)
    out = widgets.interactive_output(view, {"user": user, "variant": variant})
    return widgets.VBox([widgets.HBox([user, variant]), out])
