"""Scoring predictions: per-case marks and metrics per slice (the claims are in ``needs.claims``).

Slices: ``overall`` (test users of the training city), ``long_tail`` (those of them in a rare
situation), ``cross_city`` (test users of the other city). A case "fails" at the first stage that is
wrong: ``need``, then ``category``, then ``service`` (the right merchant is not ranked first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench import metrics

SLICES = ("overall", "long_tail", "cross_city")
KS = (1, 3, 5)

VARIANTS = {
    "popularity": "popularity in context (sanity floor)",
    "history": "user's own history (sanity floor)",
    "isolated": "isolated pipeline: need classifier + separate recommender",
    "isolated_ctx": "isolated pipeline, its category stage reading the context too",
    "flat": "LM, flat (context → service directly)",
    "raw_sft": "LM, three-stage, raw logs, SFT",
    "clustered_sft": "LM, three-stage, clustered, SFT only",
    "sft_more": "LM, three-stage, clustered, SFT continued at RL's compute",
    "rl_sparse": "LM, three-stage, clustered, RL with the full-path reward only",
    "full": "full framework: clustered, curriculum SFT + curriculum RL",
    "full_greedy": "full framework's model, greedy chain (one need, one category)",
}


def mark_cases(cases: pd.DataFrame, preds: pd.DataFrame, variant: str) -> pd.DataFrame:
    """One row per case with the prediction, the truth and right/wrong per stage."""
    ranked = [list(s) for s in preds["services"]]
    targets = cases["merchant"].tolist()
    out = pd.DataFrame({
        "variant": variant, "record": cases["record"].to_numpy(), "user": cases["user"].to_numpy(),
        "city": cases["city"].to_numpy(), "slice_set": cases["set"].to_numpy(), "long_tail": cases["long_tail"].to_numpy(),
        "need": cases["need"].to_numpy(), "need_text": cases["need_text"].to_numpy(),
        "category": cases["category"].to_numpy(), "merchant": targets,
        "need_pred": preds["need_pred"].to_numpy(), "need_text_pred": preds["need_text_pred"].to_numpy(),
        "category_pred": preds["category_pred"].to_numpy(), "services": ranked,
        "completion": preds["completion"].to_numpy(),
    })
    has_chain = out["need_pred"].notna()
    out["need_ok"] = np.where(has_chain, out["need"] == out["need_pred"], np.nan)
    out["category_ok"] = np.where(has_chain, out["category"] == out["category_pred"], np.nan)
    for k in KS:
        out[f"hit{k}"] = metrics.hit_at_k(ranked, targets, k)
    out["ndcg5"] = metrics.ndcg_at_k(ranked, targets, 5)
    out["rr"] = metrics.reciprocal_rank(ranked, targets)
    out["failed_stage"] = np.select(
        [has_chain & (out["need_ok"] == 0), has_chain & (out["category_ok"] == 0), out["hit1"] == 0],
        ["need", "category", "service"], default="none")
    return out


def slice_mask(marked: pd.DataFrame, name: str) -> pd.Series:
    if name == "overall":
        return marked["slice_set"] == "test"
    if name == "long_tail":
        return (marked["slice_set"] == "test") & marked["long_tail"].astype(bool)
    if name == "cross_city":
        return marked["slice_set"] == "cross_city"
    raise ValueError(name)


def metrics_table(marked: pd.DataFrame, needs: list[str]) -> pd.DataFrame:
    """Need accuracy and macro-F1, category accuracy, HR@1/3/5, NDCG@5 per variant and slice."""
    rows = []
    for (seed, variant), group in marked.groupby(["seed", "variant"], sort=False):
        for name in SLICES:
            part = group[slice_mask(group, name)]
            row = {"seed": seed, "variant": variant, "slice": name, "cases": len(part)}
            chain = part["need_pred"].notna()
            row["need_acc"] = float(part["need_ok"].mean()) if chain.any() else np.nan
            row["need_macro_f1"] = metrics.macro_f1(part["need"], part["need_pred"].astype(str), labels=needs) if chain.any() else np.nan
            row["category_acc"] = float(part["category_ok"].mean()) if chain.any() else np.nan
            for k in KS:
                row[f"HR@{k}"] = float(part[f"hit{k}"].mean()) if len(part) else np.nan
            row["NDCG@5"] = float(part["ndcg5"].mean()) if len(part) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)
