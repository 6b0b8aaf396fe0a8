"""Baselines that use the same inputs as the language model: the context and the user's history pool.

- ``popularity_in_context``  the commonest need and category among everyone's records in the same
  context; the city's most popular merchants of that category. The sanity floor.
- ``user_history``           the user's commonest need and category; the user's most used merchants.
- ``isolated``               the "prior work" pipeline at its strongest: a need classifier (scikit-learn
  logistic regression or gradient boosting on the context and the user's need histograms — overall, at
  the same place, at the same part of day — the better on validation cases kept), then the user's
  usual category for that need (at the same place first), then a separate context-aware frequency
  recommender that ranks the same candidate set as the LM by the user's uses at the case's place, then
  all uses, then recency (``prompts.rank_own``; the city's popular merchants after). Each stage is
  trained or tuned on its own, never jointly.

All three return the frame ``inference.predict_chains`` returns, so the evaluation treats every
variant alike.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from workbench.needs.prompts import Popularity, candidates, chain_text, own_merchants, rank_own
from workbench.needs.data import DAY_TYPES, HOUR_BINS, NeedsData

TOP_N = 10


def _row(need: str, category: str, services: list[str], phrase: str | None = None) -> dict:
    return {"need_text_pred": phrase or need, "need_pred": need, "category_pred": category,
            "services": services[:TOP_N], "completion": chain_text(phrase or need, category, services[:3])}


def _pool(case) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(case.pool_categories, dtype=object), np.asarray(case.pool_merchants, dtype=object)


def context_tables(history: pd.DataFrame) -> tuple[dict, dict]:
    """Commonest need per context and commonest category per (context, need) over all history records."""
    key = ["day", "hour_bin", "scene"]
    need = history.groupby(key)["need"].agg(lambda s: s.value_counts().index[0]).to_dict()
    cat = history.groupby([*key, "need"])["category"].agg(lambda s: s.value_counts().index[0]).to_dict()
    return need, cat


def popularity_in_context(data: NeedsData, cases: pd.DataFrame, history: pd.DataFrame, popularity: Popularity,
                          n_popular: int) -> pd.DataFrame:
    need_by_ctx, cat_by_ctx = context_tables(history)
    overall_need = history["need"].value_counts().index[0]
    first_cat = {n: cs[0] for n, cs in data.need_categories.items()}
    rows = []
    for case in cases.itertuples():
        ctx = (case.day, case.hour_bin, case.scene)
        need = need_by_ctx.get(ctx, overall_need)
        category = cat_by_ctx.get((*ctx, need), first_cat[need])
        rows.append(_row(need, category, popularity.by_city_category.get((case.city, category), [])))
    return pd.DataFrame(rows, index=cases.index)


def user_history(data: NeedsData, cases: pd.DataFrame, popularity: Popularity, n_popular: int) -> pd.DataFrame:
    cat_need = data.category_need
    first_cat = {n: cs[0] for n, cs in data.need_categories.items()}
    rows = []
    for case in cases.itertuples():
        cats, merchants = _pool(case)
        needs = [cat_need[c] for c in cats]
        need = Counter(needs).most_common(1)[0][0] if needs else popularity_fallback_need(data)
        in_need = [c for c in cats if cat_need[c] == need]
        category = Counter(in_need).most_common(1)[0][0] if in_need else first_cat[need]
        services = candidates(own_merchants(cats, merchants, None), case.city, None, popularity, n_popular)
        rows.append(_row(need, category, services))
    return pd.DataFrame(rows, index=cases.index)


def popularity_fallback_need(data: NeedsData) -> str:
    return data.needs[0]


# ---- the isolated pipeline -------------------------------------------------------------------------
def need_features(cases: pd.DataFrame, data: NeedsData, scenes: list[str], weathers: list[str]) -> np.ndarray:
    """Context one-hots + the user's need histograms (overall, same place, same part of day), per case;
    where cases know the last order (a coupled world, ``prompts.with_last_order``) also its need one-hot
    by its outcome (good, bad), as the language model's prompt shows it."""
    needs = data.needs
    index = {n: i for i, n in enumerate(needs)}
    cat_need = data.category_need
    columns = [("day", list(DAY_TYPES)), ("hour_bin", list(HOUR_BINS)), ("scene", scenes), ("weather", weathers)]
    width = sum(len(v) for _, v in columns) + 3 * len(needs)
    out = np.zeros((len(cases), width + (2 * len(needs) if "last_outcome" in cases else 0)), dtype=np.float32)
    if "last_outcome" in cases:
        phrase_need = data.phrase_need
        for row, (text, outcome) in enumerate(zip(cases["last_need_text"], cases["last_outcome"])):
            if outcome in ("good", "bad"):
                out[row, width + ("good", "bad").index(outcome) * len(needs) + index[phrase_need[text]]] = 1.0
    for row, case in enumerate(cases.itertuples()):
        col = 0
        for name, values in columns:
            value = getattr(case, name)
            if value in values:
                out[row, col + values.index(value)] = 1.0
            col += len(values)
        cats = np.asarray(case.pool_categories, dtype=object)
        pool_needs = np.array([index[cat_need[c]] for c in cats], dtype=int)
        scenes_ = np.asarray(case.pool_scenes, dtype=object)
        hours_ = np.asarray(case.pool_hour_bins, dtype=object)
        for j, mask in enumerate((np.ones(len(cats), bool), scenes_ == case.scene, hours_ == case.hour_bin)):
            if mask.any():
                out[row, col + j * len(needs):col + (j + 1) * len(needs)] = np.bincount(
                    pool_needs[mask], minlength=len(needs)) / mask.sum()
    return out


NEED_CLASSIFIERS = ("logreg", "gbdt")


def fit_need_classifier(train_cases: pd.DataFrame, data: NeedsData, scenes: list[str], weathers: list[str], seed: int,
                        kind: str = "logreg"):
    """``logreg`` (logistic regression) or ``gbdt`` (histogram gradient boosting) from ``need_features``
    to the canonical need of each training case. The boosting's learning rate is 0.05: at 0.1 its
    14-class fit diverged on the demo world (need accuracy .28 against .71 at 0.05)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    x = need_features(train_cases, data, scenes, weathers)
    if kind == "gbdt":
        model = HistGradientBoostingClassifier(learning_rate=0.05, max_iter=100, random_state=seed)
    else:
        model = LogisticRegression(max_iter=500, C=1.0, random_state=seed)
    return model.fit(x, train_cases["need"].to_numpy())


def choose_need_classifier(kind: str, train_cases: pd.DataFrame, valid_cases: pd.DataFrame, data: NeedsData,
                           scenes: list[str], weathers: list[str], seed: int) -> tuple[object, dict]:
    """The classifier ``kind`` names, or for ``auto`` each of ``NEED_CLASSIFIERS`` fitted and the one with
    the highest need accuracy on ``valid_cases`` kept. Returns it and ``{"kind", "valid_need_acc": {...}}``."""
    kinds = NEED_CLASSIFIERS if kind == "auto" else (kind,)
    fitted = {k: fit_need_classifier(train_cases, data, scenes, weathers, seed, k) for k in kinds}
    if valid_cases.empty:  # nothing to choose on: the first (logistic regression)
        return fitted[kinds[0]], {"kind": kinds[0], "valid_need_acc": {}}
    x, y = need_features(valid_cases, data, scenes, weathers), valid_cases["need"].to_numpy()
    scores = {k: round(float((m.predict(x) == y).mean()), 4) for k, m in fitted.items()}
    best = max(kinds, key=scores.get)
    return fitted[best], {"kind": best, "valid_need_acc": scores}


def isolated(data: NeedsData, cases: pd.DataFrame, classifier, scenes: list[str], weathers: list[str],
             popularity: Popularity, n_popular: int, history: pd.DataFrame) -> pd.DataFrame:
    need_pred = classifier.predict(need_features(cases, data, scenes, weathers))
    _, cat_by_ctx = context_tables(history)
    cat_need = data.category_need
    rows = []
    for case, need in zip(cases.itertuples(), need_pred):
        cats, merchants = _pool(case)
        scenes_ = np.asarray(case.pool_scenes, dtype=object)
        in_need = np.array([cat_need[c] == need for c in cats], dtype=bool)
        same_place = Counter(cats[in_need & (scenes_ == case.scene)])
        anywhere = Counter(cats[in_need])
        fallback = cat_by_ctx.get((case.day, case.hour_bin, case.scene, need), data.need_categories[need][0])
        options = data.need_categories[need]
        category = max(options, key=lambda c: (same_place[c], anywhere[c], c == fallback))
        own = rank_own(cats, merchants, scenes_, case, category)
        rows.append(_row(need, category, candidates(own, case.city, category, popularity, n_popular)))
    return pd.DataFrame(rows, index=cases.index)
