"""The overthinking study (issue 23): along the dial, does a merge beat the thinking parent *strictly*?

One point of the study is one (dial, seed): the thinking child retrained at that dial (the base and
the direct child do not depend on it), the parents' overthinking measured (``evaluate.overthinking_profile``),
and every method of ``GRID`` evaluated at its strengths on the same problems with the same sampling
seed (common random numbers, so differences are paired per problem). ``evaluate_point`` returns it as
one JSON-able dict (per-problem scores included); ``benchmarks/bench_merging_overthink.py`` writes one
file per point and ``study`` combines the seeds of each dial by the one rule of ``workbench.claims``:

- ``rows``: per (dial, method, strength), accuracy and tokens minus the thinking parent's, each a paired
  interval over seeds and problems; ``strict`` when accuracy's interval lies above 0 and tokens' below;
  ``goal`` when, besides, the gains reach the issue's bar (+2 points at 15% fewer tokens);
- ``savings``: per (dial, method), the share of the thinking parent's tokens a method saves while
  keeping its accuracy (the most saving among its points at or above the parent's accuracy, on a grid
  all compared methods share), with the activation-informed merge's paired difference to linear and TIES;
- ``parents``: per dial, the planted overthinking measured on the parents (accuracy, tokens, the share
  of errors that drifted after a correct intermediate answer, truncated, easy-problem tokens).

Writes nothing itself; the page and the notebook read the committed study through ``load``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import claims as rule
from workbench.merging import world
from workbench.merging.evaluate import Sampling, evaluate_arithmetic, overthinking_profile
from workbench.merging.parents import Parents, eval_problems
from workbench.merging.sweep import layer_weights_of, merged_model
from workbench.progress import Progress, scaled, silent

STUDY = Path(__file__).resolve().parents[1] / "reference" / "merging-overthink.json"
SHARED = (0.05, 0.1, 0.2)
"""Strengths every method is evaluated at (the grid of the tokens-saved comparison). Three, where the
demo's weak Pareto gains sat (λ 0.04-0.2): the machine the study ran on had ~15% of its 2 cores free."""
GRID: dict[str, tuple[float, ...]] = {
    "linear": tuple(sorted({0.0, 0.15, 0.3, 1.0, *SHARED})),
    "ties": SHARED,
    "low_rank": SHARED,
    "activation_informed": SHARED,
}
"""Methods and strengths (direct weight λ) of the study; linear's λ = 0 and 1 are the parents."""
GOAL = {"accuracy": 0.02, "tokens": -0.15}
"""The issue's bar: at least +2 points of accuracy at 15% fewer tokens than the thinking parent."""
DRIFT_CASES = 12
"""Drifted thinking-parent outputs (sample 0) kept per point with the linear merges' answers to them."""


def evaluate_point(parents: Parents, cfg, grid: dict[str, Sequence[float]] = GRID,
                   progress: Progress | None = None) -> dict:
    """One (dial, seed): the parents' profiles and every (method, strength) of ``grid`` (see module doc)."""
    progress = progress or silent
    problems = eval_problems(cfg)
    ids = [p.id for p in problems]
    sampling = Sampling(samples=cfg.samples, temperature=cfg.temperature, top_p=cfg.top_p, batch_size=cfg.batch_size,
                        budget_rechecks=world.Overthinking(cfg.overthink).budget_rechecks)
    todo = [(m, float(s)) for m, strengths in grid.items() for s in strengths]
    points, texts = [], {}
    weights = {m: layer_weights_of(parents, m, cfg.seed) for m in grid}
    for i, (method, s) in enumerate(todo):
        model = merged_model(parents, method, s, cfg.density, cfg.merge_seed, weights[method])
        frame = evaluate_arithmetic(model, parents.tokenizer, problems, sampling, seed=cfg.seed,
                                    progress=scaled(progress, i / len(todo), (i + 1) / len(todo)))
        per = frame.groupby("problem")[["correct", "tokens"]].mean().reindex(ids)
        profile = overthinking_profile(frame, problems)
        points.append({
            "method": method, "strength": s, "accuracy": profile["accuracy"], "tokens": profile["tokens"],
            "thinking_share": float(frame["thinking"].mean()), "rechecks": float(frame["rechecks"].mean()),
            "drift_share": profile["drift_share"], "truncated_share": profile["truncated_share"],
            "correct": [round(float(x), 4) for x in per["correct"]], "token_means": [round(float(x), 3) for x in per["tokens"]],
        })
        if method == "linear":
            first = frame[frame["sample"] == 0].set_index("problem")
            texts[s] = first[["text", "correct", "tokens"]]
            if s == 0.0:
                thinking_profile = profile
            if s == 1.0:
                direct_profile = profile
        progress(f"{method} λ={s:.2f} ({i + 1}/{len(todo)})", (i + 1) / len(todo))
    return {"dial": float(cfg.overthink), "seed": int(cfg.seed), "n_problems": len(problems), "samples": cfg.samples,
            "planted": _planted(cfg.overthink), "parents": {"thinking": thinking_profile, "direct": direct_profile},
            "points": points, "drift_cases": _drift_cases(texts, problems)}


def _planted(dial: float) -> dict:
    d = world.Overthinking(dial)
    return {"drift_rate": d.drift_rate, "extra_rechecks": d.extra_rechecks, "budget_rechecks": d.budget_rechecks}


def _drift_cases(texts: dict[float, pd.DataFrame], problems: Sequence[world.Problem]) -> list[dict]:
    """Problems whose thinking-parent output (sample 0) drifted, with every linear merge's output to them."""
    by_id = {p.id: p for p in problems}
    parent = texts.get(0.0)
    if parent is None:
        return []
    drifted = [i for i, text in parent["text"].items() if world.error_kind(by_id[i], text) == "drift"][:DRIFT_CASES]
    return [{"problem": int(i), "prompt": world.prompt(by_id[i]), "answer": by_id[i].answer,
             "outputs": [{"strength": s, "text": t.at[i, "text"], "correct": bool(t.at[i, "correct"]),
                          "tokens": int(t.at[i, "tokens"])} for s, t in sorted(texts.items())]}
            for i in drifted]


# ---- combining the seeds ------------------------------------------------------------------------------
def _point(result: dict, method: str, strength: float) -> dict | None:
    return next((p for p in result["points"] if p["method"] == method and p["strength"] == strength), None)


def _resamples(n: int, n_boot: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def _saving(points: list[dict], parent: dict, idx: np.ndarray | None = None) -> float:
    """Most token saving (share of the parent's tokens) among points at or above the parent's accuracy;
    0 when none reaches it (no saving at equal accuracy). ``idx``: one bootstrap resample of problems."""
    pick = (lambda a: np.asarray(a)[idx]) if idx is not None else np.asarray
    acc0, tok0 = pick(parent["correct"]).mean(), pick(parent["token_means"]).mean()
    saved = [1.0 - pick(p["token_means"]).mean() / tok0 for p in points if pick(p["correct"]).mean() >= acc0]
    return float(max(saved + [0.0]))


def study(results: list[dict], n_boot: int = 1000) -> dict:
    """The study's tables from the (dial, seed) results (see the module doc)."""
    rows, savings, parents = [], [], []
    for dial in sorted({r["dial"] for r in results}):
        runs = sorted((r for r in results if r["dial"] == dial), key=lambda r: r["seed"])
        thinking = [_point(r, "linear", 0.0) for r in runs]
        parents.append(_parents_row(dial, runs))
        for method, strengths in GRID.items():
            for s in strengths:
                pts = [_point(r, method, s) for r in runs]
                if any(p is None for p in pts) or (method == "linear" and s == 0.0):
                    continue
                acc = rule.compare([p["correct"] for p in pts], [t["correct"] for t in thinking], n_boot=n_boot)
                tok = rule.compare([p["token_means"] for p in pts], [t["token_means"] for t in thinking], n_boot=n_boot)
                base_tokens = tok.b
                rel = [tok.diff / base_tokens, tok.low / base_tokens, tok.high / base_tokens]
                strict = acc.low > 0 and tok.high < 0
                rows.append({
                    "dial": dial, "method": method, "strength": s, "seeds": acc.seeds,
                    "accuracy": acc.a, "thinking_accuracy": acc.b, "d_accuracy": acc.diff, "d_accuracy_interval": acc.interval,
                    "tokens": tok.a, "thinking_tokens": tok.b, "d_tokens_rel": rel[0], "d_tokens_rel_interval": rel[1:],
                    "strict": bool(strict),
                    "goal": bool(strict and acc.diff >= GOAL["accuracy"] and rel[0] <= GOAL["tokens"]),
                    "goal_by_interval": bool(acc.low >= GOAL["accuracy"] and rel[2] <= GOAL["tokens"]),
                })
        savings += _savings_rows(dial, runs, thinking, n_boot)
    return {"rows": rows, "savings": savings, "parents": parents, "verdict": verdict(rows, savings, parents)}


def _parents_row(dial: float, runs: list[dict]) -> dict:
    keys = ("accuracy", "tokens", "drift_share", "truncated_share", "other_share", "easy_tokens", "easy_accuracy")
    row = {"dial": dial, "seeds": len(runs), "planted": runs[0]["planted"]}
    for who in ("thinking", "direct"):
        for k in keys:
            values = [r["parents"][who][k] for r in runs]
            row[f"{who}_{k}"] = float(np.nanmean(values)) if values else float("nan")
            row[f"{who}_{k}_per_seed"] = values
    return row


def _savings_rows(dial: float, runs: list[dict], thinking: list[dict], n_boot: int) -> list[dict]:
    """Tokens saved at the thinking parent's accuracy per method on the shared grid, over seeds (paired:
    the same problem resamples for every method), and the activation-informed merge minus the others."""
    values: dict[str, list[float]] = {m: [] for m in GRID}
    reps: dict[str, list[np.ndarray]] = {m: [] for m in GRID}
    arrays = lambda p: {k: np.asarray(p[k], dtype=float) for k in ("correct", "token_means")}  # noqa: E731
    for r, parent in zip(runs, thinking):
        idx = _resamples(r["n_problems"], n_boot, seed=r["seed"])
        parent = arrays(parent)
        for m in GRID:
            pts = [arrays(p) for p in (_point(r, m, s) for s in SHARED) if p is not None]
            values[m].append(_saving(pts, parent))
            reps[m].append(np.array([_saving(pts, parent, i) for i in idx]))
    out = []
    for m in GRID:
        est = rule.over_seeds(values[m], reps[m], n_boot=n_boot)
        row = {"dial": dial, "method": m, "saved": est.value, "saved_interval": est.interval, "per_seed": est.per_seed}
        if m != "activation_informed" and "activation_informed" in GRID:
            diff = rule.over_seeds([a - b for a, b in zip(values["activation_informed"], values[m])],
                                   [a - b for a, b in zip(reps["activation_informed"], reps[m])], n_boot=n_boot)
            row["activation_informed_minus"] = diff.value
            row["activation_informed_minus_interval"] = diff.interval
        out.append(row)
    return out


def verdict(rows: list[dict], savings: list[dict], parents: list[dict] | None = None) -> dict:
    """The study's answers: the best strict Pareto point (largest accuracy gain), whether the goal is
    met, and whether the activation-informed merge saves more tokens than linear and TIES.

    Only dials where thinking still pays (the thinking parent more accurate than the direct one) are
    read: past that the world is broken (e.g. a budget that truncates most thinking), and a merge that
    "beats" such a parent says nothing about overthinking. The dials left out are named."""
    broken = sorted(p["dial"] for p in parents or [] if not p["thinking_accuracy"] > p["direct_accuracy"])
    rows = [r for r in rows if r["dial"] not in broken]
    strict = [r for r in rows if r["strict"]]
    best = max(strict, key=lambda r: (r["d_accuracy"], -r["d_tokens_rel"]), default=None)
    goal = [r for r in rows if r["goal"]]
    ai = {}
    for r in (r for r in savings if r["dial"] not in broken):
        if "activation_informed_minus" in r:
            low, high = r["activation_informed_minus_interval"]
            ai[r["method"]] = ai.get(r["method"], []) + [{"dial": r["dial"], "diff": r["activation_informed_minus"],
                                                            "interval": [low, high], "more": bool(low > 0)}]
    keep = ("dial", "method", "strength", "d_accuracy", "d_accuracy_interval", "d_tokens_rel", "d_tokens_rel_interval")
    return {
        "strict_pareto": bool(strict), "best_strict": {k: best[k] for k in keep} if best else None,
        "goal_met": bool(goal), "goal_points": [{k: r[k] for k in keep} for r in goal],
        "activation_informed_vs": ai, "dials_left_out": broken,
    }


def featured_drift_case(study_doc: dict, dial: float) -> dict | None:
    """A drift case at ``dial``: the thinking parent had the answer, re-checked and ended wrong, and the
    linear merge at the dial's best strict point (else λ = 0.1) stayed right with fewer tokens."""
    best = study_doc.get("verdict", {}).get("best_strict") or {}
    target = best.get("strength", 0.1) if best.get("dial") == dial and best.get("method") == "linear" else 0.1
    for case in study_doc.get("drift_cases", {}).get(str(dial), []):
        by = {o["strength"]: o for o in case["outputs"]}
        merged, parent = by.get(target), by.get(0.0)
        if merged and parent and merged["correct"] and merged["tokens"] < parent["tokens"]:
            return {**case, "merge_strength": target, "parent": parent, "merge": merged}
    return None


def load(path: Path | None = None) -> dict | None:
    """The committed study (None when it is missing: the page then says so)."""
    path = Path(path) if path else STUDY
    return json.loads(path.read_text()) if path.exists() else None


def frames(study_doc: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The study's rows, savings and parents as tables (for the page and the notebook)."""
    return (pd.DataFrame(study_doc.get("rows", [])), pd.DataFrame(study_doc.get("savings", [])),
            pd.DataFrame(study_doc.get("parents", [])))
