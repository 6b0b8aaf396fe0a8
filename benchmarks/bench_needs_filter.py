"""Method 1: how well can a filter find the planted accidental records? (issue: filter ≥ .85 / .85)

On the demo world of 3 seeds (``NEEDS_FILTER_SEEDS``, default 0,1,2), precision and recall of
*dropping* as a detector of the planted accidents, for

* ``clusters`` — the build's filter: per-user DBSCAN support or population share (demo thresholds);
* ``routine`` — ``clustering.routine_score`` (the record vs the user's other records), threshold chosen
  on 20% labelled users, scored on the other 80%;
* ``routine, per user`` — the same score as a percentile within its user (a per-user adaptive
  threshold: drop each user's least routine share), the cut chosen on the same labelled users;
* ``ceiling`` — a gradient-boosted classifier trained on the planted flags over the same signals
  (3-fold by user): not a filter anyone can run on real data, but what these signals allow;

and how many accidents look like the user's clean routine (a clean record of the same user with the
same need and category) — the part no record-level filter can find.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

TITLE = "Living needs → services: the accidental-record filter, 3 seeds"


def signals(history: pd.DataFrame) -> pd.DataFrame:
    """Record-vs-routine signals (leave-one-out counts over the user's other records) for the ceiling model."""
    n_user = history.groupby("user")["record"].transform("size").to_numpy()

    def others(keys):
        return history.groupby(keys)["record"].transform("size").to_numpy() - 1

    return pd.DataFrame({
        "need": others(["user", "need"]) / n_user, "category": others(["user", "category"]) / n_user,
        "merchant": others(["user", "merchant"]), "context": others(["user", "day", "hour_bin", "scene"]) / n_user,
        "context_need": others(["user", "day", "hour_bin", "scene", "need"]),
        "pop_share": history["pop_share"].to_numpy(), "support": history["support"].to_numpy(),
    })


def seed_rows(seed: int) -> list[dict]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GroupKFold, cross_val_predict

    from workbench import methods
    from workbench.needs import clustering
    from workbench.needs import prepare

    config = methods.make_config("needs", "demo")
    data = prepare.load_data(config, seed)
    history = prepare.cluster_history(data, config, seed)
    accidental = history["accidental"].fillna(False).to_numpy(dtype=bool)
    users = history["user"].to_numpy()
    rows = [{"seed": seed, "filter": "clusters (DBSCAN support or population share)",
             **clustering.filter_quality(history["kept"], accidental)}]

    score = clustering.routine_score(history)
    threshold, labelled = clustering.choose_threshold(score, accidental, users, seed=seed)
    rows.append({"seed": seed, "filter": "routine score (threshold chosen on 20% labelled users, scored on the rest)",
                 "threshold": round(threshold, 2), **clustering.filter_quality(score[~labelled] > threshold, accidental[~labelled])})

    within_user = pd.Series(score).groupby(users).rank(pct=True).to_numpy()
    cut, labelled = clustering.choose_threshold(within_user, accidental, users, seed=seed)
    rows.append({"seed": seed, "filter": "routine score as a percentile within its user (cut chosen on the same labelled users)",
                 "threshold": round(cut, 2), **clustering.filter_quality(within_user[~labelled] > cut, accidental[~labelled])})

    x = signals(history)
    proba = cross_val_predict(HistGradientBoostingClassifier(max_iter=200, random_state=seed), x, accidental,
                              groups=users, cv=GroupKFold(3), method="predict_proba")[:, 1]
    rows.append({"seed": seed, "filter": "ceiling: boosted trees on the planted flags (3-fold by user)",
                 **clustering.filter_quality(proba < 0.45, accidental)})

    clean = history[~accidental]
    habits = set(map(tuple, clean[["user", "need", "category"]].to_numpy()))
    inside = np.array([tuple(r) in habits for r in history[["user", "need", "category"]].to_numpy()])
    for row in rows:
        row["accidents like a clean habit"] = f"{int((inside & accidental).sum()):,} of {int(accidental.sum()):,}"
    return rows


def run() -> list[dict]:
    seeds = [int(s) for s in os.environ.get("NEEDS_FILTER_SEEDS", "0,1,2").split(",")]
    per_seed = pd.DataFrame([row for seed in seeds for row in seed_rows(seed)])
    rows = []
    for name, group in per_seed.groupby("filter", sort=False):
        rows.append({"table": f"filter quality, demo world, mean over seeds {seeds}", "filter": name,
                     "precision": round(group["precision"].mean(), 3), "recall": round(group["recall"].mean(), 3),
                     "precision per seed": " ".join(f"{v:.3f}" for v in group["precision"]),
                     "recall per seed": " ".join(f"{v:.3f}" for v in group["recall"]),
                     "clean dropped": round(group["clean_dropped_share"].mean(), 3),
                     "threshold per seed": " ".join(f"{v:.2f}" for v in group["threshold"].dropna()) or None,
                     "accidents like a clean habit": " / ".join(group["accidents like a clean habit"])})
    return rows
