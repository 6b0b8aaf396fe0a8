"""Metrics shared by every method, computed per case so that intervals and paired tests come free.

Ranking metrics take ``ranked`` (one list of item ids per case, best first) and ``targets`` (the
relevant item per case, or a set of relevant items). They return one value per case; average them
for the headline number, bootstrap them for an interval.

>>> hit_at_k([["a", "b", "c"]], ["b"], k=1).tolist(), hit_at_k([["a", "b", "c"]], ["b"], k=2).tolist()
([0.0], [1.0])
>>> round(float(ndcg_at_k([["a", "b"]], ["b"], k=2)[0]), 4)  # 1 / log2(3)
0.6309
"""

from __future__ import annotations

import warnings

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import f1_score


def _as_set(target: Any) -> set:
    if isinstance(target, (set, frozenset, list, tuple, np.ndarray)):
        return set(target)
    return {target}


def hit_at_k(ranked: Sequence[Sequence[Hashable]], targets: Sequence[Any], k: int) -> np.ndarray:
    """1 if any relevant item is in the top ``k``, else 0 (HR@K; equals Recall@K with one target)."""
    return np.array([float(bool(_as_set(t) & set(list(r)[:k]))) for r, t in zip(ranked, targets, strict=True)])


def recall_at_k(ranked: Sequence[Sequence[Hashable]], targets: Sequence[Any], k: int) -> np.ndarray:
    """Share of the relevant items found in the top ``k``."""
    out = []
    for r, t in zip(ranked, targets, strict=True):
        rel = _as_set(t)
        out.append(len(rel & set(list(r)[:k])) / len(rel) if rel else 0.0)
    return np.array(out)


def ndcg_at_k(ranked: Sequence[Sequence[Hashable]], targets: Sequence[Any], k: int) -> np.ndarray:
    """Binary-relevance NDCG@K: sum of 1/log2(rank+1) over relevant hits, over the ideal ordering."""
    out = []
    for r, t in zip(ranked, targets, strict=True):
        rel = _as_set(t)
        dcg = sum(1.0 / np.log2(i + 2) for i, item in enumerate(list(r)[:k]) if item in rel)
        ideal = sum(1.0 / np.log2(i + 2) for i in range(min(len(rel), k)))
        out.append(dcg / ideal if ideal > 0 else 0.0)
    return np.array(out)


def reciprocal_rank(ranked: Sequence[Sequence[Hashable]], targets: Sequence[Any]) -> np.ndarray:
    """1/rank of the first relevant item (0 when none is ranked); its mean is MRR."""
    out = []
    for r, t in zip(ranked, targets, strict=True):
        rel = _as_set(t)
        out.append(next((1.0 / (i + 1) for i, item in enumerate(r) if item in rel), 0.0))
    return np.array(out)


def correct(y_true: Sequence[Any], y_pred: Sequence[Any]) -> np.ndarray:
    """1 where the prediction equals the truth; its mean is accuracy."""
    return np.array([float(a == b) for a, b in zip(y_true, y_pred, strict=True)])


def accuracy(y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    return float(correct(y_true, y_pred).mean()) if len(y_true) else float("nan")


def macro_f1(y_true: Sequence[Any], y_pred: Sequence[Any], labels: Iterable[Any] | None = None) -> float:
    """Unweighted mean of per-class F1 over ``labels`` (default: the classes present in ``y_true``)."""
    if not len(y_true):
        return float("nan")
    labels = sorted(set(y_true)) if labels is None else list(labels)
    y_true = [str(v) for v in y_true]
    y_pred = [str(v) for v in y_pred]
    return float(f1_score(y_true, y_pred, labels=[str(v) for v in labels], average="macro", zero_division=0))


# ---- intervals ------------------------------------------------------------------------------------
# One bootstrap helper (scipy.stats.bootstrap, percentile method) behind every interval of the project;
# ``replicates`` are kept so that several seeds can be combined by the one rule in ``workbench.claims``.
def bootstrap(
    *samples: Sequence[Any] | np.ndarray,
    statistic: Callable[..., float] | None = None,
    paired: bool = True,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, Any]:
    """Percentile bootstrap of ``statistic(*samples)`` over cases: ``value``, ``low``, ``high``, ``replicates``.

    Default statistic: the mean of one sample, or mean(a) - mean(b) of two (paired: both resampled
    with the same case indices). A non-mean statistic (macro-F1 of (truth, prediction)) is resampled
    case-wise too, with ``paired=True``.

    >>> r = bootstrap([1.0, 0.0] * 50, n_boot=500)
    >>> round(r["value"], 2), 0.35 < r["low"] < 0.5 < r["high"] < 0.65, len(r["replicates"])
    (0.5, True, 500)
    """
    from scipy import stats

    arrays = [np.asarray(x) for x in samples]
    if statistic is None:
        if len(arrays) == 1:
            statistic = lambda a, axis=-1: np.mean(a, axis=axis)  # noqa: E731
        else:
            statistic = lambda a, b, axis=-1: np.mean(a, axis=axis) - np.mean(b, axis=axis)  # noqa: E731
        arrays = [a.astype(float) for a in arrays]
        vectorized = True
    else:
        vectorized = False
    if len({len(a) for a in arrays}) > 1 and paired:
        raise ValueError(f"a paired bootstrap needs samples on the same cases; got lengths {[len(a) for a in arrays]}")
    nan = {"value": float("nan"), "low": float("nan"), "high": float("nan"), "replicates": np.full(n_boot, np.nan)}
    if not len(arrays[0]):
        return nan
    value = float(statistic(*arrays) if not vectorized else statistic(*arrays, axis=-1))
    if len(arrays[0]) < 2:
        return {**nan, "value": value, "replicates": np.full(n_boot, value)}
    with warnings.catch_warnings():  # all-equal cases give a degenerate (zero-width) interval: fine here
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.bootstrap(tuple(arrays), statistic, n_resamples=n_boot, paired=paired, vectorized=vectorized,
                              confidence_level=1 - alpha, method="percentile", rng=np.random.default_rng(seed))
    reps = np.asarray(res.bootstrap_distribution, dtype=float)
    return {"value": value, "low": float(np.nanquantile(reps, alpha / 2)), "high": float(np.nanquantile(reps, 1 - alpha / 2)),
            "replicates": reps}


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float] = np.mean,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over cases (default: the mean)."""
    stat = None if statistic is np.mean else statistic
    r = bootstrap(values, statistic=stat, n_boot=n_boot, alpha=alpha, seed=seed)
    return (r["low"], r["high"])


def bootstrap_metric_ci(
    metric: Callable[..., float],
    *columns: Sequence[Any],
    n_boot: int = 500,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float]:
    """Bootstrap interval of a metric that is not a mean of cases (e.g. macro-F1 over (truth, pred))."""
    r = bootstrap(*[np.asarray(c, dtype=object) for c in columns], statistic=metric, n_boot=n_boot, alpha=alpha,
                  seed=seed)
    return (r["low"], r["high"])


def paired_bootstrap(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, float]:
    """Compare two systems scored on the same cases: mean(a) - mean(b) with a paired interval.

    Returns ``diff``, ``low``, ``high`` and ``p_a_better`` (share of resamples where a beats b).
    The difference is significant at level ``alpha`` when the interval excludes 0.

    >>> r = paired_bootstrap([1, 1, 1, 0] * 50, [0, 1, 0, 0] * 50)
    >>> round(r["diff"], 2), r["low"] > 0
    (0.5, True)
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired_bootstrap needs scores on the same cases; got {a.shape} and {b.shape}")
    r = bootstrap(a, b, n_boot=n_boot, alpha=alpha, seed=seed)
    return {"diff": r["value"], "low": r["low"], "high": r["high"],
            "p_a_better": float((r["replicates"] > 0).mean()) if len(a) else float("nan")}


def ranking_report(ranked: Sequence[Sequence[Hashable]], targets: Sequence[Any], ks: Iterable[int] = (1, 5, 10)) -> dict[str, float]:
    """Mean HR@K and NDCG@K for each K, plus MRR — the usual table row."""
    row: dict[str, float] = {}
    for k in ks:
        row[f"HR@{k}"] = float(hit_at_k(ranked, targets, k).mean()) if len(targets) else float("nan")
        row[f"NDCG@{k}"] = float(ndcg_at_k(ranked, targets, k).mean()) if len(targets) else float("nan")
    row["MRR"] = float(reciprocal_rank(ranked, targets).mean()) if len(targets) else float("nan")
    return row
