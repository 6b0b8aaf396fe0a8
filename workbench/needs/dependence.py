"""How much the stages of a needs dataset depend on each other beyond the isolated pipeline's
factorisation — the three dependencies the world's ``coupling`` dial plants (``world`` module doc),
measured on the records as conditional mutual information (plug-in estimates, in bits).

The plug-in estimate is biased upwards when a stratum holds few records (per user there are ~40), so
a number means something beside the same measure of another world of the same size — the dial's
curve — not on its own.

>>> rec = pd.DataFrame({"x": list("aabb") * 2, "y": list("ccdd") * 2, "g": ["u"] * 8})
>>> conditional_mi(rec, "x", "y", ["g"]), conditional_mi(rec.assign(y="c"), "x", "y", ["g"])
(1.0, 0.0)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEASURES = {
    "merchant | occasion": "I(merchant; part of day | user, category, place) on clean history records",
    "category | context": "I(category; part of day, weather | user, need) on clean history records",
    "need | last outcome": "I(same need as the last order; the last order's outcome) over all records",
}
"""The three planted dependencies and how each is measured (keys of ``planted``)."""


def conditional_mi(frame: pd.DataFrame, x: str | list[str], y: str | list[str], given: list[str]) -> float:
    """I(x; y | given) in bits: sum over strata of the stratum's share times the plug-in mutual
    information of x and y inside it (``given`` empty: the plain mutual information)."""
    xs, ys = ([x] if isinstance(x, str) else list(x)), ([y] if isinstance(y, str) else list(y))
    keys = list(given)
    n = len(frame)
    if n == 0:
        return 0.0
    def counts(cols: list[str]) -> pd.Series:
        return frame.groupby(cols, sort=False, dropna=False).size() if cols else pd.Series([n])

    def entropy(cols: list[str]) -> float:
        c = counts(cols).to_numpy(dtype=float) / n
        return float(-(c * np.log2(c)).sum())

    # I(X; Y | Z) = H(X, Z) + H(Y, Z) - H(X, Y, Z) - H(Z)
    value = entropy(xs + keys) + entropy(ys + keys) - entropy(xs + ys + keys) - entropy(keys)
    return round(max(value, 0.0), 4)


def planted(records: pd.DataFrame) -> dict[str, float]:
    """The three measures of ``MEASURES`` on a dataset's records (the hidden ``kind`` column picks the
    clean history records; without it, all history records).

    ``place`` is home / work / out as the world sees a scene (``world``); the last outcome is
    ``none`` where a dataset has no ``outcome`` column (the world below coupling 0 writes none)."""
    history = records[records["split"] != "test"]
    if "kind" in history and history["kind"].notna().any():
        history = history[history["kind"] == "clean"]
    place = history["scene"].map(lambda s: "home" if s == "home" else ("work" if s in ("office", "school") else "out"))
    history = history.assign(place=place)
    ordered = records.sort_values(["user", "t"])
    outcome = ordered["outcome"] if "outcome" in ordered else pd.Series("none", index=ordered.index)
    previous = ordered.groupby("user")[["need"]].shift(1).assign(outcome=outcome.groupby(ordered["user"]).shift(1))
    seq = pd.DataFrame({"same_need": ordered["need"] == previous["need"], "last_outcome": previous["outcome"]})
    seq = seq[previous["need"].notna()]
    return {
        "merchant | occasion": conditional_mi(history, "merchant", "hour_bin", ["user", "category", "place"]),
        "category | context": conditional_mi(history, "category", ["hour_bin", "weather"], ["user", "need"]),
        "need | last outcome": conditional_mi(seq, "same_need", "last_outcome", []),
    }
