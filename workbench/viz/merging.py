"""Figures of the thinking-spectrum study (plotly; shared by the notebook and the Merge strength page).

Every function takes the run's tables (``summary``, ``difficulty``, ``weights`` ...) and returns a
``go.Figure``; none computes a result of its own.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.viz import BAD, GOOD, NEUTRAL, PALETTE, TEMPLATE

METHOD_COLORS = {
    "linear": PALETTE[0], "slerp": PALETTE[1], "task_arithmetic": PALETTE[2], "ties": PALETTE[3],
    "dare_linear": PALETTE[4], "dare_ties": PALETTE[5], "magnitude_prune": PALETTE[6],
    "low_rank": PALETTE[7], "low_rank_ties": PALETTE[8], "activation_informed": PALETTE[11],
}
DIRECT_COLOR, THINKING_COLOR = "#1F77B4", "#D62728"


def _color(method: str) -> str:
    return METHOD_COLORS.get(method, NEUTRAL)


def accuracy_vs_tokens(
    summary: pd.DataFrame,
    methods: list[str] | None = None,
    selected: tuple[str, float] | None = None,
    parents: dict[str, tuple[str, float]] | None = None,
    frontier: pd.DataFrame | None = None,
    improvements: pd.DataFrame | None = None,
) -> go.Figure:
    """Accuracy (with 95% intervals) against mean generated tokens, one curve per method ordered by
    strength; parents as stars, the Pareto frontier dashed, significant improvements ringed, and the
    ``selected`` (method, strength) as a large marker."""
    fig = go.Figure()
    for method in methods or sorted(summary["method"].unique()):
        s = summary[summary["method"] == method].sort_values("strength")
        fig.add_trace(go.Scatter(
            x=s["tokens"], y=s["accuracy"], mode="lines+markers", name=method, line=dict(color=_color(method), width=1.5),
            marker=dict(size=6), customdata=s[["strength"]].to_numpy(),
            error_y=dict(type="data", symmetric=False, array=s["accuracy_high"] - s["accuracy"],
                         arrayminus=s["accuracy"] - s["accuracy_low"], thickness=0.8, width=0),
            hovertemplate=f"{method} λ=%{{customdata[0]:.2f}}<br>accuracy %{{y:.3f}}<br>tokens %{{x:.1f}}<extra></extra>",
        ))
    if frontier is not None and len(frontier):
        f = frontier.sort_values("tokens")
        fig.add_trace(go.Scatter(x=f["tokens"], y=f["accuracy"], mode="lines", name="Pareto frontier",
                                 line=dict(color="black", dash="dash", width=1), hoverinfo="skip"))
    if improvements is not None and len(improvements):
        sig = improvements[improvements["significant"]]
        if len(sig):
            fig.add_trace(go.Scatter(
                x=sig["tokens"], y=sig["accuracy"], mode="markers", name="significant Pareto improvement",
                marker=dict(size=14, color="rgba(0,0,0,0)", line=dict(color=GOOD, width=2)),
                customdata=sig[["method", "strength", "parent"]].to_numpy(),
                hovertemplate="%{customdata[0]} λ=%{customdata[1]:.2f} beats the %{customdata[2]} parent<extra></extra>",
            ))
    for name, key in (parents or {}).items():
        row = summary[(summary["method"] == key[0]) & (summary["strength"] == key[1])]
        if len(row):
            fig.add_trace(go.Scatter(
                x=row["tokens"], y=row["accuracy"], mode="markers+text", name=f"{name} parent", text=[name],
                textposition="top center", marker=dict(symbol="star", size=16,
                                                       color=DIRECT_COLOR if name == "direct" else THINKING_COLOR),
            ))
    if selected is not None:
        row = summary[(summary["method"] == selected[0]) & (summary["strength"] == selected[1])]
        if len(row):
            fig.add_trace(go.Scatter(
                x=row["tokens"], y=row["accuracy"], mode="markers", name=f"selected: {selected[0]} λ={selected[1]:.2f}",
                marker=dict(size=20, symbol="circle-open", color="black", line=dict(width=3)),
            ))
    fig.update_layout(template=TEMPLATE, xaxis_title="mean generated tokens", yaxis_title="accuracy",
                      height=460, legend=dict(orientation="h", y=-0.18), margin=dict(t=30, l=10, r=10))
    return fig


def strength_curves(summary: pd.DataFrame, method: str, transition: dict | None = None,
                    selected: float | None = None) -> go.Figure:
    """Accuracy, thinking share and re-checks (left axis) and mean tokens (right axis) against the
    strength λ (the direct weight); the thinking transition shaded, the switch-off as a line."""
    s = summary[summary["method"] == method].sort_values("strength")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=s["strength"], y=s["accuracy"], name="accuracy", mode="lines+markers",
                             line=dict(color=GOOD),
                             error_y=dict(type="data", symmetric=False, array=s["accuracy_high"] - s["accuracy"],
                                          arrayminus=s["accuracy"] - s["accuracy_low"], width=0)), secondary_y=False)
    fig.add_trace(go.Scatter(x=s["strength"], y=s["thinking_share"], name="share that thinks", mode="lines+markers",
                             line=dict(color=THINKING_COLOR, dash="dot")), secondary_y=False)
    fig.add_trace(go.Scatter(x=s["strength"], y=s["tokens"], name="mean tokens", mode="lines+markers",
                             line=dict(color=PALETTE[0])), secondary_y=True)
    fig.add_trace(go.Scatter(x=s["strength"], y=s["rechecks"], name="re-checks per output", mode="lines",
                             line=dict(color=PALETTE[5], dash="dash")), secondary_y=True)
    if transition and transition.get("method") == method:
        lo, hi = transition.get("share90_at"), transition.get("share10_at")
        if lo == lo and hi == hi:  # not nan
            fig.add_vrect(x0=lo, x1=hi, fillcolor=THINKING_COLOR, opacity=0.08, line_width=0,
                          annotation_text="transition", annotation_position="top left")
        if transition.get("switch_off") == transition.get("switch_off"):
            fig.add_vline(x=transition["switch_off"], line=dict(color=THINKING_COLOR, width=1),
                          annotation_text=f"switch-off λ={transition['switch_off']:.2f}", annotation_position="top right")
    if selected is not None:
        fig.add_vline(x=selected, line=dict(color="black", width=2, dash="dot"))
    fig.update_layout(template=TEMPLATE, height=400, legend=dict(orientation="h", y=-0.2), margin=dict(t=30, l=10, r=10),
                      xaxis_title="strength λ (weight of the direct parent)")
    fig.update_yaxes(title_text="accuracy / share", range=[0, 1.05], secondary_y=False)
    fig.update_yaxes(title_text="tokens / re-checks", secondary_y=True)
    return fig


def difficulty_bars(difficulty: pd.DataFrame, method: str, strength: float,
                    parents: dict[str, tuple[str, float]]) -> go.Figure:
    """Accuracy (bars) and mean tokens (markers, right axis) per number of operations: the selected
    merge next to both parents."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    rows = [(f"{method} λ={strength:.2f}", (method, strength), "#444444")]
    rows += [(f"{name} parent", key, DIRECT_COLOR if name == "direct" else THINKING_COLOR) for name, key in parents.items()]
    for label, key, color in rows:
        d = difficulty[(difficulty["method"] == key[0]) & (difficulty["strength"] == key[1])].sort_values("n_ops")
        fig.add_trace(go.Bar(x=d["n_ops"], y=d["accuracy"], name=label, marker_color=color, opacity=0.85), secondary_y=False)
        fig.add_trace(go.Scatter(x=d["n_ops"], y=d["tokens"], name=f"{label} tokens", mode="markers+lines",
                                 marker=dict(color=color, symbol="diamond"), line=dict(color=color, width=1, dash="dot"),
                                 showlegend=False), secondary_y=True)
    fig.update_layout(template=TEMPLATE, barmode="group", height=360, legend=dict(orientation="h", y=-0.25),
                      xaxis_title="operations in the problem (difficulty)", margin=dict(t=30, l=10, r=10))
    fig.update_yaxes(title_text="accuracy (bars)", range=[0, 1.05], secondary_y=False)
    fig.update_yaxes(title_text="mean tokens (diamonds)", secondary_y=True)
    return fig


def thinking_share_by_difficulty(difficulty: pd.DataFrame, method: str = "linear") -> go.Figure:
    """Share of outputs that open ``<think>`` against λ, one line per difficulty (easy ones stop first?)."""
    d = difficulty[difficulty["method"] == method]
    fig = go.Figure()
    for i, (n_ops, g) in enumerate(d.groupby("n_ops")):
        g = g.sort_values("strength")
        fig.add_trace(go.Scatter(x=g["strength"], y=g["thinking_share"], name=f"{n_ops} ops", mode="lines+markers",
                                 line=dict(color=PALETTE[i % len(PALETTE)])))
    fig.update_layout(template=TEMPLATE, height=340, xaxis_title="strength λ (weight of the direct parent)",
                      yaxis_title="share of outputs that think", margin=dict(t=30, l=10, r=10))
    return fig


def weight_heatmap(weights: pd.DataFrame, value: str = "rel_l2_parents") -> go.Figure:
    """Per-module weight differences of the parents: layer x module heatmap of ``value``."""
    w = weights.copy()
    w["where"] = w["layer"].map(lambda x: "—" if x < 0 else f"layer {x}")
    table = w.pivot_table(index="module", columns="where", values=value, aggfunc="mean")
    labels = {"rel_l2_parents": "‖θ_direct − θ_thinking‖ / ‖θ_thinking‖", "cos_task_vectors": "cos(τ_direct, τ_thinking)",
              "angle_deg": "angle between parents (°)"}
    fig = go.Figure(go.Heatmap(z=table.to_numpy(), x=list(table.columns), y=list(table.index), colorscale="Viridis",
                               colorbar=dict(title=""), hovertemplate="%{y} %{x}: %{z:.4f}<extra></extra>"))
    fig.update_layout(template=TEMPLATE, height=380, title=labels.get(value, value), margin=dict(t=40, l=10, r=10))
    return fig


def loss_curves(losses: dict[str, list[dict[str, float]]]) -> go.Figure:
    """Training loss of the base and both children (children continue from the base's last step)."""
    fig = go.Figure()
    offset = losses["base"][-1]["step"] if losses.get("base") else 0
    colors = {"base": NEUTRAL, "direct": DIRECT_COLOR, "thinking": THINKING_COLOR}
    for name, curve in losses.items():
        shift = 0 if name == "base" else offset
        fig.add_trace(go.Scatter(x=[c["step"] + shift for c in curve], y=[c["loss"] for c in curve], name=name,
                                 mode="lines", line=dict(color=colors.get(name, BAD))))
    fig.update_layout(template=TEMPLATE, height=320, xaxis_title="step", yaxis_title="training loss (completion tokens)",
                      margin=dict(t=30, l=10, r=10))
    return fig


def tensor_methods_figure(frame: pd.DataFrame) -> go.Figure:
    """One tensor, a few entries, every method at one strength: the task vectors of both parents and
    what each method makes of them (``merging.analysis.tensor_example``)."""
    fig = go.Figure()
    series = [c for c in frame.columns if c != "entry"]
    for i, name in enumerate(series):
        is_parent = name.startswith("τ")
        fig.add_trace(go.Bar(x=frame["entry"], y=frame[name], name=name,
                             marker_color=(DIRECT_COLOR if "direct" in name else THINKING_COLOR) if is_parent
                             else PALETTE[(i + 2) % len(PALETTE)], opacity=0.55 if is_parent else 0.95))
    fig.update_layout(template=TEMPLATE, barmode="group", height=380, xaxis_title="entry of the tensor",
                      yaxis_title="change from the base (task vector)", legend=dict(orientation="h", y=-0.25),
                      margin=dict(t=30, l=10, r=10))
    return fig


def strength_explorer(summary: pd.DataFrame, examples: pd.DataFrame, method: str = "linear", limit: int = 4):
    """An ipywidgets slider over one method's strength grid that shows that merge's numbers and its
    sample generations (thinking text included) — the notebook's counterpart of the app's slider."""
    import ipywidgets as widgets
    from IPython.display import Markdown, display

    grid = sorted(summary.loc[summary["method"] == method, "strength"].tolist())
    slider = widgets.SelectionSlider(options=[(f"{s:.2f}", s) for s in grid], value=grid[len(grid) // 2],
                                     description=f"{method} λ", continuous_update=False,
                                     layout=widgets.Layout(width="600px"))
    out = widgets.Output()

    def show(change=None) -> None:
        s = slider.value
        row = summary[(summary["method"] == method) & (summary["strength"] == s)].iloc[0]
        ex = examples[(examples["method"] == method) & (examples["strength"] == s)].head(limit)
        lines = [f"**{method} λ={s:.2f}**: accuracy {row['accuracy']:.3f} "
                 f"[{row['accuracy_low']:.3f}, {row['accuracy_high']:.3f}], mean tokens {row['tokens']:.1f}, "
                 f"{row['thinking_share']:.0%} think, {row['rechecks']:.2f} re-checks per output", ""]
        for _, e in ex.iterrows():
            lines.append(f"- {'✅' if e['correct'] else '❌'} `{e['prompt']}` → `{e['text']}`")
        out.clear_output(wait=True)
        with out:
            display(Markdown("\n".join(lines)))

    slider.observe(show, names="value")
    show()
    return widgets.VBox([slider, out])


def pareto_display(pareto: pd.DataFrame, limit: int = 12) -> pd.DataFrame:
    """The Pareto-improvement table for reading: significant ones first, then the largest token cuts;
    differences with their 95% intervals as text."""
    if pareto.empty:
        return pd.DataFrame(columns=["parent", "merge", "accuracy", "mean tokens", "Δaccuracy [95%]", "Δtokens [95%]",
                                     "significant"])
    p = pareto.sort_values(["significant", "rel_tokens", "d_acc"], ascending=[False, True, False]).head(limit)
    return pd.DataFrame({
        "parent": p["parent"],
        "merge": [f"{m} λ={s:.2f}" for m, s in zip(p["method"], p["strength"])],
        "accuracy": p["accuracy"].round(3),
        "mean tokens": p["tokens"].round(1),
        "Δaccuracy [95%]": [f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]" for d, lo, hi in zip(p["d_acc"], p["d_acc_low"], p["d_acc_high"])],
        "Δtokens [95%]": [f"{d:+.1%} [{lo:+.1%}, {hi:+.1%}]"
                          for d, lo, hi in zip(p["rel_tokens"], p["rel_tokens_low"], p["rel_tokens_high"])],
        "significant": p["significant"],
    })


def overthink_frontier(rows: pd.DataFrame, parents: dict, dial: float) -> go.Figure:
    """The overthinking study at one dial point: each method's accuracy against mean tokens (means over
    seeds, λ < 1), the thinking and direct parents as stars, strict Pareto improvements ringed."""
    fig = go.Figure()
    at = rows[(rows["dial"] == dial) & (rows["strength"] < 1.0)]
    for method in dict.fromkeys(at["method"]):
        s = at[at["method"] == method].sort_values("strength")
        fig.add_trace(go.Scatter(
            x=s["tokens"], y=s["accuracy"], mode="lines+markers", name=method, line=dict(color=_color(method), width=1.5),
            customdata=s[["strength", "d_accuracy", "d_tokens_rel"]].to_numpy(),
            hovertemplate=(f"{method} λ=%{{customdata[0]:.2f}}<br>accuracy %{{y:.3f}} (%{{customdata[1]:+.3f}})<br>"
                           "tokens %{x:.1f} (%{customdata[2]:+.1%})<extra></extra>"),
        ))
    strict = at[at["strict"]]
    if len(strict):
        fig.add_trace(go.Scatter(x=strict["tokens"], y=strict["accuracy"], mode="markers", name="strict Pareto improvement",
                                 marker=dict(size=15, color="rgba(0,0,0,0)", line=dict(color=GOOD, width=2)),
                                 hoverinfo="skip"))
    for who, color in (("thinking", THINKING_COLOR), ("direct", DIRECT_COLOR)):
        fig.add_trace(go.Scatter(x=[parents[f"{who}_tokens"]], y=[parents[f"{who}_accuracy"]], mode="markers+text",
                                 name=f"{who} parent", text=[who], textposition="top center",
                                 marker=dict(symbol="star", size=16, color=color)))
    fig.update_layout(template=TEMPLATE, xaxis_title="mean generated tokens (mean over seeds)", yaxis_title="accuracy",
                      title=f"overthinking dial {dial:g}", height=440, legend=dict(orientation="h", y=-0.2),
                      margin=dict(t=40, l=10, r=10))
    return fig
