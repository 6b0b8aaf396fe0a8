"""Budget curves: each claim's quantity as the training budget grows, and the *stable budget* chosen
from them, for every method (issue 26, item 1).

``benchmarks/bench_glass_budget.py`` and ``benchmarks/bench_merging_budget.py`` build one method's
demo settings at several budgets (one setting changed: GLASS ``steps``, merging ``child_steps``) and
write the rows made here to a committed study, ``workbench/reference/<method>-budget.json``. Method 1
has its own study (``needs/budget.py``: variants' metrics per SFT budget and model size, made before
this module); ``needs_rows`` reads two of its claims' quantities from it in the same shape, so one
rule, one figure (``workbench.viz.budget``) and one page helper serve all three. Pages, notebooks,
docs and Home read a study back with ``load``.

The rule that picks the stable budget (``stable_budget``): the smallest budget studied from which
every claim keeps its verdict at every larger budget of the study, and its estimate does not differ
from the one at that budget by more than the two 95% intervals allow together:
``|e' - e| <= sqrt(h^2 + h'^2)``, ``h`` and ``h'`` the intervals' half-widths (a two-sample z-test at
5%). Asking only that the later estimate lie inside the earlier interval would ignore the later
measurement's own noise: two measurements of a quantity that did not move would be called "moving"
about one time in six. An interval of width 0 (a statistic the bootstrap over cases cannot move,
such as a rank correlation over a grid) makes any change a move. The largest budget can never be
chosen by itself — nothing larger confirms it — so a curve that still moves at its end says "not
stable within the budgets studied" and names the claims that moved.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

REFERENCE = Path(__file__).resolve().parent / "reference"
BUDGETS: dict[str, str] = {"needs": "sft_steps", "glass": "steps", "merging": "child_steps"}
"""The one setting each study changes: method 1's SFT steps, GLASS's optimiser steps per SID model,
merging's fine-tuning steps of each child."""
UNITS: dict[str, str] = {"needs": "SFT steps", "glass": "training steps", "merging": "child fine-tuning steps"}
"""What one unit of each budget is, in words (axis titles and sentences)."""


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
            or _moved(here.loc[r["claim"]], r)})
        if not moved[budget]:
            larger = ", ".join(f"{b:,}" for b in budgets[i + 1:])
            return {"budget": int(budget), "why": f"every claim keeps its verdict, and no estimate moves further from its "
                                                  f"value at {budget:,} than the two intervals allow, at {larger}"}
    if len(budgets) < 2:
        return {"budget": None, "why": "one budget studied: nothing to compare it with"}
    last = budgets[-2]
    why = (f"not stable within the budgets studied ({', '.join(f'{b:,}' for b in budgets)}): from {last:,} to "
           f"{budgets[-1]:,} these claims still move: {', '.join(moved[last])}")
    # what a reader asks next: do at least the verdicts hold still? (not enough for "stable": an estimate
    # still on its way may cross its bar at the next budget)
    verdicts = frame.pivot_table(index="claim", columns="budget", values="reproduced", aggfunc="first")
    held = [b for b in budgets[:-1] if (verdicts.loc[:, verdicts.columns >= b].nunique(axis=1, dropna=False) == 1).all()]
    if held:
        why += f"; the verdicts alone are the same from {held[0]:,} on"
    return {"budget": None, "why": why}


def _moved(before, after) -> bool:
    """Whether a claim's estimate moved between two budgets beyond what their intervals allow together
    (see the module docstring); False when either row lacks an estimate or an interval."""
    values = [before["estimate"], before["low"], before["high"], after["estimate"], after["low"], after["high"]]
    if any(v is None or pd.isna(v) for v in values):
        return False
    e, low, high, e2, low2, high2 = map(float, values)
    return abs(e2 - e) > ((high - low) ** 2 + (high2 - low2) ** 2) ** 0.5 / 2



def study(method: str, runs: list, planned: list[int], settings: str, command: str, commit: str, created: str,
          wall_seconds: float, cut: str = "") -> dict:
    """The study document: the rows of every built budget, the budgets planned but not (yet) built (and
    ``cut``: why, when a budget was left out on purpose), the stable budget and why."""
    rows = [row for run in runs for row in claim_rows(run)]
    built = sorted({r["budget"] for r in rows})
    return {"method": method, "budget setting": BUDGETS[method], "rows": rows, "built": built,
            "not built": [b for b in planned if b not in built], "stable": stable_budget(rows) if rows else None,
            **({"cut": cut} if cut else {}), "settings": settings, "command": command, "commit": commit,
            "created": created, "wall_seconds": round(wall_seconds, 1)}

def needs_rows(doc: dict, size: str | None = None) -> list[dict]:
    """Method 1's study (``needs/budget.py``) as claim rows: per SFT budget, at the demo's model size
    (``size``, ``"96x2"``), the quantity of ``needs.joint_vs_isolated`` (HR@3 full - isolated) and of
    ``needs.curriculum_rl`` (HR@3 full - clustered SFT), each "reproduced" when its interval lies above 0
    (the HR@3 half of each claim; its second condition — need accuracy, sparse-reward RL — is not in the
    study). The study kept no per-case hits, so the paired interval the claims use cannot be made; the
    interval here is the unpaired normal approximation over the study's ``test cases`` (wider than the
    paired one, so it hides movement rather than inventing it). No ``test cases`` in the file: no rows.

    >>> r = lambda steps, v, h: {"table": "budget curve", "size": "96x2", "sft_steps": steps, "variant": v, "HR@3": h}
    >>> doc = {"test cases": 1000, "rows": [r(1000, "isolated", .40), r(1000, "clustered_sft", .20), r(1000, "full", .25)]}
    >>> [(x["claim"], round(x["estimate"], 2), x["reproduced"]) for x in needs_rows(doc, "96x2")]
    [('needs.joint_vs_isolated', -0.15, False), ('needs.curriculum_rl', 0.05, True)]
    """
    n = doc.get("test cases")
    if not n:
        return []
    if size is None:  # the demo's size, from method 1's settings directly (not the registry a test may narrow)
        from workbench.needs.config import Config

        demo = Config.for_profile("demo")
        size = f"{demo.hidden}x{demo.layers}"
    points: dict[int, dict[str, float]] = {}
    for r in doc.get("rows", []):
        if r.get("table") == "budget curve" and r.get("size") == size and not r.get("evidence"):
            points.setdefault(int(r["sft_steps"]), {})[r["variant"]] = r["HR@3"]
    rows = []
    for steps, hr3 in sorted(points.items()):
        for claim, a, b in (("needs.joint_vs_isolated", "full", "isolated"), ("needs.curriculum_rl", "full", "clustered_sft")):
            if a not in hr3 or b not in hr3:
                continue
            diff = hr3[a] - hr3[b]
            half = 1.96 * ((hr3[a] * (1 - hr3[a]) + hr3[b] * (1 - hr3[b])) / n) ** 0.5
            rows.append({"method": "needs", "budget": steps, "claim": claim, "estimate": diff, "low": diff - half,
                         "high": diff + half, "a": hr3[a], "b": hr3[b], "reproduced": bool(diff - half > 0)})
    return rows


def load(method: str, path: Path | None = None) -> dict | None:
    """The committed study of ``method`` with its claim rows as a frame under ``curve`` and the stable
    budget under ``stable`` (decided here by ``stable_budget`` from the rows, so the page, the notebook,
    the docs and Home all read the one rule's answer); None when the file is absent, unreadable or has
    no claim rows."""
    try:
        doc = json.loads(Path(path or path_of(method)).read_text())
    except (OSError, ValueError):
        return None
    rows = needs_rows(doc) if method == "needs" else doc.get("rows")
    if not rows:
        return None
    doc["curve"] = pd.DataFrame(rows).sort_values(["claim", "budget"], kind="stable").reset_index(drop=True)
    doc["built"] = sorted(int(b) for b in doc["curve"]["budget"].unique())
    doc["stable"] = stable_budget(rows)
    return doc


def describe(method: str, study: dict | None) -> str:
    """The stable budget in one sentence, with the rule's reason (or why there is none).

    >>> describe("glass", {"stable": {"budget": 2400, "why": "every claim keeps ..."}})
    'Stable budget: 2,400 training steps (every claim keeps ...).'
    """
    if study is None:
        return f"No budget study of {method} in this checkout: `python benchmarks/run.py {method}_budget` measures it."
    stable = study["stable"]
    if stable["budget"] is None:
        return f"No stable budget yet: {stable['why']}."
    return f"Stable budget: {stable['budget']:,} {UNITS[method]} ({stable['why']})."


def provenance(study: dict) -> str:
    """What the study changed and kept, how to make it again, and what it left out, in one line."""
    settings = study.get("settings") or study.get("changed") or ""
    seed = f"; seed {study['seed']}" if "seed" in study else "; seed 0"
    left = f"; not built: {', '.join(f'{b:,}' for b in study['not built'])}" if study.get("not built") else ""
    cut = f" ({study['cut']})" if study.get("cut") else ""
    return (f"{settings}{seed}; `{study.get('command', '')}` at commit {study.get('commit', '?')}, "
            f"{study.get('created', '?')}{left}{cut}.")


def stable_budgets() -> dict[str, dict]:
    """Per method with a committed study: ``{"setting", "budget" (None when not stable), "largest"
    (the largest budget studied), "why"}``."""
    out = {}
    for method, setting in BUDGETS.items():
        study = load(method)
        if study is not None:
            out[method] = {"setting": setting, "budget": study["stable"]["budget"], "largest": study["built"][-1],
                           "why": study["stable"]["why"]}
    return out


def run_study(method: str, budgets: list[int], overrides: list[str], store, out: Path, runner=None,
              command: str = "", progress_factory=None, profile: str = "demo", planned: list[int] | None = None,
              cut: str = "") -> dict:
    """Build ``method``'s demo settings (plus ``overrides``) at each budget, smallest first, one runner
    call per budget; rewrite the study at ``out`` after each, so an interrupted study keeps what it
    built (and, through the job cache, the finished jobs of the budget it was building). ``planned``
    (default ``budgets``) may name more budgets than are built this time; ``cut`` says why."""
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
        doc = study(method, runs, sorted(planned or budgets), settings, command, versions()["commit"],
                    time.strftime("%Y-%m-%d"), time.perf_counter() - start, cut)
        atomic_write_text(out, to_json(doc))
    return doc
