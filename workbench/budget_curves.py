"""Budget curves of GLASS and merging: each claim's quantity as the training budget grows, and the
*stable budget* chosen from them (issue 26, item 1; method 1 has its own curve in ``needs/budget.py``).

``benchmarks/bench_glass_budget.py`` and ``benchmarks/bench_merging_budget.py`` build one method's
demo settings at several budgets (one setting changed: GLASS ``steps``, merging ``child_steps``) and
write the rows made here to a committed study, ``workbench/reference/<method>-budget.json``; pages and
notebooks read it back with ``load``.

The rule that picks the stable budget (``stable_budget``): the smallest budget studied from which
every claim keeps its verdict at every larger budget of the study, and its estimate stays inside the
interval measured at that budget. The largest budget can never be chosen by itself — nothing larger
confirms it — so a curve that still moves at its end says "not stable within the budgets studied"
and names the claims that moved.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

REFERENCE = Path(__file__).resolve().parent / "reference"
BUDGETS: dict[str, str] = {"glass": "steps", "merging": "child_steps"}
"""The one setting each study changes: GLASS's optimiser steps per SID model, merging's fine-tuning
steps of each child."""


def path_of(method: str) -> Path:
    return REFERENCE / f"{method}-budget.json"


def claim_rows(run) -> list[dict]:
    """One row per claim of one built run: the budget, the claim's estimate (``diff``, or the value
    itself for a claim against a bar) with its interval and verdict, and the CPU seconds of the run's jobs."""
    method = run.method
    budget = int(run.config[BUDGETS[method]])
    jobs = run.read_json("jobs")
    cpu = round(sum(t.get("cpu_seconds") or 0 for t in jobs.values()))
    rows = []
    for c in run.read_json("claims"):
        estimate = c.get("diff") if c.get("diff") is not None else c.get("a_value", c.get("value"))
        low, high = (c.get("interval") or [None, None])[:2]
        rows.append({"method": method, "budget": budget, "claim": c["id"], "estimate": estimate, "low": low, "high": high,
                     "a": c.get("a_value"), "b": c.get("b_value"), "reproduced": c.get("reproduced"),
                     "jobs CPU s": cpu, "jobs reused from the cache": sum(bool(t.get("cached")) for t in jobs.values())})
    return rows


def stable_budget(rows: list[dict] | pd.DataFrame) -> dict:
    """The stable budget of a study (see the module docstring): ``{"budget": int | None, "why": str}``.

    >>> row = lambda b, c, e, r: {"budget": b, "claim": c, "estimate": e, "low": e - .02, "high": e + .02, "reproduced": r}
    >>> stable_budget([row(600, "x", .00, False), row(2400, "x", .05, True), row(6000, "x", .06, True)])["budget"]
    2400
    >>> stable_budget([row(600, "x", .00, False), row(2400, "x", .05, True)])["budget"] is None
    True
    """
    frame = pd.DataFrame(rows)
    budgets = sorted(frame["budget"].unique()) if len(frame) else []
    moved: dict[int, list[str]] = {}
    for i, budget in enumerate(budgets[:-1]):
        here = frame[frame["budget"] == budget].set_index("claim")
        later = frame[frame["budget"] > budget]
        moved[budget] = sorted({
            r["claim"] for _, r in later.iterrows()
            if r["claim"] not in here.index or r["reproduced"] != here.loc[r["claim"], "reproduced"]
            or _outside(r["estimate"], here.loc[r["claim"], "low"], here.loc[r["claim"], "high"])})
        if not moved[budget]:
            larger = ", ".join(f"{b:,}" for b in budgets[i + 1:])
            return {"budget": int(budget), "why": f"every claim keeps its verdict, and its estimate stays inside the "
                                                  f"interval measured at {budget:,}, at {larger}"}
    if len(budgets) < 2:
        return {"budget": None, "why": "one budget studied: nothing to compare it with"}
    last = budgets[-2]
    return {"budget": None, "why": f"not stable within the budgets studied ({', '.join(f'{b:,}' for b in budgets)}): "
                                   f"from {last:,} to {budgets[-1]:,} these claims still move: {', '.join(moved[last])}"}


def _outside(value, low, high) -> bool:
    if value is None or low is None or high is None or pd.isna(value) or pd.isna(low) or pd.isna(high):
        return False
    return not (low <= value <= high)


def study(method: str, runs: list, planned: list[int], settings: str, command: str, commit: str, created: str,
          wall_seconds: float) -> dict:
    """The study document: the rows of every built budget, the budgets planned but not (yet) built, the
    stable budget and why."""
    rows = [row for run in runs for row in claim_rows(run)]
    built = sorted({r["budget"] for r in rows})
    return {"method": method, "budget setting": BUDGETS[method], "rows": rows, "built": built,
            "not built": [b for b in planned if b not in built], "stable": stable_budget(rows) if rows else None,
            "settings": settings, "command": command, "commit": commit, "created": created,
            "wall_seconds": round(wall_seconds, 1)}


def load(method: str, path: Path | None = None) -> dict | None:
    """The committed study of ``method`` with its rows as a frame under ``curve``; None when absent."""
    try:
        doc = json.loads(Path(path or path_of(method)).read_text())
    except (OSError, ValueError):
        return None
    if not doc.get("rows"):
        return None
    doc["curve"] = pd.DataFrame(doc["rows"]).sort_values(["claim", "budget"], kind="stable").reset_index(drop=True)
    return doc


def run_study(method: str, budgets: list[int], overrides: list[str], store, out: Path, runner=None,
              command: str = "", progress_factory=None, profile: str = "demo") -> dict:
    """Build ``method``'s demo settings (plus ``overrides``) at each budget, smallest first, one runner
    call per budget; rewrite the study at ``out`` after each, so an interrupted study keeps what it
    built (and, through the job cache, the finished jobs of the budget it was building)."""
    import time

    from workbench import methods
    from workbench.store import atomic_write_text, to_json, versions

    start, runs = time.perf_counter(), []
    settings = f"the {profile} profile's settings" + "".join(f", {o}" for o in overrides) + f"; {BUDGETS[method]} varies"
    for budget in sorted(budgets):
        config = methods.make_config(method, profile, [*overrides, f"{BUDGETS[method]}={budget}"])
        label = f"{method} budget {BUDGETS[method]}={budget:,}"
        if progress_factory is None:
            runs += methods.build_many([config], store, None, runner)
        else:
            with progress_factory(label) as bar:
                runs += methods.build_many([config], store, bar, runner)
        doc = study(method, runs, sorted(budgets), settings, command, versions()["commit"], time.strftime("%Y-%m-%d"),
                    time.perf_counter() - start)
        atomic_write_text(out, to_json(doc))
    return doc
