"""Compare two variants case by case: the 2 × 2 table, its significance, slices, the disagreements.

Every method describes its evaluation as a :class:`CaseFrame`: one row per (case, variant) with one or
more 0/1 outcome columns (a stage right, a hit within K, an answer correct), the slice columns of the
case and whatever the page needs to show the case. Because both variants are scored on the same cases,
the fair comparison is paired:

* the **2 × 2 table** counts the cases both get right, only A, only B, neither;
* **McNemar's exact test** asks whether the discordant cases (only A vs only B) split more unevenly
  than a fair coin would: an exact two-sided binomial test on them (``scipy.stats.binomtest``) — the
  right test for two classifiers on the same cases, and exact at the small counts of a slice;
* the **paired bootstrap** of ``workbench.claims.compare`` (the rule every claim uses) gives the
  difference of the two accuracies with a 95% interval.

Cases where either variant has no outcome (a baseline without a need stage) are left out of the pair.
Each method also proposes a few ``Featured`` cases, picked from the data by rules stated in their
reason (``workbench/<method>/cases.py``); nothing here knows any method.

>>> frame = pd.DataFrame({"case": [1, 2, 3, 1, 2, 3], "variant": ["a"] * 3 + ["b"] * 3,
...                       "correct": [1, 1, 0, 0, 1, 0]})
>>> r = compare_pair(CaseFrame(frame, ("correct",), {}, {"a": "A", "b": "B"}), "a", "b")
>>> r.both, r.only_a, r.only_b, r.neither, r.p_value
(1, 1, 0, 1, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench import claims
from workbench.errors import WorkbenchError

ALL = "all cases"
"""The slice name that means no filter."""


@dataclass(frozen=True)
class CaseFrame:
    """Per-case outcomes of every variant of one run (the input of every comparison)."""

    cases: pd.DataFrame
    """Long table: ``case``, ``variant``, the outcome columns (1 right, 0 wrong, NaN not scored),
    the slice columns and anything a page shows beside them. Slice columns hold the case's value."""
    outcomes: tuple[str, ...]
    """The outcome columns that can be compared, the default first (e.g. ``("service", "need", ...)``)."""
    slices: dict[str, tuple[str, object]]
    """Slice name -> (column, value): a case is in the slice when ``cases[column] == value``."""
    variants: dict[str, str]
    """Variant -> its label, in display order."""
    show: tuple[str, ...] = ()
    """Case columns worth listing beside a disagreement (user, difficulty, …)."""
    numbers: tuple[str, ...] = ()
    """Per-variant numbers compared as means beside the outcome (e.g. generated ``tokens``)."""


@dataclass(frozen=True)
class Featured:
    """A case worth opening in a demo, with the one-line reason it was picked (and the pair to show)."""

    case: object
    reason: str
    a: str | None = None
    b: str | None = None


@dataclass(frozen=True)
class PairResult:
    """Variant a vs variant b on the same cases of one slice."""

    a: str
    b: str
    outcome: str
    slice: str
    both: int
    only_a: int
    only_b: int
    neither: int
    p_value: float
    """McNemar's exact two-sided p-value (1.0 without discordant cases)."""
    a_rate: float
    b_rate: float
    diff: float
    low: float
    high: float
    """95% paired-bootstrap interval of a_rate - b_rate (``workbench.claims.compare``)."""
    means: dict = field(default_factory=dict)
    """Each of the frame's ``numbers``: (mean of a, mean of b) on the same cases."""

    @property
    def n(self) -> int:
        return self.both + self.only_a + self.only_b + self.neither

    def table(self, labels: dict[str, str] | None = None) -> pd.DataFrame:
        """The 2 × 2 table: rows A right / wrong, columns B right / wrong, with margins."""
        la, lb = (labels or {}).get(self.a, self.a), (labels or {}).get(self.b, self.b)
        rows = {f"{la} right": [self.both, self.only_a], f"{la} wrong": [self.only_b, self.neither]}
        out = pd.DataFrame.from_dict(rows, orient="index", columns=[f"{lb} right", f"{lb} wrong"])
        out["total"] = out.sum(axis=1)
        out.loc["total"] = out.sum(axis=0)
        return out

    def sentence(self, labels: dict[str, str] | None = None) -> str:
        """The comparison in one line of words and numbers."""
        la, lb = (labels or {}).get(self.a, self.a), (labels or {}).get(self.b, self.b)
        if self.n == 0:
            return f"No case of this slice has a {self.outcome} outcome for both {la} and {lb}."
        significant = "a real difference" if self.p_value < 0.05 else "not a significant difference"
        means = "".join(f" Mean {c}: {la} {x:.1f} vs {lb} {y:.1f}." for c, (x, y) in self.means.items())
        return (f"{self.outcome} on {self.n} cases ({self.slice}): {la} {self.a_rate:.3f} vs {lb} {self.b_rate:.3f}, "
                f"{self.diff:+.3f} [{self.low:+.3f}, {self.high:+.3f}] (paired bootstrap, 95%). "
                f"{la} alone is right on {self.only_a}, {lb} alone on {self.only_b}: McNemar exact "
                f"{_p(self.p_value)}, {significant} at 5%.{means}")


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of the discordant pairs against 1/2.

    >>> round(mcnemar_exact(1, 9), 4)  # 10 discordant cases split 1 : 9
    0.0215
    """
    from scipy.stats import binomtest

    n = int(only_a) + int(only_b)
    return 1.0 if n == 0 else float(binomtest(int(only_a), n, 0.5).pvalue)


def in_slice(frame: CaseFrame, slice_name: str = ALL) -> pd.DataFrame:
    """The rows of ``frame`` whose case is in the slice (all rows for :data:`ALL`)."""
    if slice_name in (ALL, None, ""):
        return frame.cases
    if slice_name not in frame.slices:
        raise WorkbenchError(f"Unknown slice {slice_name!r}; choose one of {', '.join([ALL, *frame.slices])}.")
    column, value = frame.slices[slice_name]
    return frame.cases[frame.cases[column] == value]


def paired(frame: CaseFrame, a: str, b: str, outcome: str | None = None, slice_name: str = ALL) -> pd.DataFrame:
    """One row per case scored by both variants: the case's columns (from a's row), ``a`` and ``b``
    (their outcome as bool), ``a_<n>`` / ``b_<n>`` for each of the frame's ``numbers``, and ``a_row`` /
    ``b_row`` (the long table's index of each variant's row)."""
    outcome = outcome or frame.outcomes[0]
    for name in (a, b):
        if name not in frame.variants:
            raise WorkbenchError(f"Unknown variant {name!r}; choose one of {', '.join(frame.variants)}.")
    if outcome not in frame.outcomes:
        raise WorkbenchError(f"Unknown outcome {outcome!r}; choose one of {', '.join(frame.outcomes)}.")
    rows = in_slice(frame, slice_name)
    left = rows[rows["variant"] == a].assign(a_row=lambda d: d.index).drop(columns=["variant"])
    right = rows.loc[rows["variant"] == b, ["case", outcome, *frame.numbers]].assign(b_row=lambda d: d.index)
    out = left.rename(columns={outcome: "a", **{c: f"a_{c}" for c in frame.numbers}}).merge(
        right.rename(columns={outcome: "b", **{c: f"b_{c}" for c in frame.numbers}}), on="case")
    out = out.dropna(subset=["a", "b"])
    out["a"], out["b"] = out["a"].astype(bool), out["b"].astype(bool)
    return out.reset_index(drop=True)


def compare_pair(frame: CaseFrame, a: str, b: str, outcome: str | None = None, slice_name: str = ALL,
                 n_boot: int = 1000, pair: pd.DataFrame | None = None) -> PairResult:
    """a vs b on the cases of one slice: the 2 × 2 counts, McNemar's exact p, the paired bootstrap
    (``pair``: the :func:`paired` table when already at hand)."""
    outcome = outcome or frame.outcomes[0]
    pair = paired(frame, a, b, outcome, slice_name) if pair is None else pair
    x, y = pair["a"].to_numpy(), pair["b"].to_numpy()
    counts = dict(both=int((x & y).sum()), only_a=int((x & ~y).sum()), only_b=int((~x & y).sum()),
                  neither=int((~x & ~y).sum()))
    if len(pair):
        c = claims.compare([x.astype(float)], [y.astype(float)], n_boot=n_boot)
        rates = (c.a, c.b, c.diff, c.low, c.high)
    else:
        rates = (np.nan,) * 5
    means = {c: (float(pair[f"a_{c}"].mean()), float(pair[f"b_{c}"].mean())) for c in frame.numbers}
    return PairResult(a, b, outcome, slice_name, **counts, p_value=mcnemar_exact(counts["only_a"], counts["only_b"]),
                      a_rate=rates[0], b_rate=rates[1], diff=rates[2], low=rates[3], high=rates[4], means=means)


def disagreements(frame: CaseFrame, a: str, b: str, outcome: str | None = None, slice_name: str = ALL,
                  pair: pd.DataFrame | None = None) -> pd.DataFrame:
    """The cases where exactly one of a and b is right: ``case``, ``right`` (which one), the case's
    ``show`` columns; a's wins first (``pair``: the :func:`paired` table when already at hand)."""
    pair = paired(frame, a, b, outcome, slice_name) if pair is None else pair
    pair = pair[pair["a"] != pair["b"]]
    out = pd.DataFrame({"case": pair["case"], "right": np.where(pair["a"], frame.variants.get(a, a) + " only",
                                                                 frame.variants.get(b, b) + " only")})
    for column in frame.show:
        if column in pair:
            out[column] = pair[column].to_numpy()
    out["_order"] = ~pair["a"].to_numpy()
    return out.sort_values(["_order", "case"], kind="stable").drop(columns="_order").reset_index(drop=True)


def case_rows(frame: CaseFrame, case, variants: list[str]) -> dict[str, pd.Series | None]:
    """The long table's row of each variant for one case (None when the variant did not score it)."""
    rows = frame.cases[frame.cases["case"] == case]
    found = {v: r for v, r in zip(rows["variant"], (row for _, row in rows.iterrows()))}
    return {v: found.get(v) for v in variants}
