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
  trained or tuned on its own, never jointly. This is the paper's "isolated" (prior work: a need
  predictor, then a recommender that knows the user and the place).
- ``isolated_ctx``           the same pipeline with a category stage that reads the context too: a
  classifier from the context, the need and the user's category shares for that need (overall, at the
  place, at the part of day) to the category (``fit_category_classifier``), kept when it beats the
  rule on validation cases given the true need (``choose_category_stage``). The strongest pipeline a
  world with a ``coupling`` dial allows: what a joint model gains over it is not the context alone.

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
def context_columns(scenes: list[str], weathers: list[str]) -> list[tuple[str, list[str]]]:
    """The context fields the classifiers read, each with its values (one one-hot block each)."""
    return [("day", list(DAY_TYPES)), ("hour_bin", list(HOUR_BINS)), ("scene", scenes), ("weather", weathers)]


def one_hot_context(row: np.ndarray, case, columns: list[tuple[str, list[str]]]) -> int:
    """Set the case's context one-hots at the start of ``row``; returns the width they take."""
    col = 0
    for name, values in columns:
        value = getattr(case, name)
        if value in values:
            row[col + values.index(value)] = 1.0
        col += len(values)
    return col


def need_features(cases: pd.DataFrame, data: NeedsData, scenes: list[str], weathers: list[str]) -> np.ndarray:
    """Context one-hots + the user's need histograms (overall, same place, same part of day), per case;
    where cases know the last order (a coupled world, ``prompts.with_last_order``) also its need one-hot
    by its outcome (good, bad), as the language model's prompt shows it."""
    needs = data.needs
    index = {n: i for i, n in enumerate(needs)}
    cat_need = data.category_need
    columns = context_columns(scenes, weathers)
    width = sum(len(v) for _, v in columns) + 3 * len(needs)
    out = np.zeros((len(cases), width + (2 * len(needs) if "last_outcome" in cases else 0)), dtype=np.float32)
    if "last_outcome" in cases:
        phrase_need = data.phrase_need
        for row, (text, outcome) in enumerate(zip(cases["last_need_text"], cases["last_outcome"])):
            if outcome in ("good", "bad"):
                out[row, width + ("good", "bad").index(outcome) * len(needs) + index[phrase_need[text]]] = 1.0
    for row, case in enumerate(cases.itertuples()):
        col = one_hot_context(out[row], case, columns)
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


def rule_categories(data: NeedsData, cases: pd.DataFrame, needs, history: pd.DataFrame) -> list[str]:
    """The isolated pipeline's category per case for the given need: the user's usual category for it at
    the case's place, then anywhere, then the commonest in that context over everyone's history."""
    _, cat_by_ctx = context_tables(history)
    cat_need = data.category_need
    out = []
    for case, need in zip(cases.itertuples(), needs):
        cats = np.asarray(case.pool_categories, dtype=object)
        scenes_ = np.asarray(case.pool_scenes, dtype=object)
        in_need = np.array([cat_need[c] == need for c in cats], dtype=bool)
        same_place = Counter(cats[in_need & (scenes_ == case.scene)])
        anywhere = Counter(cats[in_need])
        fallback = cat_by_ctx.get((case.day, case.hour_bin, case.scene, need), data.need_categories[need][0])
        out.append(max(data.need_categories[need], key=lambda c: (same_place[c], anywhere[c], c == fallback)))
    return out


def category_features(cases: pd.DataFrame, needs, data: NeedsData, scenes: list[str], weathers: list[str]) -> np.ndarray:
    """Per (case, need): the context one-hots, the need's one-hot, and for each of the need's categories
    (by its place in ``data.need_categories``) its share of the user's records of that need overall, at
    the case's place and at its part of day. Labels are those places (``category_slot``)."""
    slots = max(len(c) for c in data.need_categories.values())
    index = {n: i for i, n in enumerate(data.needs)}
    columns = context_columns(scenes, weathers)
    width = sum(len(v) for _, v in columns)
    out = np.zeros((len(cases), width + len(index) + 3 * slots), dtype=np.float32)
    for row, (case, need) in enumerate(zip(cases.itertuples(), needs)):
        one_hot_context(out[row], case, columns)
        out[row, width + index[need]] = 1.0
        cats = np.asarray(case.pool_categories, dtype=object)
        place = np.asarray(case.pool_scenes, dtype=object) == case.scene
        hour = np.asarray(case.pool_hour_bins, dtype=object) == case.hour_bin
        for j, mask in enumerate((np.ones(len(cats), bool), place, hour)):
            seen = cats[mask]
            for k, c in enumerate(data.need_categories[need]):
                out[row, width + len(index) + j * slots + k] = (seen == c).sum() / max(len(seen), 1)
    return out


def category_slot(data: NeedsData, needs, categories) -> np.ndarray:
    """Each category's place among its need's categories (the category classifier's label)."""
    return np.array([data.need_categories[n].index(c) for n, c in zip(needs, categories)])


def fit_category_classifier(train_cases: pd.DataFrame, data: NeedsData, scenes: list[str], weathers: list[str], seed: int):
    """Histogram gradient boosting from ``category_features`` (at the true need) to the category's place
    among its need's categories: the interactions the dial plants (rain picks a need's first category,
    cold its last) are products of one-hots, which a linear model cannot form."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = category_features(train_cases, train_cases["need"], data, scenes, weathers)
    y = category_slot(data, train_cases["need"], train_cases["category"])
    return HistGradientBoostingClassifier(learning_rate=0.05, max_iter=100, random_state=seed).fit(x, y)


def classifier_categories(model, data: NeedsData, cases: pd.DataFrame, needs, scenes: list[str], weathers: list[str]) -> list[str]:
    """The category classifier's pick per case among the given need's own categories."""
    proba = model.predict_proba(category_features(cases, needs, data, scenes, weathers))
    column = {slot: i for i, slot in enumerate(model.classes_)}  # a slot never seen in training scores -1
    out = []
    for p, need in zip(proba, needs):
        options = data.need_categories[need]
        best = max(range(len(options)), key=lambda slot: p[column[slot]] if slot in column else -1.0)
        out.append(options[best])
    return out


def choose_category_stage(train_cases: pd.DataFrame, valid_cases: pd.DataFrame, data: NeedsData, scenes: list[str],
                          weathers: list[str], history: pd.DataFrame, seed: int) -> tuple[object | None, dict]:
    """The category classifier if it beats the rule (``rule_categories``) on validation cases given the
    true need, else None (the rule). Returns it and ``{"kind", "valid_category_acc": {...}}``."""
    if valid_cases.empty:
        return None, {"kind": "rule", "valid_category_acc": {}}
    model = fit_category_classifier(train_cases, data, scenes, weathers, seed)
    truth, needs = valid_cases["category"].to_numpy(), valid_cases["need"].tolist()
    scores = {"rule": float((np.array(rule_categories(data, valid_cases, needs, history)) == truth).mean()),
              "gbdt": float((np.array(classifier_categories(model, data, valid_cases, needs, scenes, weathers)) == truth).mean())}
    kind = "gbdt" if scores["gbdt"] > scores["rule"] else "rule"
    return (model if kind == "gbdt" else None), {"kind": kind, "valid_category_acc": {k: round(v, 4) for k, v in scores.items()}}


def isolated(data: NeedsData, cases: pd.DataFrame, classifier, scenes: list[str], weathers: list[str],
             popularity: Popularity, n_popular: int, history: pd.DataFrame, category_model=None) -> pd.DataFrame:
    """The pipeline: the need classifier's need, then the category (``category_model``'s pick when given,
    else the rule), then the user's merchants of that category (``rank_own``)."""
    need_pred = classifier.predict(need_features(cases, data, scenes, weathers)).tolist()
    categories = (classifier_categories(category_model, data, cases, need_pred, scenes, weathers) if category_model is not None
                  else rule_categories(data, cases, need_pred, history))
    rows = []
    for case, need, category in zip(cases.itertuples(), need_pred, categories):
        cats, merchants = _pool(case)
        own = rank_own(cats, merchants, np.asarray(case.pool_scenes, dtype=object), case, category)
        rows.append(_row(need, category, candidates(own, case.city, category, popularity, n_popular)))
    return pd.DataFrame(rows, index=cases.index)
