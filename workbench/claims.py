"""Claims: one row per paper claim, with the measured value and whether it reproduced — and the one
rule every method uses to decide it.

Each method declares its claims as ``ClaimSpec`` rows (``pipeline.CLAIMS``) and, when it builds,
writes the measured rows to ``claims.json`` in its run folder. ``workbench.report.collect`` gathers
them for a profile (a method that is not built yet still shows its claims, with null values).

**The rule (``compare`` / ``over_seeds``), for any number of seeds.** A hierarchical bootstrap: each
replicate draws the seeds with replacement, then, within each drawn seed, that seed's cases with
replacement (paired: both systems keep the same cases), and averages the per-seed statistics. The
95% interval is the 2.5–97.5% percentiles of 2,000 replicates; a claim holds when the interval lies
on the claimed side of its bar. With one seed this is exactly the paired bootstrap over cases; with
2 or 3 seeds every seed is used and seed-to-seed spread widens the interval (no switch of rule at
any seed count). The point value is the mean over seeds.

Row fields:
- ``value``: the measured number of ``metric`` for the method's system.
- ``reference``: what it is compared with (the baseline's value, or a paper number) — null if none.
- ``interval``: a 95% interval ``[low, high]`` of the quantity the verdict rests on (usually
  value − reference), by the rule above for any number of seeds.
- ``reproduced``: true / false from the measured numbers, or null when not built.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.errors import WorkbenchError
from workbench.metrics import bootstrap
from workbench.store import Run

CLAIMS_FILE = "claims.json"
FIELDS = ("id", "method", "claim", "metric", "value", "reference", "interval", "reproduced", "seeds", "dataset", "profile")


@dataclass(frozen=True)
class ClaimSpec:
    """A claim a paper makes, before anything is measured."""

    id: str
    """Stable short id, e.g. ``needs.filter``."""
    method: str
    claim: str
    """The claim in one sentence, as the paper makes it."""
    metric: str
    """What is measured, e.g. ``HR@1 full - HR@1 isolated``."""


@dataclass
class Claim:
    """A claim with its measurement (one row of the report)."""

    id: str
    method: str
    claim: str
    metric: str
    value: float | None = None
    reference: float | None = None
    interval: list[float] | None = None
    reproduced: bool | None = None
    seeds: int | None = None
    dataset: str | None = None
    profile: str | None = None
    note: str = field(default="")
    """One line of context: the compared numbers, the slice, why it did not reproduce."""

    @classmethod
    def from_spec(cls, spec: ClaimSpec, **measured: Any) -> "Claim":
        return cls(id=spec.id, method=spec.method, claim=spec.claim, metric=spec.metric, **measured)

    def to_dict(self) -> dict[str, Any]:
        row = dataclasses.asdict(self)
        for key in ("value", "reference"):
            if isinstance(row[key], float) and math.isnan(row[key]):
                row[key] = None
        if row["interval"] is not None:
            row["interval"] = [None if (isinstance(v, float) and math.isnan(v)) else float(v) for v in row["interval"]]
        return row


def interval_excludes_zero(low: float, high: float, direction: int = 1) -> bool:
    """True when an interval of a difference lies strictly on the ``direction`` side of 0."""
    return bool(low > 0) if direction > 0 else bool(high < 0)


def read_run_claims(run: Run) -> list[Claim]:
    if not run.exists(CLAIMS_FILE):
        return []
    rows = run.read_json(CLAIMS_FILE)
    known = {f.name for f in dataclasses.fields(Claim)}
    return [Claim(**{k: v for k, v in row.items() if k in known}) for row in rows]


def as_table(rows: list[Claim], reference: dict[str, "Claim"] | None = None) -> str:
    """A plain-text table for the terminal; ``reference`` (claim id -> row) adds the reference verdict."""
    if not rows:
        return "No claims registered (no method is available)."

    def fmt(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, float):
            return f"{v:.3f}"
        if isinstance(v, list):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        return str(v)

    verdict = {True: "yes", False: "NO", None: "not built"}
    reference = reference or {}
    header = ["id", "dataset", "seeds", "value", "reference", "interval", "reproduced"]
    if reference:
        header.append("ref (seeds)")
    header.append("claim")
    body = []
    for r in rows:
        cells = [r.id, r.dataset or "-", fmt(r.seeds), fmt(r.value), fmt(r.reference), fmt(r.interval), verdict[r.reproduced]]
        if reference:
            ref = reference.get(r.id) if (r.dataset or "synthetic") == "synthetic" else None
            cells.append(f"{verdict[ref.reproduced]} ({ref.seeds})" if ref else "-")
        body.append((*cells, r.claim))
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header[:-1])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)) + "  claim"]
    for b in body:
        lines.append("  ".join(c.ljust(w) for c, w in zip(b, widths)) + "  " + b[-1])
    return "\n".join(lines)


def validate_rows(rows: list[dict[str, Any]]) -> None:
    """Raise if a claims.json row misses a field of the report (used by tests and pipelines)."""
    for row in rows:
        missing = [f for f in FIELDS if f not in row]
        if missing:
            raise WorkbenchError(f"Claim row {row.get('id', '?')} lacks field(s) {', '.join(missing)}.")


# ---- the one rule ------------------------------------------------------------------------------------
N_BOOT = 2000


@dataclass
class Estimate:
    """A statistic over seeds with its 95% interval (``per_seed`` keeps each seed's own value)."""

    value: float
    low: float
    high: float
    seeds: int
    per_seed: list[float]

    @property
    def interval(self) -> list[float]:
        return [self.low, self.high]


def over_seeds(values: list[float], replicates: list[np.ndarray], n_boot: int = N_BOOT, alpha: float = 0.05,
               seed: int = 0) -> Estimate:
    """Combine per-seed statistics and their within-seed bootstrap replicates (the rule above).

    ``values[s]`` is seed s's statistic, ``replicates[s]`` its bootstrap replicates over that seed's
    cases. Replicate b draws seeds with replacement and averages their b-th replicates.

    >>> est = over_seeds([0.1, 0.3], [np.full(100, 0.1), np.full(100, 0.3)], n_boot=100)
    >>> round(est.value, 2), est.low >= 0.1, est.high <= 0.3, est.seeds
    (0.2, True, True, 2)
    """
    values = [float(v) for v in values]
    if not values:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, [])
    reps = np.stack([np.resize(np.asarray(r, dtype=float), n_boot) for r in replicates])  # seeds x n_boot
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, len(values), size=(n_boot, len(values)))  # seeds drawn for each replicate
    with warnings.catch_warnings():  # a replicate whose drawn seeds are all undefined stays NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        combined = np.nanmean(reps[drawn, np.arange(n_boot)[:, None]], axis=1)
    finite = combined[np.isfinite(combined)]
    low, high = (np.quantile(finite, [alpha / 2, 1 - alpha / 2]) if len(finite) else (np.nan, np.nan))
    return Estimate(float(np.mean(values)), float(low), float(high), len(values), values)


@dataclass
class Comparison:
    """System a vs system b on the same cases, over one or more seeds."""

    a: float
    b: float
    diff: float
    low: float
    high: float
    seeds: int
    per_seed: list[float]
    n: int
    """Cases per seed (summed over seeds)."""

    @property
    def interval(self) -> list[float]:
        return [self.low, self.high]

    def holds(self, direction: int = 1, bar: float = 0.0) -> bool:
        """True when the interval of a - b lies strictly above ``bar`` (below it for direction -1)."""
        return bool(self.low > bar) if direction > 0 else bool(self.high < bar)


def compare(a_per_seed: list, b_per_seed: list, n_boot: int = N_BOOT, seed: int = 0) -> Comparison:
    """mean(a) - mean(b): per-case scores of two systems, one array per seed, paired within each seed.

    >>> c = compare([np.array([1, 1, 1, 0] * 50)], [np.array([0, 1, 0, 0] * 50)])
    >>> round(c.diff, 2), c.holds(), c.seeds
    (0.5, True, 1)
    >>> c3 = compare([np.ones(40), np.ones(40), np.zeros(40)], [np.zeros(40)] * 3)
    >>> round(c3.diff, 3), c3.low < c3.diff < c3.high, c3.seeds
    (0.667, True, 3)
    """
    if len(a_per_seed) != len(b_per_seed):
        raise ValueError(f"compare needs the same seeds for both systems; got {len(a_per_seed)} and {len(b_per_seed)}")
    a_list = [np.asarray(a, dtype=float) for a in a_per_seed]
    b_list = [np.asarray(b, dtype=float) for b in b_per_seed]
    boots = [bootstrap(a, b, n_boot=n_boot, seed=seed + i) for i, (a, b) in enumerate(zip(a_list, b_list))]
    est = over_seeds([r["value"] for r in boots], [r["replicates"] for r in boots], n_boot=n_boot, seed=seed)
    mean = lambda xs: float(np.mean([x.mean() if len(x) else np.nan for x in xs])) if xs else float("nan")  # noqa: E731
    return Comparison(mean(a_list), mean(b_list), est.value, est.low, est.high, est.seeds, est.per_seed,
                      int(sum(len(a) for a in a_list)))


def estimate(per_seed: list, statistic=None, n_boot: int = N_BOOT, seed: int = 0) -> Estimate:
    """A statistic of per-case values (default: the mean), one array per seed, with the same rule."""
    boots = [bootstrap(np.asarray(x), statistic=statistic, n_boot=n_boot, seed=seed + i) for i, x in enumerate(per_seed)]
    return over_seeds([r["value"] for r in boots], [r["replicates"] for r in boots], n_boot=n_boot, seed=seed)
