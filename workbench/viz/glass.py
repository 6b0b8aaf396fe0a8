"""Figures and display tables of the GLASS method (used by notebook 02 and the SID-tree page).

Everything takes the tables a built run stores (``items``, ``beams_<system>``, ``results``,
``diagnostics``, the walkthrough tensors) and returns plotly figures or pandas frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from workbench.viz import BAD, GOOD, NEUTRAL, PALETTE, TEMPLATE

PATH_COLOUR = "#F58518"
OTHER_COLOUR = "#4C78A8"
BOTH_COLOUR = "#B279A2"


def sid_label(codes) -> str:
    """'3-1-7-0' for the SID (3, 1, 7, 0)."""
    return "-".join(str(int(c)) for c in codes)


def _node_ids(items: pd.DataFrame, depth: int, prefix: str = "") -> pd.DataFrame:
    cols = [f"{prefix}c{i + 1}" for i in range(depth)]
    codes = items[cols].astype(int).astype(str)
    out = codes[cols[0]]
    for col in cols[1:]:  # column-wise: a row-wise "-".join takes seconds on a few thousand items
        out = out + "-" + codes[col]
    return out


def sid_tree(items: pd.DataFrame, depth: int = 3, focus: int | None = None, paths: list[tuple] | None = None,
             truth: tuple | None = None, kind: str = "icicle", prefix: str = "", max_leaves: int = 4000,
             other_paths: list[tuple] | None = None, names: tuple[str, str] = ("", "")) -> go.Figure:
    """The codebook tree (c1 → c2 → … → items) with item counts; ``paths`` (generated SIDs, best first)
    are drawn in orange and the true item's path in green. ``other_paths`` (a second system's SIDs, to
    compare two beam lists on one tree) are drawn in blue, nodes both reach in purple; ``names`` names
    the two systems in the title. ``focus`` keeps only one first-level code (for large catalogues);
    leaves are items when there are few enough of them, else prefixes."""
    table = items if focus is None else items[items[f"{prefix}c1"] == focus]
    levels = [c for c in (f"{prefix}c{i + 1}" for i in range(4)) if c in table]
    depth = min(depth, len(levels))
    show_items = len(table) <= max_leaves
    ids, parents, labels, values, hover = [], [], [], [], []
    for d in range(1, depth + 1):
        keys = _node_ids(table, d, prefix)
        counts = keys.value_counts()
        for key, count in counts.items():
            parts = key.split("-")
            ids.append(key)
            parents.append("-".join(parts[:-1]))
            labels.append(f"c{d}={parts[-1]}")
            values.append(int(count))
            hover.append(f"prefix {key}: {count} item(s)")
    if show_items and "name" in table:
        keys = _node_ids(table, depth, prefix)
        full = _node_ids(table, len(levels), prefix)
        for key, sid, name in zip(keys, full, table["name"]):
            ids.append(f"item {sid}")
            parents.append(key)
            labels.append(str(name)[:28])
            values.append(1)
            hover.append(f"{name}<br>SID {sid}")
    colours = [NEUTRAL] * len(ids)
    index = {k: i for i, k in enumerate(ids)}
    reached: dict[str, set[str]] = {}
    for colour, group in ((PATH_COLOUR, paths), (OTHER_COLOUR, other_paths)):
        for path in group or []:
            keys = ["-".join(str(int(c)) for c in path[:d]) for d in range(1, len(path) + 1)] + [f"item {sid_label(path)}"]
            for key in keys:
                if key in index:
                    reached.setdefault(key, set()).add(colour)
    for key, by in reached.items():
        colours[index[key]] = BOTH_COLOUR if len(by) > 1 else next(iter(by))
    if truth is not None:
        for d in range(1, len(truth) + 1):
            key = "-".join(str(int(c)) for c in truth[:d])
            if key in index:
                colours[index[key]] = GOOD
        if f"item {sid_label(truth)}" in index:
            colours[index[f'item {sid_label(truth)}']] = GOOD
    trace = go.Icicle if kind == "icicle" else go.Sunburst
    fig = go.Figure(trace(ids=ids, parents=parents, labels=labels, values=values, branchvalues="total",
                          hovertext=hover, hoverinfo="text", marker=dict(colors=colours), maxdepth=depth + 1))
    title = ("Codebook tree (orange: generated SIDs · green: the true next item)" if other_paths is None else
             f"Codebook tree (orange: {names[0]} · blue: {names[1]} · purple: both · green: the true next item)")
    fig.update_layout(template=TEMPLATE, margin=dict(l=0, r=0, t=30, b=0), height=520, title=title)
    return fig


def tier_heatmap(tier: np.ndarray, k1: int, edges: np.ndarray, highlight: list[int] | None = None) -> go.Figure:
    """The SID-Tier histogram of one long history: share of items in each tier (rows) of each
    first-level code's prototype (columns). ``highlight`` marks codes (e.g. the target's c1)."""
    n = len(edges) - 1
    grid = np.asarray(tier, dtype=float).reshape(k1, n).T[::-1]
    tiers = [f"tier {t + 1}: cos {edges[t]:.2f}…{edges[t + 1]:.2f}" for t in range(n)][::-1]
    fig = go.Figure(go.Heatmap(z=grid, x=[f"c1={a}" for a in range(k1)], y=tiers, colorscale="Blues",
                               colorbar=dict(title="share"), hovertemplate="%{x} · %{y}<br>share %{z:.2f}<extra></extra>"))
    for a in highlight or []:
        fig.add_vrect(x0=a - 0.5, x1=a + 0.5, line=dict(color=GOOD, width=3))
    fig.update_layout(template=TEMPLATE, height=260, margin=dict(l=0, r=0, t=40, b=0),
                      title="SID-Tier: the long history's similarity to each first-level prototype (top row = most similar)")
    return fig


def case_buckets(walk: dict, case: int) -> np.ndarray:
    """[K1, M] the hard-search buckets of one test case, from the run's sparse walkthrough tensors."""
    lo, hi = int(walk["bucket_offsets"][case]), int(walk["bucket_offsets"][case + 1])
    out = np.full((walk["prototypes"].shape[0], walk["bucket_items"].shape[1]), -1, dtype=np.int64)
    out[walk["bucket_codes"][lo:hi]] = walk["bucket_items"][lo:hi]
    return out


def beams_frame(beams: pd.DataFrame, case: int, items: pd.DataFrame, target: int, buckets: np.ndarray | None = None) -> pd.DataFrame:
    """The top beams of one case: rank, SID, item, log-prob, gate, retrieved-bucket size, hit."""
    b = beams[beams["case"] == case].sort_values("rank")
    levels = [c for c in ("c1", "c2", "c3", "c4") if c in b]
    names = items.set_index("item")["name"]
    rows = []
    for _, r in b.iterrows():
        item = int(r["item"])
        row = {"rank": int(r["rank"]), "SID": sid_label(r[levels]),
               "item": names.get(item, "invalid SID") if item >= 0 else "invalid SID",
               "log-prob": round(float(r["score"]), 3), "gate": None if pd.isna(r["gate"]) else round(float(r["gate"]), 3),
               "hit": "✓ true next item" if item == target else ""}
        if buckets is not None:
            row["bucket size"] = int((buckets[int(r["c1"])] >= 0).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def bucket_frame(bucket: np.ndarray, items: pd.DataFrame, target: int) -> pd.DataFrame:
    """One retrieved bucket (oldest first): item, SID, and whether it is the true next item."""
    table = items.set_index("item")
    levels = [c for c in ("c1", "c2", "c3", "c4") if c in table]
    rows = [{"position": i + 1, "item": table.loc[int(x), "name"], "SID": sid_label(table.loc[int(x), levels]),
             "is the next item": "✓" if int(x) == target else ""} for i, x in enumerate(bucket) if x >= 0]
    return pd.DataFrame(rows, columns=["position", "item", "SID", "is the next item"])


def results_bars(results: pd.DataFrame, metric: str = "Recall@10", systems: list[str] | None = None) -> go.Figure:
    """Grouped bars: ``metric`` per system, one bar per slice (all / absent / continuing), mean over seeds."""
    frame = results.groupby(["system", "key", "slice"], sort=False)[metric].agg(["mean", "std", "count"]).reset_index()
    if systems:
        frame = frame[frame["key"].isin(systems)]
    frame["std"] = frame["std"].fillna(0)
    fig = px.bar(frame, x="system", y="mean", color="slice", barmode="group", error_y="std",
                 color_discrete_sequence=[PALETTE[0], PALETTE[1], PALETTE[2]], labels={"mean": metric, "system": ""},
                 template=TEMPLATE)
    fig.update_layout(height=380, margin=dict(l=0, r=0, t=40, b=0), title=f"{metric} by system and slice")
    return fig


def level_accuracy(results: pd.DataFrame, slice_name: str = "absent", systems: list[str] | None = None) -> go.Figure:
    """Teacher-forced accuracy of each SID level (c1, c2, c3) and c1@3, per system, on one slice."""
    frame = results[(results["slice"] == slice_name) & results["c1 acc"].notna()]
    if systems:
        frame = frame[frame["key"].isin(systems)]
    long = frame.melt(id_vars=["system"], value_vars=["c1 acc", "c1@3", "c2 acc", "c3 acc"], var_name="level",
                      value_name="accuracy").groupby(["system", "level"], sort=False)["accuracy"].mean().reset_index()
    fig = px.bar(long, x="level", y="accuracy", color="system", barmode="group", template=TEMPLATE,
                 color_discrete_sequence=PALETTE)
    fig.update_layout(height=360, margin=dict(l=0, r=0, t=40, b=0), title=f"Per-level accuracy ({slice_name} slice)")
    return fig


def rank_progression(diagnostics: dict, systems: list[str]) -> go.Figure:
    """Conditional Rank Progression: mean rank of the true prefix at each depth."""
    fig = go.Figure()
    for i, name in enumerate(systems):
        rows = diagnostics.get(name, {}).get("rank progression", [])
        if rows:
            fig.add_scatter(x=[r["depth"] for r in rows], y=[r["mean rank"] for r in rows], mode="lines+markers",
                            name=diagnostics[name].get("label", name), line=dict(color=PALETTE[i % len(PALETTE)]))
    fig.update_layout(template=TEMPLATE, height=340, margin=dict(l=0, r=0, t=40, b=0),
                      xaxis=dict(title="depth (SID level)", dtick=1), yaxis_title="mean rank of the true prefix (lower is better)",
                      title="Conditional Rank Progression (cases whose prefix survived one level up)")
    return fig


def gate_vs_length(diagnostics: dict, systems: list[str]) -> go.Figure:
    """Mean learned gate against the retrieved-bucket length."""
    fig = go.Figure()
    for i, name in enumerate(systems):
        rows = diagnostics.get(name, {}).get("gate by length", [])
        if rows:
            fig.add_scatter(x=[r["retrieved items"] for r in rows], y=[r["mean gate"] for r in rows], mode="lines+markers",
                            name=diagnostics[name].get("label", name), text=[f"{r['cases']} cases" for r in rows],
                            line=dict(color=PALETTE[i % len(PALETTE)]))
    fig.update_layout(template=TEMPLATE, height=320, margin=dict(l=0, r=0, t=40, b=0), xaxis_title="items retrieved",
                      yaxis_title="mean gate (steps after c1)", title="The gate opens with the retrieved-set length")
    return fig


def learning_curves(diagnostics: dict) -> go.Figure:
    """Training loss every 25 steps of every trained system."""
    fig = go.Figure()
    for i, (name, d) in enumerate(diagnostics.items()):
        if d.get("curve"):
            fig.add_scatter(x=np.arange(1, len(d["curve"]) + 1) * 25, y=d["curve"], mode="lines", name=d.get("label", name),
                            line=dict(color=PALETTE[i % len(PALETTE)]))
    fig.update_layout(template=TEMPLATE, height=320, margin=dict(l=0, r=0, t=40, b=0), xaxis_title="step",
                      yaxis_title="training loss", title="Learning curves")
    return fig


def headline_table(results: pd.DataFrame, slice_name: str = "all") -> pd.DataFrame:
    """Mean over seeds of the headline metrics for one slice (one row per system)."""
    cols = [c for c in ("Recall@1", "Recall@5", "Recall@10", "NDCG@5", "NDCG@10", "c1 acc", "c2 acc", "c3 acc",
                        "c1@3", "P1", "P12", "P123", "gate") if c in results]
    frame = results[results["slice"] == slice_name].groupby(["system"], sort=False)[cols + ["cases"]].mean()
    return frame.round(4).reset_index()


def verdict_colour(reproduced) -> str:
    return {True: GOOD, False: BAD}.get(reproduced, NEUTRAL)


def run_tables(run) -> dict:
    """Everything the notebook and the page read from a built GLASS run, as pandas/numpy."""
    walk = {k: v.numpy() for k, v in run.read_tensors("walkthrough").items()}
    beams = {name: run.read_parquet(f"beams_{name}") for name in ("tiger", "glass") if run.exists(f"beams_{name}.parquet")}
    return {"items": run.read_parquet("items"), "cases": run.read_parquet("test_cases"), "beams": beams, "walk": walk,
            "summary": run.read_json("summary"), "results": run.read_parquet("results"),
            "diagnostics": run.read_json("diagnostics")}


def case_view(tables: dict, case: int, system: str = "glass") -> pd.DataFrame:
    """The top beams of one test case for one system (what the walkthrough widget shows)."""
    target = int(tables["cases"].loc[case, "target"])
    return beams_frame(tables["beams"][system], case, tables["items"], target, case_buckets(tables["walk"], case))


def contrast_cases(tables: dict, absent: bool = True) -> list[int]:
    """Test cases where GLASS ranks the true item in its top 10 and TIGER does not (on one slice)."""
    beams, cases = tables["beams"], tables["cases"]
    if not {"tiger", "glass"} <= set(beams):
        return []
    hit = {s: set(b.loc[(b["item"].to_numpy() == cases.loc[b["case"], "target"].to_numpy()), "case"]) for s, b in beams.items()}
    pick = sorted(hit["glass"] - hit["tiger"])
    return [c for c in pick if bool(cases.loc[c, "absent"]) == absent]
