"""The budget-curve figure every method shares: each claim's quantity against the training budget, with
its 95% interval and verdict, and the stable budget marked (``workbench.budget_curves``)."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.viz import BAD, GOOD, NEUTRAL, TEMPLATE

VERDICT_COLOURS = {True: GOOD, False: BAD, None: NEUTRAL}


def claims_curve(study: dict, unit: str = "budget", columns: int = 3) -> go.Figure:
    """One panel per claim of ``study`` (``budget_curves.load``): the claim's estimate at each budget
    (log axis) with its interval, green where reproduced and red where not; a dashed line at the
    stable budget, or the title saying there is none within the budgets studied."""
    curve: pd.DataFrame = study["curve"]
    claims = list(dict.fromkeys(curve["claim"]))
    rows = math.ceil(len(claims) / columns)
    fig = make_subplots(rows=rows, cols=min(columns, len(claims)), subplot_titles=claims,
                        horizontal_spacing=0.08, vertical_spacing=0.5 / max(rows, 1))
    budgets = sorted(curve["budget"].unique())
    for i, claim in enumerate(claims):
        part = curve[curve["claim"] == claim].sort_values("budget")
        estimate = part["estimate"].astype(float)
        low = part["low"].astype(float).fillna(estimate)
        high = part["high"].astype(float).fillna(estimate)
        verdict = [None if pd.isna(v) else bool(v) for v in part["reproduced"]]
        fig.add_trace(go.Scatter(
            x=part["budget"], y=estimate, mode="lines+markers", name=claim, showlegend=False,
            line={"color": NEUTRAL}, marker={"size": 10, "color": [VERDICT_COLOURS[v] for v in verdict]},
            error_y={"type": "data", "symmetric": False, "array": high - estimate, "arrayminus": estimate - low},
            customdata=[{True: "reproduced", False: "not reproduced", None: "not decided"}[v] for v in verdict],
            hovertemplate=f"%{{x:,}} {unit}<br>%{{y:.3f}} [%{{error_y.arrayminus:.3f}} below, %{{error_y.array:.3f}} "
                          "above]<br>%{customdata}<extra></extra>"), row=i // columns + 1, col=i % columns + 1)
    fig.update_xaxes(type="log", tickvals=budgets, ticktext=[f"{b:,}" for b in budgets])
    fig.update_xaxes(title_text=unit, row=rows)
    stable = study["stable"]["budget"]
    if stable is not None:
        for i in range(len(claims)):
            fig.add_vline(x=math.log10(stable), line_dash="dash", line_color=GOOD, row=i // columns + 1, col=i % columns + 1)
        title = f"stable budget: {stable:,} {unit} (dashed)"
    else:
        title = f"no stable budget within the budgets studied ({', '.join(f'{b:,}' for b in budgets)})"
    fig.update_layout(template=TEMPLATE, height=260 * rows + 60, title={"text": title, "font": {"size": 14}},
                      margin={"l": 10, "r": 10, "t": 70, "b": 10})
    fig.update_annotations(font_size=12)
    return fig
