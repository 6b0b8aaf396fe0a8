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

Row fields — the comparison, read by ``sentence`` (one way to say every row in words):
- ``a``, ``b``: what is compared ("GLASS", "TIGER"; ``b`` may be a bar, e.g. "the 0.7 bar").
- ``quantity``: what ``a_value`` and ``b_value`` measure, with the slice ("Recall@10 on all test cases").
- ``a_value``, ``b_value``: the two numbers (means over seeds).
- ``diff``: a − b (``relative``: (a − b) / b, shown in percent); null when the verdict rests on
  ``a_value`` alone against a bar.
- ``interval``: a 95% interval ``[low, high]`` of ``diff`` — or of ``a_value`` when ``diff`` is null —
  by the rule above for any number of seeds.
- ``also``: the claim's second condition, in words and numbers ("the overall gain, +.012, is smaller").
- ``reproduced``: true / false from the measured numbers, or null when not built.
- ``seeds``, ``budget`` (the profile and its training steps), ``dataset``, ``profile``.
- ``value``, ``reference``: the number the verdict rests on — ``diff``, or ``a_value`` when ``diff`` is
  null, so always the quantity of ``interval`` — and the bar it is held against (0 for a difference).
  Rows stored before ``a``/``b`` existed carry only this pair, with a meaning that differed between
  methods (e.g. a system's own number beside the interval of a difference); they render as they are.

**The row contract.** ``a_value``, ``b_value``, ``diff`` and ``interval`` are always of one quantity,
so no number stands outside its own interval. Every method fills them one way, ``row``: from a
``compare`` of two per-case columns (one array per seed) and a bar, or from an ``Estimate`` of one
statistic and its bar.
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
FIELDS = ("id", "method", "claim", "metric", "value", "reference", "interval", "reproduced", "seeds", "dataset", "profile",
          "a", "b", "quantity", "a_value", "b_value", "diff")


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
    a: str | None = None
    """What the claim is about, e.g. ``GLASS`` (a row may name it more precisely once measured)."""
    b: str | None = None
    """What it is compared with, e.g. ``TIGER``, or a bar such as ``the 0.7 bar``."""
    quantity: str | None = None
    """What both numbers measure, with the slice, e.g. ``Recall@10 on all test cases``."""


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
    a: str | None = None
    b: str | None = None
    quantity: str | None = None
    a_value: float | None = None
    b_value: float | None = None
    diff: float | None = None
    relative: bool = False
    """``diff`` and ``interval`` are (a − b) / b, shown in percent (e.g. a token cut)."""
    also: str = ""
    budget: str | None = None

    @classmethod
    def from_spec(cls, spec: ClaimSpec, **measured: Any) -> "Claim":
        named = {k: getattr(spec, k) for k in ("a", "b", "quantity") if getattr(spec, k) is not None}
        return cls(id=spec.id, method=spec.method, claim=spec.claim, metric=spec.metric, **{**named, **measured})

    def to_dict(self) -> dict[str, Any]:
        row = dataclasses.asdict(self)
        for key in ("value", "reference", "a_value", "b_value", "diff"):
            if row[key] is not None:
                row[key] = None if math.isnan(float(row[key])) else float(row[key])
        if row["interval"] is not None:
            row["interval"] = [None if (v is None or math.isnan(float(v))) else float(v) for v in row["interval"]]
        return row

    @property
    def sentence(self) -> str:
        return sentence(self)


# ---- the row in words -------------------------------------------------------------------------------
VERDICT = {True: "reproduced", False: "not reproduced", None: "not measured"}


def number(v: float | None, signed: bool = False, percent: bool = False) -> str:
    """``.394``, ``+.051``, ``−.020``, ``45.2``, ``−35%``: short, as a paper table writes them."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    v = float(v)
    if percent:
        text = f"{v:+.0%}" if signed else f"{v:.0%}"
    elif abs(v) >= 100:
        text = f"{v:+,.0f}" if signed else f"{v:,.0f}"
    elif abs(v) >= 10:
        text = f"{v:+.1f}" if signed else f"{v:.1f}"
    else:
        text = (f"{v:+.3f}" if signed else f"{v:.3f}").replace("0.", ".", 1)
    return text.replace("-", "−")


def sentence(row: "Claim") -> str:
    """The row in words and numbers, e.g. ``GLASS vs TIGER, Recall@10 on all test cases: .394 vs .343,
    +.051 [+.020, +.083] → reproduced (1 seed, demo: 600 training steps)``.

    Rows stored before ``a``/``b`` existed fall back to their metric, value, reference and interval."""
    lo, hi = (row.interval or [None, None])[:2]
    seeds = f"{row.seeds} seed{'s' if row.seeds != 1 else ''}" if row.seeds else None
    context = ", ".join(x for x in (seeds, row.budget) if x)
    tail = f" → {VERDICT[row.reproduced]}" + (f" ({context})" if context else "")
    if row.a is None:  # an older row: the metric and its two numbers
        if row.value is None:
            return f"{row.metric}: not measured" + (f" ({row.note})" if row.note else "")
        text = f"{row.metric}: {number(row.value)}"
        if row.reference is not None:
            text += f" (reference {number(row.reference)})"
        if row.interval:
            text += f", 95% interval [{number(lo)}, {number(hi)}]"
        return text + tail
    head = f"{row.a} vs {row.b}" if row.b else row.a
    head += f", {row.quantity}" if row.quantity else ""
    if row.a_value is None and row.diff is None:
        if row.reproduced is None:  # not built, or its systems were not run: the note says which
            return f"{head}: {row.note}" if row.note.startswith("not measured") else (
                f"{head}: not measured" + (f" ({row.note})" if row.note else ""))
        return f"{head}: nothing to compare" + (f"; {row.also}" if row.also else "") + tail
    if row.diff is None:  # a statistic against a bar: the interval is the statistic's own
        text = f"{number(row.a_value)} [{number(lo)}, {number(hi)}]" if row.interval else number(row.a_value)
        if row.b_value is not None:
            text += f" vs {number(row.b_value)}"
    else:
        pct = row.relative
        text = f"{number(row.a_value)} vs {number(row.b_value)}, {number(row.diff, True, pct)}"
        if row.interval:
            text += f" [{number(lo, True, pct)}, {number(hi, True, pct)}]"
    return f"{head}: {text}" + (f"; {row.also}" if row.also else "") + tail


def budget(config: dict[str, Any]) -> str:
    """The budget a run was built at, from its settings: the profile and every ``*steps`` setting
    (``demo: 1,000 SFT steps, 60 RL steps``)."""
    words = {"sft": "SFT", "rl": "RL", "sasrec": "SASRec"}
    steps = []
    for key, value in config.items():
        if key.endswith("steps") and isinstance(value, int) and not isinstance(value, bool):
            label = " ".join(words.get(w, w) for w in key.split("_")) if key != "steps" else "training steps"
            steps.append(f"{value:,} {label}")
    profile = config.get("profile") or "?"
    return f"{profile}: {', '.join(steps)}" if steps else str(profile)


def interval_excludes_zero(low: float, high: float, direction: int = 1) -> bool:
    """True when an interval of a difference lies strictly on the ``direction`` side of 0."""
    return bool(low > 0) if direction > 0 else bool(high < 0)


def read_run_claims(run: Run) -> list[Claim]:
    if not run.exists(CLAIMS_FILE):
        return []
    rows = run.read_json(CLAIMS_FILE)
    known = {f.name for f in dataclasses.fields(Claim)}
    try:  # the budget is the run's: rows stored before the field existed get it too
        spent = budget(run.config)
    except (KeyError, TypeError, AttributeError):  # a manifest without settings: no budget rather than no claims
        spent = None
    return [Claim(**{"budget": spent, **{k: v for k, v in row.items() if k in known and v is not None}}) for row in rows]


def as_table(rows: list[Claim], reference: dict[str, "Claim"] | None = None, style: str = "table",
             lead: bool = False) -> str:
    """The claims for a terminal or a document; ``reference`` (claim id -> row) adds the reference verdict.

    ``style``: ``table`` (one line per claim, the numbers in columns), ``wide`` (each claim's sentence
    in full, then the reference's), ``markdown`` (a table with the sentences, for a README or an issue).
    ``lead`` (a reference at the stable budget): the reference comes first and the built run is "your run"."""
    if not rows:
        return "No claims registered (no method is available)."
    reference = reference or {}

    def ref_of(r: Claim) -> Claim | None:
        return reference.get(r.id) if (r.dataset or "synthetic") == "synthetic" else None

    lead = lead and bool(reference)
    if style == "wide":
        blocks = []
        for r in rows:
            yours = [f"  {'your run: ' if lead else ''}{sentence(r)}"]
            theirs = [f"  reference: {sentence(ref_of(r))}"] if ref_of(r) else []
            blocks.append("\n".join([f"{r.id} ({r.dataset or 'synthetic'}): {r.claim}",
                                     *(theirs + yours if lead else yours + theirs)]))
        return "\n\n".join(blocks)
    if style == "markdown":
        cell = lambda text: str(text).replace("|", "\\|").replace("\n", " ")  # noqa: E731
        if lead:
            header = ["claim", "reference (stable budget)", "your run", "verdict (your run)"]
        else:
            header = ["claim", "comparison", "verdict"] + (["reference (more seeds)"] if reference else [])
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for r in rows:
            ref = (sentence(ref_of(r)) if ref_of(r) else "—") if reference else None
            cells = [f"**{r.id}** {r.claim}", *([ref] if lead else []), sentence(r), VERDICT[r.reproduced],
                     *([ref] if reference and not lead else [])]
            lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
        return "\n".join(lines)
    if style != "table":
        raise WorkbenchError(f"Unknown claims style {style!r}; choose table, wide or markdown.")

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
    header = ["id", "dataset", *(["reference (seeds)"] if lead else []), "seeds", "a", "b", "diff", "interval",
              "your run" if lead else "reproduced", *(["ref (seeds)"] if reference and not lead else []), "claim"]
    body = []
    for r in rows:
        a, b = (r.a_value, r.b_value) if r.a is not None else (r.value, r.reference)  # older rows: value, reference
        ref = ref_of(r)
        theirs = [f"{verdict[ref.reproduced]} ({ref.seeds})" if ref else "-"] if reference else []
        cells = [r.id, r.dataset or "-", *(theirs if lead else []), fmt(r.seeds), fmt(a), fmt(b), fmt(r.diff),
                 fmt(r.interval), verdict[r.reproduced], *([] if lead else theirs)]
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

    def holds(self, direction: int = 1, bar: float = 0.0) -> bool:
        """True when the interval lies strictly above ``bar`` (below it for direction -1)."""
        return bool(self.low > bar) if direction > 0 else bool(self.high < bar)


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


# ---- a row from the rule -----------------------------------------------------------------------------
def row(spec: ClaimSpec, measured: Comparison | Estimate, bar: float = 0.0, direction: int = 1, **fields: Any) -> Claim:
    """A claim row whose numbers are all of one quantity (the row contract above).

    A ``Comparison`` fills ``a_value``, ``b_value`` (the two means), ``diff`` (a − b) and its
    ``interval``; an ``Estimate`` (a statistic held against a bar) fills ``a_value`` and its own
    ``interval``, with the bar as ``b_value`` and no ``diff``. ``value`` is what the interval is of and
    ``reference`` the bar. The claim holds when the interval lies beyond ``bar`` (above it; below it for
    ``direction`` −1); a claim with a further condition passes its own ``reproduced``. ``fields`` are the
    rest of the row (seeds, dataset, note, also, ...).

    >>> r = row(ClaimSpec("x.y", "x", "a beats b", "a - b"), compare([np.array([1, 1, 0, 1] * 50)], [np.zeros(200)]))
    >>> r.a_value, r.b_value, r.diff == r.value, r.interval[0] <= r.value <= r.interval[1], r.reproduced
    (0.75, 0.0, True, True, True)
    """
    reproduced = fields.pop("reproduced", measured.holds(direction, bar))
    if isinstance(measured, Comparison):
        numbers = {"a_value": measured.a, "b_value": measured.b, "diff": measured.diff, "value": measured.diff}
    else:
        numbers = {"a_value": measured.value, "b_value": bar, "value": measured.value}
    return Claim.from_spec(spec, **numbers, reference=bar, interval=measured.interval, reproduced=reproduced, **fields)

