"""The overthinking study (issue 23): along the dial, does a merge beat the thinking parent *strictly*?

One point of the study is one (dial, seed): the thinking child retrained at that dial (the base and
the direct child do not depend on it), the parents' overthinking measured (``evaluate.overthinking_profile``),
and every method of ``GRID`` evaluated at its strengths on the same problems with the same sampling
seed (common random numbers, so differences are paired per problem), then the linear merges across the
transition (``TRANSITION``). ``evaluate_point`` returns it as one JSON-able dict (per-problem scores
included); ``benchmarks/bench_merging_overthink.py`` commits one compact file per point (``POINTS``) and
``combine`` joins the seeds of each dial by the one rule of ``workbench.claims`` (``study``):

- ``rows``: per (dial, method, strength), accuracy and tokens minus the thinking parent's, each a paired
  interval over seeds and problems; ``strict`` when accuracy's interval lies above 0 and tokens' below;
  ``goal`` when, besides, the gains reach the issue's bar (+2 points at 15% fewer tokens);
- ``savings``: per (dial, method), the share of the thinking parent's tokens a method saves while
  keeping its accuracy (the most saving among its points at or above the parent's accuracy, on a grid
  all compared methods share), with the activation-informed merge's paired difference to linear and TIES;
- ``parents``: per dial, the planted overthinking measured on the parents (accuracy, tokens, the share
  of errors that drifted after a correct intermediate answer, truncated, easy-problem tokens);
- ``transition``: per dial whose points measured it, the sharp-transition claim decided by the build's
  own rule (``merging.claims.transition_claim``: the 90%->10% width of the thinking share, over seeds
  and problems, against ``claims.SHARP_WIDTH``).

A dial whose point files are missing but whose rows a previously committed study holds keeps those rows
(``combine(previous=...)``, said in the study's ``carried``): sittings add dials without recomputing.
Writes nothing itself; the page and the notebook read the committed study through ``load``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import claims as rule
from workbench.errors import WorkbenchError
from workbench.merging import analysis, world
from workbench.merging.claims import transition_claim
from workbench.merging.evaluate import Sampling, evaluate_arithmetic, overthinking_profile
from workbench.merging.parents import Parents, eval_problems
from workbench.merging.sweep import layer_weights_of, merged_model, transition_window
from workbench.progress import Progress, scaled, silent

STUDY = Path(__file__).resolve().parents[1] / "reference" / "merging-overthink.json"
POINTS = STUDY.with_suffix("")
"""The committed point files, ``dial<d>-seed<s>.json`` (compact: per-problem means over 2 samples)."""
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
TRANSITION = (0.4, 0.5, 0.6, 0.7)
"""Linear strengths beside ``GRID``'s that bracket the switch-off (the demo's thinking share falls from
90% at λ ≈ .36 to 10% at ≈ .55); the fine window is then found from the whole linear curve."""
TRANSITION_STEP, TRANSITION_PAD = 0.01, 0.02
"""The fine window across the fall (90% -> 10%, padded): half the build's step (``fine_step`` .02)."""


def _compact(values) -> list:
    """Per-problem means for a point file: 3 decimals, whole numbers without ".0" (the files are committed)."""
    return [int(v) if v == int(v) else v for v in (round(float(x), 3) for x in values)]


def evaluate_point(parents: Parents, cfg, grid: dict[str, Sequence[float]] = GRID, transition: bool = True,
                   progress: Progress | None = None) -> dict:
    """One (dial, seed): the parents' profiles, every (method, strength) of ``grid`` and, with
    ``transition``, the linear merges across the thinking share's fall (see module doc)."""
    progress = progress or silent
    problems = eval_problems(cfg)
    ids = [p.id for p in problems]
    sampling = Sampling(samples=cfg.samples, temperature=cfg.temperature, top_p=cfg.top_p, batch_size=cfg.batch_size,
                        budget_rechecks=world.Overthinking(cfg.overthink).budget_rechecks)
    weights = {m: layer_weights_of(parents, m, cfg.seed) for m in grid}

    def evaluate(method: str, s: float, share: tuple[float, float]) -> pd.DataFrame:
        model = merged_model(parents, method, s, cfg.density, cfg.merge_seed, weights.get(method))
        frame = evaluate_arithmetic(model, parents.tokenizer, problems, sampling, seed=cfg.seed,
                                    progress=scaled(progress, *share))
        progress(f"{method} λ={s:.2f}", share[1])
        return frame

    todo = [(m, float(s)) for m, strengths in grid.items() for s in strengths]
    span = 0.75 if transition else 1.0  # of the progress bar: the grid, then the transition window
    points, texts, curve = [], {}, []
    for i, (method, s) in enumerate(todo):
        frame = evaluate(method, s, (span * i / len(todo), span * (i + 1) / len(todo)))
        per = frame.groupby("problem")[["correct", "tokens", "thinking"]].mean().reindex(ids)
        profile = overthinking_profile(frame, problems)
        point = {
            "method": method, "strength": s, "accuracy": profile["accuracy"], "tokens": profile["tokens"],
            "thinking_share": float(frame["thinking"].mean()), "rechecks": float(frame["rechecks"].mean()),
            "drift_share": profile["drift_share"], "truncated_share": profile["truncated_share"],
            "correct": _compact(per["correct"]), "token_means": _compact(per["tokens"]),
        }
        if method == "linear":
            point["thinking"] = _compact(per["thinking"])
            curve.append(point)
            first = frame[frame["sample"] == 0].set_index("problem")
            texts[s] = first[["text", "correct", "tokens"]]
            if s == 0.0:
                thinking_profile = profile
            if s == 1.0:
                direct_profile = profile
        points.append(point)
    result = {"dial": float(cfg.overthink), "seed": int(cfg.seed), "n_problems": len(problems), "samples": cfg.samples,
              "n_ops": [p.n_ops for p in problems], "planted": _planted(cfg.overthink),
              "parents": {"thinking": thinking_profile, "direct": direct_profile}, "points": points,
              "drift_cases": _drift_cases(texts, problems)}
    if transition:
        result["transition"] = _transition_points(evaluate, curve, ids, span)
    return result


def _transition_points(evaluate, curve: list[dict], ids: list[int], start: float) -> list[dict]:
    """The linear merges at ``TRANSITION``, then across the fall the whole linear curve shows (each with
    its per-problem thinking share: the sharp-transition claim's cases)."""
    done = {p["strength"] for p in curve}
    out: list[dict] = []

    def add(strengths: list[float], share: tuple[float, float]) -> None:
        for j, s in enumerate(strengths):
            frame = evaluate("linear", s, (share[0] + (share[1] - share[0]) * j / len(strengths),
                                           share[0] + (share[1] - share[0]) * (j + 1) / len(strengths)))
            per = frame.groupby("problem")["thinking"].mean().reindex(ids)
            out.append({"strength": s, "accuracy": float(frame["correct"].mean()), "tokens": float(frame["tokens"].mean()),
                        "thinking_share": float(frame["thinking"].mean()), "thinking": _compact(per)})
            done.add(s)

    add([s for s in TRANSITION if s not in done], (start, start + (1 - start) / 3))
    known = sorted([(p["strength"], p["thinking_share"]) for p in curve + out])
    window = transition_window([s for s, _ in known], [v for _, v in known], TRANSITION_STEP, TRANSITION_PAD)
    add([s for s in window if s not in done], (start + (1 - start) / 3, 1.0))
    return sorted(out, key=lambda p: p["strength"])


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
    rows, savings, parents, transitions = [], [], [], []
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
        if all("transition" in r for r in runs):
            transitions.append(_transition_row(dial, runs, n_boot))
    return {"rows": rows, "savings": savings, "parents": parents, "transition": transitions,
            "verdict": verdict(rows, savings, parents)}


def seed_transition(result: dict, n_boot: int) -> dict:
    """``analysis.transition`` of one point's linear curve (``GRID``'s linear points and the transition
    window's, per-problem thinking shares), bootstrapped over problems with the point's seed."""
    curve = [p for p in result["points"] if p["method"] == "linear"] + result["transition"]
    n = result["n_problems"]
    frame = pd.DataFrame({
        "method": "linear", "strength": np.repeat([float(p["strength"]) for p in curve], n),
        "problem": np.tile(np.arange(n), len(curve)), "n_ops": np.tile(result["n_ops"], len(curve)),
        "thinking": np.concatenate([np.asarray(p["thinking"], dtype=float) for p in curve]),
    })
    return analysis.transition(frame, n_boot=n_boot, seed=result["seed"])


def _transition_row(dial: float, runs: list[dict], n_boot: int) -> dict:
    """The sharp-transition claim at ``dial`` by the build's rule, over the dial's seeds."""
    claim = replace(transition_claim([seed_transition(r, n_boot) for r in runs]), seeds=len(runs), dataset="synthetic")
    strengths = [len(r["transition"]) + sum(p["method"] == "linear" for p in r["points"]) for r in runs]
    return {"dial": dial, **claim.to_dict(), "sentence": claim.sentence, "linear_strengths_per_seed": strengths}


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


# ---- sittings: point files and the dials a committed study already holds ------------------------------
TABLES = ("rows", "savings", "parents", "transition")
SAME_SETTINGS_EXCEPT = ("seed", "seeds", "overthink")
"""Settings a dial point may differ in; every other setting must match for dials to share one study."""


def combine(results: list[dict], previous: dict | None = None, n_boot: int = 1000) -> dict:
    """The study of the point files ``results``, joined with the rows of ``previous`` (a committed study)
    for every dial no point file covers — their rows, savings, parents, transition, drift cases and
    point costs kept as measured, and named in ``carried`` with the commit that measured them. The
    verdict is taken over all dials. Point files win: a dial that has any is recomputed from them."""
    doc = study(results, n_boot) if results else {key: [] for key in TABLES}
    have = {r["dial"] for r in results}
    previous = previous or {}
    carried = [d for d in previous.get("dials", []) if d not in have]
    if carried and results and "settings" in results[0] and "settings" in previous:
        mine = {k: v for k, v in results[0]["settings"].items() if k not in SAME_SETTINGS_EXCEPT}
        theirs = {k: v for k, v in previous["settings"].items() if k not in SAME_SETTINGS_EXCEPT}
        differ = sorted(k for k in mine.keys() | theirs.keys() if json.dumps(mine.get(k)) != json.dumps(theirs.get(k)))
        if differ:
            raise WorkbenchError(f"The committed study's dials {', '.join(f'{d:g}' for d in carried)} were measured with other "
                                 f"settings ({', '.join(differ)}); recompute them (their dials in the bench's DIALS) "
                                 "or run with the same settings.")
    for key in TABLES:
        doc[key] = sorted(doc[key] + [r for r in previous.get(key, []) if r["dial"] in carried], key=lambda r: r["dial"])
    first = min((r["seed"] for r in results), default=None)
    doc["drift_cases"] = {**{str(d): c for d, c in previous.get("drift_cases", {}).items() if float(d) in carried},
                          **{str(r["dial"]): r["drift_cases"] for r in results if r["seed"] == first}}
    keep = ("dial", "seed", "cpu_seconds", "wall_seconds")
    doc["points"] = sorted([{k: r.get(k) for k in keep} for r in results]
                           + [p for p in previous.get("points", []) if p["dial"] in carried],
                           key=lambda p: (p["dial"], p["seed"]))
    before = {c["dial"]: c for c in previous.get("carried", [])}
    doc["carried"] = [before.get(d) or {"dial": d, "commit": previous.get("commit"), "created": previous.get("created"),
                                        "command": previous.get("command")} for d in carried]
    doc["dials"] = sorted(have | set(carried))
    doc["verdict"] = verdict(doc["rows"], doc["savings"], doc["parents"])
    doc["summary"] = summary(doc)
    return doc


def _pm(value: float, interval: list[float], pct: bool = False) -> str:
    fmt = (lambda v: f"{v:+.1%}") if pct else (lambda v: f"{v:+.3f}")  # noqa: E731
    return f"{fmt(value)} [{fmt(interval[0])}, {fmt(interval[1])}]"


def _gain(row: dict | None) -> str:
    if row is None:
        return "none"
    return (f"{row['method']} λ={row['strength']:g}: accuracy {_pm(row['d_accuracy'], row['d_accuracy_interval'])}, "
            f"tokens {_pm(row['d_tokens_rel'], row['d_tokens_rel_interval'], pct=True)}")


def weak(row: dict) -> bool:
    """A significant Pareto improvement that is not strict (``analysis.pareto_improvements``' rule on the
    study's intervals): point estimates at least as good on both axes, one axis significantly better and
    the other not significantly worse — e.g. fewer tokens at an accuracy not told apart."""
    (a_lo, a_hi), (t_lo, t_hi) = row["d_accuracy_interval"], row["d_tokens_rel_interval"]
    dominates = row["d_accuracy"] >= 0 and row["d_tokens_rel"] <= 0
    return bool(dominates and not row["strict"] and ((a_lo > 0 and t_lo <= 0) or (t_hi < 0 and a_hi >= 0)))


def summary(doc: dict) -> list[dict]:
    """One line per dial (the docs' study table): the parents, the best strict Pareto improvement (largest
    accuracy gain) and the best weak one (largest token cut), each method's tokens saved at the thinking
    parent's accuracy, and the sharp-transition verdict where it was measured."""
    out = []
    for p in doc["parents"]:
        dial = p["dial"]
        rows = [r for r in doc["rows"] if r["dial"] == dial]
        strict = max((r for r in rows if r["strict"]), key=lambda r: (r["d_accuracy"], -r["d_tokens_rel"]), default=None)
        weakest = min((r for r in rows if weak(r)), key=lambda r: (r["d_tokens_rel"], -r["d_accuracy"]), default=None)
        line = {"dial": dial, "seeds": p["seeds"], "thinking accuracy": p["thinking_accuracy"],
                "thinking tokens": p["thinking_tokens"], "direct accuracy": p["direct_accuracy"],
                "errors drifted": p["thinking_drift_share"], "thinking pays": p["thinking_accuracy"] > p["direct_accuracy"],
                "best strict Pareto": _gain(strict), "best weak Pareto": _gain(weakest)}
        for r in (r for r in doc["savings"] if r["dial"] == dial):
            line[f"saved: {r['method']}"] = f"{r['saved']:.1%} [{r['saved_interval'][0]:.1%}, {r['saved_interval'][1]:.1%}]"
        t = next((t for t in doc.get("transition", []) if t["dial"] == dial), None)
        line["transition width"] = (f"{t['a_value']:.3f} [{t['interval'][0]:.3f}, {t['interval'][1]:.3f}] vs {t['b_value']:.2f}: "
                                    f"{'reproduced' if t['reproduced'] else 'not reproduced'}" if t else "not measured")
        out.append(line)
    return out


def read_points(folder: Path = POINTS) -> list[dict]:
    """The committed point files (none when the folder is absent)."""
    return [json.loads(p.read_text()) for p in sorted(Path(folder).glob("dial*-seed*.json"))]


def point_path(folder: Path, dial: float, seed: int) -> Path:
    return Path(folder) / f"dial{dial:g}-seed{seed}.json"


def point_text(result: dict) -> str:
    """A point file's text: compact JSON (one line; the per-problem arrays dominate its size)."""
    return json.dumps(result, separators=(",", ":"), allow_nan=True) + "\n"


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


def frames(study_doc: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The study's rows, savings, parents and transition rows as tables (for the page and the notebook)."""
    return tuple(pd.DataFrame(study_doc.get(key, [])) for key in TABLES)
