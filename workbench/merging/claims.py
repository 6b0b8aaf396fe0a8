"""The claims rows of the thinking-spectrum study, decided from the measured numbers only, by the one
rule of ``workbench.claims`` whatever the number of seeds.

Each seed's analysis job leaves its ``Evidence``: the statistics a claim rests on, their bootstrap
replicates over problems, and the per-problem cases of the paired comparisons. A rule turns the
evidence of every seed into one row: ``claims.over_seeds`` for a statistic with replicates,
``claims.compare`` for a paired mean difference. Both use every seed; with one seed both give that
seed's own percentile bootstrap interval. The value is the mean over seeds. Each row is made by
``claims.row``, so its two numbers, difference and interval are of one quantity (the Pareto row: the
merge's and its parent's mean tokens, and the relative change). The rules, in one place:

- tokens rise:   Spearman ρ(mean tokens, thinking weight) over the linear grid (``over_seeds``);
                 reproduced when its interval lies above 0.
- sharp switch:  width (in λ) of the thinking share's fall from 90% to 10% along the linear merges
                 (``over_seeds``); reproduced when the interval's upper end is <= ``SHARP_WIDTH`` (a
                 fifth of the range; the paper saw ~0.1, a fade across the whole range would be ~0.8).
- Pareto:        for each merge (method, strength) evaluated in every seed and each parent, Δacc and
                 the relative token change vs that parent, each by ``over_seeds`` of the seeds' paired
                 bootstrap replicates; the Pareto rule of ``analysis`` on those combined intervals.
                 Reproduced when a significant improvement exists; the row reports the best one
                 (largest token cut, then largest accuracy gain).
- SLERP≈linear:  ``compare`` of per-problem accuracy, SLERP vs linear, pooled over shared strengths;
                 reproduced when the interval lies inside ±``EQUIVALENCE`` (2 points).
- parents:       (setup check) ``compare`` of thinking vs direct accuracy on 5-6-operation problems;
                 reproduced when the interval lies above 0 and the thinking parent uses at least twice
                 the tokens (means over seeds).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.claims import Claim, ClaimSpec, Comparison, compare, number, over_seeds, row
from workbench.merging import analysis
from workbench.merging.analysis import REPLICATES, equal_accuracy_cuts, without_replicates

SHARP_WIDTH = 0.2
EQUIVALENCE = 0.02
HARD_OPS = (5, 6)
PARENT_ROWS = {"direct": ("linear", 1.0), "thinking": ("linear", 0.0)}
"""The sweep rows that are the parents: linear at λ = 1 is the direct parent, at λ = 0 the thinking one."""

CLAIMS = [
    ClaimSpec("merging.tokens_rise", "merging", "Mean generated tokens rise with the Thinking model's weight in the merge.",
              "Spearman rho(mean tokens, thinking weight 1-λ) over the linear grid",
              "mean generated tokens", "no trend", "Spearman ρ with the thinking weight 1 − λ over the linear grid"),
    ClaimSpec("merging.sharp_transition", "merging",
              "Thinking switches off sharply at some merge weight (paper: between 30% and 40% Instruct weight).",
              "width in λ of the thinking share's fall from 90% to 10% (linear merges); note: where",
              "the thinking share's fall", "the sharpness bar", "width in λ from 90% to 10% thinking (linear merges)"),
    ClaimSpec("merging.pareto", "merging",
              "Some merge is a Pareto improvement over a parent: not less accurate and fewer tokens, or more accurate at no more tokens.",
              "relative token change of the best significant improvement vs its parent",
              "the best merge", "its parent", "mean generated tokens"),
    ClaimSpec("merging.slerp_linear", "merging", "SLERP behaves like linear averaging when the parents are close.",
              "accuracy SLERP - linear, pooled over shared strengths (paired)",
              "SLERP", "linear", "accuracy pooled over the shared strengths (paired)"),
    ClaimSpec("merging.parents", "merging",
              "Setup check: the thinking parent beats the direct parent on hard problems and uses many more tokens.",
              "accuracy thinking - direct on 5-6-operation problems",
              "the thinking parent", "the direct parent", "accuracy on 5–6-operation problems"),
]
SPECS = {spec.id: spec for spec in CLAIMS}


# ---- one seed's evidence ----------------------------------------------------------------------------
@dataclass
class Evidence:
    """What one seed's claims rest on: its metrics (JSON), its summary table, and arrays — bootstrap
    replicates (``rho``, ``width``, ``switch_off``, ``d_acc_<parent>`` / ``d_tok_<parent>`` with one
    row per summary row) and per-problem cases (``case/...``)."""

    metrics: dict
    summary: pd.DataFrame
    arrays: dict[str, np.ndarray]

    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        self.summary.to_parquet(folder / "summary.parquet", index=False)
        save_file({k: np.ascontiguousarray(v, dtype=float) for k, v in self.arrays.items()}, str(folder / "evidence.safetensors"))
        (folder / "evidence.json").write_text(json.dumps(self.metrics, allow_nan=True))

    @classmethod
    def load(cls, folder: Path) -> "Evidence":
        from safetensors.numpy import load_file

        return cls(json.loads((folder / "evidence.json").read_text()), pd.read_parquet(folder / "summary.parquet"),
                   dict(load_file(str(folder / "evidence.safetensors"))))


def parents_cases(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, dict]:
    """The parents (linear λ=0 thinking, λ=1 direct): per-problem accuracy on the hardest problems
    (paired cases) and their headline numbers."""
    lin = frame[frame["method"] == "linear"]
    think, direct = lin[lin["strength"] == 0.0], lin[lin["strength"] == 1.0]
    hard = lambda f: f[f["n_ops"].isin(HARD_OPS)].groupby("problem")["correct"].mean().sort_index()  # noqa: E731
    t_hard, d_hard = hard(think), hard(direct)
    return t_hard.to_numpy(float), d_hard.to_numpy(float), {
        "hard_thinking": float(t_hard.mean()), "hard_direct": float(d_hard.mean()),
        "accuracy_thinking": float(think["correct"].mean()), "accuracy_direct": float(direct["correct"].mean()),
        "tokens_thinking": float(think["tokens"].mean()), "tokens_direct": float(direct["tokens"].mean()),
    }


def seed_evidence(frame: pd.DataFrame, n_boot: int, seed: int, parents_rel_l2: float = float("nan")) -> Evidence:
    """Everything the claims need from one seed's sweep rows (bootstraps seeded by ``seed``);
    ``parents_rel_l2`` (``analysis.global_difference`` of the parents) goes into the SLERP note."""
    summary, reps = analysis.summarize_with_replicates(frame, PARENT_ROWS, n_boot=n_boot, seed=seed)
    trans = analysis.transition(frame, n_boot=n_boot, seed=seed)
    trend = analysis.token_trend(frame, n_boot=n_boot, seed=seed)
    gap = analysis.method_gap(frame, "slerp", "linear", n_boot=n_boot, seed=seed)
    slerp, linear, _ = analysis.paired_cases(frame, "slerp", "linear")
    t_hard, d_hard, parents = parents_cases(frame)
    arrays = {**reps, **trans[REPLICATES], **trend[REPLICATES], "case/hard_thinking": t_hard, "case/hard_direct": d_hard}
    if len(slerp):
        arrays.update({"case/slerp": slerp, "case/linear": linear})
    by_key = summary.set_index(["method", "strength"])
    metrics = {
        "seed": seed, "transition": without_replicates(trans), "token_trend": without_replicates(trend),
        "slerp_vs_linear": gap, "parents_rel_l2": parents_rel_l2,
        "parent_tokens": {name: float(by_key.loc[row, "tokens"]) for name, row in PARENT_ROWS.items()},
        "grid_sizes": summary.groupby("method").size().to_dict(), "parents": parents,
    }
    return Evidence(metrics, summary, arrays)


# ---- the rules ---------------------------------------------------------------------------------------
def _f(x: float | None, digits: int = 3) -> str:
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _mean(values) -> float:
    values = [float(v) for v in values]
    return float(np.mean(values)) if values else float("nan")


def _over_seeds(seeds: list[Evidence], value, key: str):
    """``claims.over_seeds`` of a statistic (``value(metrics)``) and its replicates ``arrays[key]``."""
    reps = [e.arrays[key] for e in seeds]
    return over_seeds([value(e.metrics) for e in seeds], reps, n_boot=len(reps[0]))


def _spread(per_seed: list[float]) -> str:
    """The statistic of each seed, for a row's note when there are several."""
    return f"; {len(per_seed)} seeds, per seed {', '.join(_f(v) for v in per_seed)}" if len(per_seed) > 1 else ""


def tokens_rise(seeds: list[Evidence], n_boot: int) -> Claim:
    est = _over_seeds(seeds, lambda m: m["token_trend"]["rho"], "rho")
    trend = [e.metrics["token_trend"] for e in seeds]
    ends = (f"mean tokens {_f(_mean(t['tokens_thinking_end'] for t in trend), 1)} at λ=0 (thinking), "
            f"{_f(_mean(t['tokens_direct_end'] for t in trend), 1)} at λ=1 (direct)")
    return row(SPECS["merging.tokens_rise"], est, 0.0, also=f"the interval must lie above 0; {ends}",
               note=ends + _spread(est.per_seed))


def sharp_transition(seeds: list[Evidence], n_boot: int) -> Claim:
    return transition_claim([{**e.metrics["transition"], REPLICATES: {k: e.arrays[k] for k in ("width", "switch_off")}}
                             for e in seeds])


def transition_claim(transitions: list[dict]) -> Claim:
    """The sharp-transition row from each seed's ``analysis.transition`` (with its replicates): the
    build's claim, and the overthinking study's at each dial it measured the transition."""
    def combined(key: str):
        reps = [t[REPLICATES][key] for t in transitions]
        return over_seeds([t[key] for t in transitions], reps, n_boot=len(reps[0]))

    width, off, tr = combined("width"), combined("switch_off"), transitions
    by_level = [{int(k): v for k, v in t["switch_off_by_ops"].items()} for t in tr]  # JSON made the keys text
    ops = sorted({k for m in by_level for k in m})
    by_ops = ", ".join(f"{k} ops {_f(_mean(m[k] for m in by_level if k in m), 2)}" for k in ops)
    ok = not math.isnan(width.high) and width.high <= SHARP_WIDTH  # at most the bar: its end may touch it
    also = (f"its upper end must be at most the bar; switch-off (thinking share 50%) at λ = {number(off.value)} "
            f"[{number(off.low)}, {number(off.high)}]")
    return row(SPECS["merging.sharp_transition"], width, SHARP_WIDTH, direction=-1, reproduced=bool(ok), also=also,
               note=f"switch-off (thinking share 50%) at λ={_f(off.value)} [{_f(off.low)}, {_f(off.high)}]; "
                    f"share 90% at λ={_f(_mean(t['share90_at'] for t in tr))}, 10% at λ={_f(_mean(t['share10_at'] for t in tr))}; "
                    f"by difficulty: {by_ops}" + _spread(width.per_seed))


def combined_summary(seeds: list[Evidence], parent_rows: dict = PARENT_ROWS) -> pd.DataFrame:
    """The summary columns the Pareto rule reads, for the merges every seed evaluated: accuracy and
    tokens as means over seeds, and each difference to a parent (Δacc, Δtokens, relative Δtokens)
    with its interval by ``over_seeds`` of the seeds' replicates. One seed: that seed's own numbers."""
    tables = [e.summary.reset_index(drop=True) for e in seeds]
    positions = [{(m, float(s)): i for i, (m, s) in enumerate(zip(t["method"], t["strength"]))} for t in tables]
    keys = sorted(set.intersection(*(set(p) for p in positions)))
    rows = []
    for key in keys:
        at = [p[key] for p in positions]
        row = {"method": key[0], "strength": key[1], "accuracy": _mean(t.loc[i, "accuracy"] for t, i in zip(tables, at)),
               "tokens": _mean(t.loc[i, "tokens"] for t, i in zip(tables, at))}
        for name, ref in parent_rows.items():
            base = [max(float(t.loc[p[ref], "tokens"]), 1e-9) for t, p in zip(tables, positions)]
            for kind, source, scale in (("d_acc", "d_acc", [1.0] * len(seeds)), ("d_tok", "d_tok", [1.0] * len(seeds)),
                                        ("rel_tok", "d_tok", [1 / b for b in base])):
                reps = [e.arrays[f"{source}_{name}"][i] * c for e, i, c in zip(seeds, at, scale)]
                est = over_seeds([t.loc[i, f"{kind}_{name}"] for t, i in zip(tables, at)], reps, n_boot=len(reps[0]))
                row.update({f"{kind}_{name}": est.value, f"{kind}_{name}_low": est.low, f"{kind}_{name}_high": est.high})
        rows.append(row)
    return pd.DataFrame(rows)


def best_improvement(pareto: pd.DataFrame) -> pd.Series | None:
    """The significant improvement with the largest token cut (then accuracy gain); else the best
    non-significant one; None when there is none at all."""
    if pareto.empty:
        return None
    pool = pareto[pareto["significant"]] if pareto["significant"].any() else pareto
    return pool.sort_values(["rel_tokens", "d_acc"], ascending=[True, False]).iloc[0]


def pareto_finding(pareto: pd.DataFrame, parent_tokens: dict[str, float], summary: pd.DataFrame | None = None,
                   parent_rows: dict | None = None, per_seed: list[float] | None = None) -> Claim:
    """The row from a Pareto table (``analysis.pareto_improvements``) of a (combined) summary: the best
    merge's mean tokens against its parent's, and the relative change with its interval; ``per_seed``
    (that change in each seed) goes into the note."""
    spec = SPECS["merging.pareto"]
    best = best_improvement(pareto)
    closest = ""
    if summary is not None and parent_rows:
        cuts = equal_accuracy_cuts(summary, "thinking", parent_rows)
        if len(cuts):
            c = cuts.iloc[0]
            closest = (f"; largest token cut at an accuracy not significantly different from the thinking parent: "
                       f"{c['method']} λ={c['strength']:.2f}, tokens {c['rel_tok_thinking']:+.1%} "
                       f"[{c['rel_tok_thinking_low']:+.1%}, {c['rel_tok_thinking_high']:+.1%}], Δacc "
                       f"{c['d_acc_thinking']:+.3f} [{c['d_acc_thinking_low']:+.3f}, {c['d_acc_thinking_high']:+.3f}]")
    if best is None:
        nothing = "no merge matched a parent's accuracy with fewer tokens (point estimates)"
        return Claim.from_spec(spec, reproduced=False, note=nothing + closest, also=nothing)
    n_sig = int(pareto["significant"].sum())
    per_seed = list(per_seed or [])
    note = (f"{best['method']} λ={best['strength']:.2f} vs {best['parent']} parent: Δacc {best['d_acc']:+.3f} "
            f"[{best['d_acc_low']:+.3f}, {best['d_acc_high']:+.3f}], tokens {best['rel_tokens']:+.1%} "
            f"[{best['rel_tokens_low']:+.1%}, {best['rel_tokens_high']:+.1%}]; "
            f"{n_sig} significant / {len(pareto)} point-estimate improvements in the sweep{closest}")
    sig = "a significant improvement" if best["significant"] else "not significant on either axis"
    # the relative token change, combined over seeds by ``combined_summary`` (no per-case arrays: n = 0)
    tokens = Comparison(float(best["tokens"]), parent_tokens.get(best["parent"]), float(best["rel_tokens"]),
                        float(best["rel_tokens_low"]), float(best["rel_tokens_high"]), len(per_seed), per_seed, 0)
    return row(spec, tokens, 0.0, direction=-1, reproduced=bool(best["significant"]), relative=True,
               a=f"{best['method']} λ = {best['strength']:.2f}", b=f"the {best['parent']} parent",
               also=(f"accuracy {number(best['d_acc'], True)} [{number(best['d_acc_low'], True)}, "
                     f"{number(best['d_acc_high'], True)}]: {sig}; "
                     f"{n_sig} significant of {len(pareto)} point-estimate improvements"),
               note=note + _spread(per_seed))


def pareto(seeds: list[Evidence], n_boot: int) -> Claim:
    summary = combined_summary(seeds)
    table = analysis.pareto_improvements(summary, PARENT_ROWS)
    tokens = {name: _mean(e.metrics["parent_tokens"][name] for e in seeds) for name in PARENT_ROWS}
    best = best_improvement(table)
    per_seed = None
    if best is not None:
        key = (best["method"], float(best["strength"]))
        per_seed = [float(e.summary.set_index(["method", "strength"]).loc[key, f"rel_tok_{best['parent']}"]) for e in seeds]
    return pareto_finding(table, tokens, summary, PARENT_ROWS, per_seed)


def slerp_linear(seeds: list[Evidence], n_boot: int) -> Claim:
    spec = SPECS["merging.slerp_linear"]
    if not all("case/slerp" in e.arrays for e in seeds):
        return Claim.from_spec(spec, note="SLERP was not swept")
    cmp = compare([e.arrays["case/slerp"] for e in seeds], [e.arrays["case/linear"] for e in seeds], n_boot=n_boot)
    gaps = [e.metrics["slerp_vs_linear"] for e in seeds]
    widest = max(gaps, key=lambda g: g["max_abs_gap"])
    ok = -EQUIVALENCE <= cmp.low and cmp.high <= EQUIVALENCE
    strengths = "/".join(dict.fromkeys(str(g["strengths"]) for g in gaps))
    return row(spec, cmp, reproduced=bool(ok), also=f"the interval must lie within ±{number(EQUIVALENCE)}",
               note=f"{strengths} shared strengths; largest per-strength gap {_f(widest['max_abs_gap'])} at "
                    f"λ={_f(widest['max_gap_at'], 2)}; tokens Δ {_f(_mean(g['d_tokens'] for g in gaps), 2)}; parents "
                    f"{_mean(e.metrics['parents_rel_l2'] for e in seeds):.1%} apart (rel. L2); "
                    f"equivalence margin ±{EQUIVALENCE}" + _spread(cmp.per_seed))


def parents(seeds: list[Evidence], n_boot: int) -> Claim:
    cmp = compare([e.arrays["case/hard_thinking"] for e in seeds], [e.arrays["case/hard_direct"] for e in seeds],
                  n_boot=n_boot)
    p = {k: _mean(e.metrics["parents"][k] for e in seeds) for k in seeds[0].metrics["parents"]}
    ratio = p["tokens_thinking"] / max(p["tokens_direct"], 1e-9)
    ok = cmp.low > 0 and ratio >= 2.0
    return row(SPECS["merging.parents"], cmp, reproduced=bool(ok),
               also=(f"tokens {number(p['tokens_thinking'])} vs {number(p['tokens_direct'])} "
                     f"({ratio:.1f}×, must be at least 2×)"),
               note=f"hard problems: thinking {cmp.a:.3f} vs direct {cmp.b:.3f}; all problems: thinking "
                    f"{p['accuracy_thinking']:.3f} at {p['tokens_thinking']:.1f} tokens vs direct {p['accuracy_direct']:.3f} at "
                    f"{p['tokens_direct']:.1f} tokens ({ratio:.1f}x)" + _spread(cmp.per_seed))


RULES = {
    "merging.tokens_rise": tokens_rise,
    "merging.sharp_transition": sharp_transition,
    "merging.pareto": pareto,
    "merging.slerp_linear": slerp_linear,
    "merging.parents": parents,
}


def claim_rows(seeds: list[Evidence], n_boot: int, size: str, dataset: str, profile: str) -> list[dict]:
    """The claims.json rows: every rule over every seed's evidence; ``size`` closes each note."""
    rows = []
    for spec in CLAIMS:
        r = RULES[spec.id](seeds, n_boot)
        rows.append(replace(r, seeds=len(seeds), dataset=dataset, profile=profile, note=f"{r.note} ({size})").to_dict())
    return rows
