"""The claims rows of the thinking-spectrum study, decided from the measured numbers only.

Each ``*_finding`` turns analysis results of one seed into ``(value, reference, interval, reproduced,
note)``; ``combine`` merges several seeds (the full profile) into one row with a t-interval over
seeds. The rules, in one place:

- tokens rise:   Spearman ρ(mean tokens, thinking weight) over the linear grid; reproduced when its
                 bootstrap interval lies above 0.
- sharp switch:  width (in λ) of the thinking share's fall from 90% to 10% along the linear merges;
                 reproduced when the interval's upper end is <= ``SHARP_WIDTH`` (a fifth of the range;
                 the paper saw ~0.1, a fade across the whole range would be ~0.8).
- Pareto:        a significant Pareto improvement over either parent exists (rule in ``analysis``);
                 the row reports the best one (largest token cut, then largest accuracy gain).
- SLERP≈linear:  the pooled paired accuracy difference SLERP − linear over shared strengths has a 95%
                 interval inside ±``EQUIVALENCE`` (2 points).
- parents:       (setup check) thinking − direct accuracy on 5-6-operation problems has an interval
                 above 0 and the thinking parent uses at least twice the tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.claims import ClaimSpec
from workbench.merging.analysis import equal_accuracy_cuts
from workbench.metrics import paired_bootstrap, seed_interval

SHARP_WIDTH = 0.2
EQUIVALENCE = 0.02
HARD_OPS = (5, 6)

CLAIMS = [
    ClaimSpec("merging.tokens_rise", "merging", "Mean generated tokens rise with the Thinking model's weight in the merge.",
              "Spearman rho(mean tokens, thinking weight 1-λ) over the linear grid"),
    ClaimSpec("merging.sharp_transition", "merging",
              "Thinking switches off sharply at some merge weight (paper: between 30% and 40% Instruct weight).",
              "width in λ of the thinking share's fall from 90% to 10% (linear merges); note: where"),
    ClaimSpec("merging.pareto", "merging",
              "Some merge is a Pareto improvement over a parent: not less accurate and fewer tokens, or more accurate at no more tokens.",
              "relative token change of the best significant improvement vs its parent"),
    ClaimSpec("merging.slerp_linear", "merging", "SLERP behaves like linear averaging when the parents are close.",
              "accuracy SLERP - linear, pooled over shared strengths (paired)"),
    ClaimSpec("merging.parents", "merging",
              "Setup check: the thinking parent beats the direct parent on hard problems and uses many more tokens.",
              "accuracy thinking - direct on 5-6-operation problems"),
]
SPECS = {spec.id: spec for spec in CLAIMS}


@dataclass
class Finding:
    value: float | None
    reference: float | None
    interval: list[float] | None
    reproduced: bool | None
    note: str


def _f(x: float, digits: int = 3) -> str:
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def tokens_rise_finding(trend: dict) -> Finding:
    return Finding(trend["rho"], None, [trend["low"], trend["high"]], bool(trend["low"] > 0),
                   f"mean tokens {_f(trend['tokens_thinking_end'], 1)} at λ=0 (thinking) -> "
                   f"{_f(trend['tokens_direct_end'], 1)} at λ=1 (direct)")


def transition_finding(tr: dict) -> Finding:
    width_ok = not math.isnan(tr["width_high"]) and tr["width_high"] <= SHARP_WIDTH
    by_ops = ", ".join(f"{k} ops {_f(v, 2)}" for k, v in sorted(tr["switch_off_by_ops"].items()))
    return Finding(tr["width"], SHARP_WIDTH, [tr["width_low"], tr["width_high"]], bool(width_ok),
                   f"switch-off (thinking share 50%) at λ={_f(tr['switch_off'], 3)} "
                   f"[{_f(tr['switch_off_low'], 3)}, {_f(tr['switch_off_high'], 3)}]; share 90% at λ={_f(tr['share90_at'], 3)}, "
                   f"10% at λ={_f(tr['share10_at'], 3)}; by difficulty: {by_ops}")


def best_improvement(pareto: pd.DataFrame) -> pd.Series | None:
    """The significant improvement with the largest token cut (then accuracy gain); else the best
    non-significant one; None when there is none at all."""
    if pareto.empty:
        return None
    pool = pareto[pareto["significant"]] if pareto["significant"].any() else pareto
    return pool.sort_values(["rel_tokens", "d_acc"], ascending=[True, False]).iloc[0]


def pareto_finding(pareto: pd.DataFrame, parent_tokens: dict[str, float], summary: pd.DataFrame | None = None,
                   parent_rows: dict | None = None) -> Finding:
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
        return Finding(None, None, None, False,
                       "no merge matched a parent's accuracy with fewer tokens (point estimates)" + closest)
    n_sig = int(pareto["significant"].sum())
    note = (f"{best['method']} λ={best['strength']:.2f} vs {best['parent']} parent: Δacc {best['d_acc']:+.3f} "
            f"[{best['d_acc_low']:+.3f}, {best['d_acc_high']:+.3f}], tokens {best['rel_tokens']:+.1%} "
            f"[{best['rel_tokens_low']:+.1%}, {best['rel_tokens_high']:+.1%}]; "
            f"{n_sig} significant / {len(pareto)} point-estimate improvements in the sweep{closest}")
    return Finding(float(best["rel_tokens"]), parent_tokens.get(best["parent"]),
                   [float(best["rel_tokens_low"]), float(best["rel_tokens_high"])], bool(best["significant"]), note)


def slerp_finding(gap: dict, rel_l2: float) -> Finding:
    if not gap.get("strengths"):
        return Finding(None, None, None, None, "SLERP was not swept")
    ok = -EQUIVALENCE <= gap["d_acc_low"] and gap["d_acc_high"] <= EQUIVALENCE
    return Finding(gap["d_acc"], 0.0, [gap["d_acc_low"], gap["d_acc_high"]], bool(ok),
                   f"{gap['strengths']} shared strengths; largest per-strength gap {_f(gap['max_abs_gap'])} at "
                   f"λ={_f(gap['max_gap_at'], 2)}; tokens Δ {_f(gap['d_tokens'], 2)}; parents {rel_l2:.1%} apart (rel. L2); "
                   f"equivalence margin ±{EQUIVALENCE}")


def parents_finding(frame: pd.DataFrame, n_boot: int, seed: int) -> Finding:
    """Compare the parents (linear λ=0 thinking, λ=1 direct) on the hardest problems."""
    lin = frame[frame["method"] == "linear"]
    think, direct = lin[lin["strength"] == 0.0], lin[lin["strength"] == 1.0]
    hard = lambda f: f[f["n_ops"].isin(HARD_OPS)].groupby("problem")["correct"].mean().sort_index()  # noqa: E731
    t_hard, d_hard = hard(think), hard(direct)
    cmp = paired_bootstrap(t_hard.to_numpy(), d_hard.to_numpy(), n_boot=n_boot, seed=seed)
    tok_t, tok_d = float(think["tokens"].mean()), float(direct["tokens"].mean())
    ratio = tok_t / max(tok_d, 1e-9)
    ok = cmp["low"] > 0 and ratio >= 2.0
    return Finding(cmp["diff"], float(d_hard.mean()), [cmp["low"], cmp["high"]], bool(ok),
                   f"hard problems: thinking {t_hard.mean():.3f} vs direct {d_hard.mean():.3f}; all problems: thinking "
                   f"{think['correct'].mean():.3f} at {tok_t:.1f} tokens vs direct {direct['correct'].mean():.3f} at "
                   f"{tok_d:.1f} tokens ({ratio:.1f}x)")


def combine(findings: list[Finding], rule) -> Finding:
    """One row from several seeds: mean value, t-interval over seeds, ``rule(low, high)`` decides."""
    if len(findings) == 1:
        return findings[0]
    values = [f.value for f in findings if f.value is not None]
    if not values:
        return Finding(None, None, None, False, " | ".join(f"seed {i}: {f.note}" for i, f in enumerate(findings)))
    mean, low, high = seed_interval(values)
    notes = f"{len(values)} seeds, per seed {', '.join(_f(v) for v in values)}; first seed: {findings[0].note}"
    ref = findings[0].reference
    return Finding(mean, ref, [low, high], bool(rule(low, high, findings)), notes)


RULES = {
    "merging.tokens_rise": lambda lo, hi, fs: lo > 0,
    "merging.sharp_transition": lambda lo, hi, fs: hi <= SHARP_WIDTH,
    "merging.pareto": lambda lo, hi, fs: all(f.reproduced for f in fs),
    "merging.slerp_linear": lambda lo, hi, fs: -EQUIVALENCE <= lo and hi <= EQUIVALENCE,
    "merging.parents": lambda lo, hi, fs: lo > 0 and all(f.reproduced for f in fs),
}


def mean_or_nan(values) -> float:
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(values)) if values else float("nan")
