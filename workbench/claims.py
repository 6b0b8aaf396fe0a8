"""The claims report: one row per paper claim, with the measured value and whether it reproduced.

Each method declares its claims as ``ClaimSpec`` rows (``pipeline.CLAIMS``) and, when it builds,
writes the measured rows to ``claims.json`` in its run folder. ``collect`` gathers them for a profile:
a method that is not built yet still shows its claims, with ``value``/``reproduced`` = null.

Row fields:
- ``value``: the measured number of ``metric`` for the method's system.
- ``reference``: what it is compared with (the baseline's value, or a paper number) — null if none.
- ``interval``: a 95% interval ``[low, high]`` of the quantity the verdict rests on (usually
  value − reference, by paired bootstrap over cases, or a t-interval over seeds in the full profile).
- ``reproduced``: true / false from the measured numbers, or null when not built.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from workbench import methods
from workbench.errors import WorkbenchError
from workbench.store import ArtifactStore, Run

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


def collect(store: ArtifactStore | None = None, profile: str = "demo") -> list[Claim]:
    """Every registered claim for ``profile``: measured rows from built runs, null rows otherwise."""
    store = store or ArtifactStore()
    rows: list[Claim] = []
    for name in methods.available():
        module = methods.load(name)
        specs: list[ClaimSpec] = list(getattr(module, "CLAIMS", []))
        measured: dict[str, Claim] = {}
        extra: list[Claim] = []
        for dataset in store.datasets(name, profile) or ["synthetic"]:
            run = store.latest(name, profile, dataset)
            if run is None:
                continue
            for claim in read_run_claims(run):
                if claim.id in measured or claim.id not in {s.id for s in specs}:
                    extra.append(claim)
                else:
                    measured[claim.id] = claim
        for spec in specs:
            rows.append(measured.get(spec.id) or Claim.from_spec(spec, profile=profile))
        rows.extend(extra)
    return rows


def as_table(rows: list[Claim]) -> str:
    """A plain-text table for the terminal."""
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

    header = ("id", "dataset", "value", "reference", "interval", "reproduced", "claim")
    body = [
        (r.id, r.dataset or "-", fmt(r.value), fmt(r.reference), fmt(r.interval),
         {True: "yes", False: "NO", None: "not built"}[r.reproduced], r.claim)
        for r in rows
    ]
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
