"""The SFT budget curve of method 1: does the joint model catch the isolated pipeline with budget?

``benchmarks/bench_needs_budget.py`` builds the demo settings at several SFT budgets and two model
sizes (one thing changed at a time) and writes the rows made here to the committed
``workbench/reference/needs-budget.json``; the Needs & services page and the needs notebook read it
back with ``load()`` and say the answer with ``answer()``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

VARIANTS = ("isolated", "clustered_sft", "full")
"""The isolated pipeline (the line to catch; no language model, so flat in the budget), clustered SFT
and the full framework (clustered SFT + curriculum GRPO)."""
GOAL = 1.25
"""Issue 10's target: the full framework's HR@1 at least 1.25x the isolated pipeline's."""
REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "needs-budget.json"
EVIDENCE = REFERENCE.with_name("needs-evidence.json")
"""The same study with the evidence block in the prompt (``evidence=16``; issue 10 item 2)."""


def curve_rows(run) -> list[dict]:
    """One row per variant of one needs run: its size, SFT budget and overall test metrics, and the
    summed seconds of its jobs (what the point costs on one worker)."""
    from workbench.needs.cases import main_predictions, stage_breakdown

    c = run.config
    metrics = run.read_parquet("metrics")
    overall = metrics[metrics["slice"] == "overall"].groupby("variant").mean(numeric_only=True)
    stages = stage_breakdown(main_predictions(run), list(VARIANTS))
    jobs_s = sum(t.get("seconds") or 0 for t in run.read_json("jobs").values())
    return [{"table": "budget curve", "size": f"{c['hidden']}x{c['layers']}", "sft_steps": int(c["sft_steps"]),
             "evidence": int(c.get("evidence", 0)), "variant": v, "need acc": round(float(overall.loc[v, "need_acc"]), 4),
             "cat acc": round(float(overall.loc[v, "category_acc"]), 4), "HR@1": round(float(overall.loc[v, "HR@1"]), 4),
             "HR@3": round(float(overall.loc[v, "HR@3"]), 4),
             "HR@1 | need, cat right": float(stages.loc[v, "HR@1 | need, category right"]), "jobs (s, summed)": round(jobs_s)}
            for v in VARIANTS if v in overall.index]


def test_cases(run) -> int:
    """The number of in-city test cases of one run (the ``overall`` slice of its first seed): what the
    claim rows of ``workbench.budget_curves.needs_rows`` take their intervals over."""
    metrics = run.read_parquet("metrics")
    overall = metrics[(metrics["slice"] == "overall") & (metrics["seed"] == metrics["seed"].iloc[0])]
    return int(overall["cases"].iloc[0])


def verdict_rows(curve: list[dict]) -> list[dict]:
    """Per (size, budget): the joint model over the isolated pipeline, stage by stage.

    >>> rows = [{"size": "96x2", "sft_steps": 1000, "variant": v, "HR@1": h, "need acc": .7, "cat acc": .4}
    ...         for v, h in (("isolated", .2), ("clustered_sft", .1), ("full", .26))]
    >>> verdict_rows(rows)[0]["full / isolated HR@1"], verdict_rows(rows)[0]["reaches 1.25x"]
    (1.3, True)
    """
    by_point: dict[tuple, dict] = {}
    for r in curve:
        by_point.setdefault((r["size"], r["sft_steps"]), {})[r["variant"]] = r
    rows = []
    for (size, steps), v in by_point.items():
        if not set(VARIANTS) <= set(v):
            continue
        iso, full = v["isolated"], v["full"]
        ratio = lambda name: round(v[name]["HR@1"] / iso["HR@1"], 3) if iso["HR@1"] else None  # noqa: E731
        rows.append({"table": "joint / isolated at each budget", "size": size, "sft_steps": steps,
                     "full / isolated HR@1": ratio("full"), "clustered SFT / isolated HR@1": ratio("clustered_sft"),
                     "full - isolated need acc": round(full["need acc"] - iso["need acc"], 4),
                     "full - isolated cat acc": round(full["cat acc"] - iso["cat acc"], 4),
                     **({"full - isolated HR@1 | need, cat right": round(full[k] - iso[k], 4)}
                        if (k := "HR@1 | need, cat right") in full and k in iso else {}),
                     f"reaches {GOAL:g}x": bool(iso["HR@1"] and full["HR@1"] >= GOAL * iso["HR@1"])})
    return rows


def read_rows(path: Path) -> tuple[dict | None, pd.DataFrame | None]:
    """A committed study file and its ``rows`` as one frame (the studies' shared shape); (None, None)
    when the file is absent, unreadable or has no rows."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None, None
    rows = pd.DataFrame(doc.get("rows", []))
    return (doc, rows) if not rows.empty else (None, None)


def load(path: Path | None = None) -> dict | None:
    """The committed budget study (``REFERENCE``, or ``path``) with its rows as frames under ``curve``
    and ``verdicts``; None when absent or unreadable."""
    doc, rows = read_rows(path or REFERENCE)
    if rows is None:
        return None
    order = lambda frame: frame.sort_values(  # noqa: E731  (by size as numbers, 96x2 before 128x4; then budget)
        ["size", "sft_steps"], key=lambda c: c.map(lambda v: tuple(map(int, v.split("x")))) if c.name == "size" else c,
        kind="stable").reset_index(drop=True)
    doc["curve"] = order(rows[rows["table"] == "budget curve"].drop(columns="table").dropna(axis=1, how="all"))
    doc["verdicts"] = order(rows[rows["table"] != "budget curve"].drop(columns="table").dropna(axis=1, how="all"))
    return doc


def beside_baseline(study: dict, baseline: dict | None) -> pd.DataFrame:
    """The study's curve with the baseline study's language-model rows at the same sizes and budgets
    added, so one figure shows both prompts (``prompt`` column: "habit lines" or "habit lines +
    evidence (N)"). The baseline's isolated rows are left out: the pipeline may have changed since.

    >>> row = lambda steps, v, e, h: {"size": "96x2", "sft_steps": steps, "variant": v, "evidence": e, "HR@1": h}
    >>> ev = {"curve": pd.DataFrame([row(1000, "full", 16, .1), row(1000, "isolated", 16, .35)])}
    >>> base = {"curve": pd.DataFrame([row(1000, "full", 0, .2), row(3000, "full", 0, .3), row(1000, "isolated", 0, .3)])}
    >>> beside_baseline(ev, base)[["variant", "prompt", "HR@1"]].values.tolist()
    [['full', 'habit lines + evidence (16)', 0.1], ['isolated', 'no prompt (no language model)', 0.35], ['full', 'habit lines', 0.2]]
    """
    def label(frame: pd.DataFrame) -> pd.Series:
        n = frame["evidence"].fillna(0).astype(int) if "evidence" in frame else pd.Series(0, index=frame.index)
        words = n.map(lambda k: f"habit lines + evidence ({k})" if k else "habit lines")
        return words.where(frame["variant"] != "isolated", "no prompt (no language model)")

    curve = study["curve"].assign(prompt=label(study["curve"]))
    if baseline is None:
        return curve
    base = baseline["curve"]
    points = set(zip(curve["size"], curve["sft_steps"]))
    same_point = pd.Series([p in points for p in zip(base["size"], base["sft_steps"])], index=base.index)
    base = base[same_point & (base["variant"] != "isolated")]
    return pd.concat([curve, base.assign(prompt=label(base))], ignore_index=True)


def answer(verdicts: pd.DataFrame) -> str:
    """The curve's answer in words: per size, the full framework's HR@1 over the isolated pipeline's
    at each budget, where each stage stands at the largest budget (differences full - isolated: need
    accuracy, category accuracy, HR@1 when need and category were right), and whether the 1.25x goal is met.

    >>> v = pd.DataFrame({"size": ["96x2", "96x2"], "sft_steps": [1000, 4000],
    ...                   "full / isolated HR@1": [.5, 1.1], "full - isolated need acc": [-.04, .01],
    ...                   "full - isolated cat acc": [-.09, -.03], "reaches 1.25x": [False, False]})
    >>> print(answer(v))
    96x2: full / isolated HR@1 0.50 at 1k SFT steps → 1.10 at 4k (need accuracy +0.01, category -0.03 at 4k); the 1.25x goal is not reached.
    """
    lines = []
    for size, group in verdicts.sort_values("sft_steps").groupby("size", sort=False):
        steps = [f"{r['full / isolated HR@1']:.2f} at {r['sft_steps'] / 1000:g}k" for _, r in group.iterrows()]
        last = group.iloc[-1]
        reached = group[group[f"reaches {GOAL:g}x"].astype(bool)]
        goal = (f"the {GOAL:g}x goal is reached from {reached['sft_steps'].min() / 1000:g}k steps" if len(reached)
                else f"the {GOAL:g}x goal is not reached")
        service = last.get("full - isolated HR@1 | need, cat right")
        lines.append(f"{size}: full / isolated HR@1 {steps[0]} SFT steps" + "".join(f" → {s}" for s in steps[1:])
                     + f" (need accuracy {last['full - isolated need acc']:+.2f}, category "
                     f"{last['full - isolated cat acc']:+.2f}"
                     + ("" if service is None or pd.isna(service) else f", HR@1 given both right {service:+.2f}")
                     + f" at {last['sft_steps'] / 1000:g}k); {goal}.")
    return "\n".join(lines)
