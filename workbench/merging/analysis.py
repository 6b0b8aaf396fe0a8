"""From per-output rows to the study's findings: curves with intervals, Pareto improvements over each
parent, the thinking transition, and the parents' weight differences.

The unit of every interval is the *problem*: each problem's samples are averaged first, then problems
are resampled (paired between two models, since every model answers the same problems). Every
interval comes from ``workbench.metrics.bootstrap`` (the project's one bootstrap), and the statistics a
claim rests on also hand back their bootstrap ``replicates``, so that ``claims`` can combine seeds by
the one rule of ``workbench.claims``.

Pareto rule (margin-free, stated once here): a merge improves on a parent when its point estimates
are at least as good on both axes (accuracy >= parent, mean tokens <= parent, one strictly) — and it
is a *significant* improvement when one axis is significantly better (its 95% interval excludes 0)
while the other is not significantly worse (its interval still reaches 0 or beyond).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from workbench.metrics import bootstrap

KEYS = ["method", "strength"]
REPLICATES = "replicates"
"""Key under which ``transition`` and ``token_trend`` return their bootstrap replicates (arrays)."""


def without_replicates(result: dict) -> dict:
    """``result`` minus its ``replicates`` (what goes into metrics.json)."""
    return {k: v for k, v in result.items() if k != REPLICATES}


# ---- per problem ----------------------------------------------------------------------------------
def per_problem(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean correctness, tokens and thinking share per (method, strength, problem)."""
    cols = {"correct": "mean", "tokens": "mean", "thinking": "mean", "rechecks": "mean", "n_ops": "first"}
    cols = {k: how for k, how in cols.items() if k in frame}  # e.g. a study that kept only the thinking share
    return frame.groupby([*KEYS, "problem"], sort=True).agg(cols).reset_index()


def _matrix(pp: pd.DataFrame, column: str) -> pd.DataFrame:
    """(method, strength) x problem table of one per-problem column."""
    return pp.pivot_table(index=KEYS, columns="problem", values=column)


def summarize_with_replicates(frame: pd.DataFrame, parents: dict[str, tuple[str, float]], n_boot: int = 1000,
                              seed: int = 0) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """One row per (method, strength): accuracy and tokens with 95% intervals, thinking share,
    re-checks, and paired differences to each parent — plus those differences' bootstrap replicates.

    ``parents`` names the rows that are the parents, e.g. ``{"direct": ("linear", 1.0),
    "thinking": ("linear", 0.0)}``. Token differences are also given relative to the parent's mean.
    The replicates are ``{"d_acc_<parent>": rows x n_boot, "d_tok_<parent>": ...}``, rows in the
    order of the returned table (the Pareto claim combines them over seeds).
    """
    pp = per_problem(frame)
    acc, tok = _matrix(pp, "correct"), _matrix(pp, "tokens")
    rows, reps = [], {f"{kind}_{name}": [] for name in parents for kind in ("d_acc", "d_tok")}
    for key in sorted(acc.index):
        a, t = acc.loc[key].to_numpy(), tok.loc[key].to_numpy()
        sub = frame[(frame["method"] == key[0]) & (frame["strength"] == key[1])]
        ia, it = bootstrap(a, n_boot=n_boot, seed=seed), bootstrap(t, n_boot=n_boot, seed=seed)
        row = {
            "method": key[0], "strength": float(key[1]),
            "accuracy": float(a.mean()), "tokens": float(t.mean()),
            "thinking_share": float(sub["thinking"].mean()), "rechecks": float(sub["rechecks"].mean()),
            "answered": float(sub["answered"].mean()) if "answered" in sub else float("nan"),
            "n_problems": int(len(a)), "n_outputs": int(len(sub)),
            "accuracy_low": ia["low"], "accuracy_high": ia["high"], "tokens_low": it["low"], "tokens_high": it["high"],
        }
        for name, ref in parents.items():
            ra, rt = acc.loc[ref].to_numpy(), tok.loc[ref].to_numpy()
            da = bootstrap(a, ra, n_boot=n_boot, seed=seed)
            dt = bootstrap(t, rt, n_boot=n_boot, seed=seed)
            base_tokens = max(float(rt.mean()), 1e-9)
            row.update({
                f"d_acc_{name}": da["value"], f"d_acc_{name}_low": da["low"], f"d_acc_{name}_high": da["high"],
                f"d_tok_{name}": dt["value"], f"d_tok_{name}_low": dt["low"], f"d_tok_{name}_high": dt["high"],
                f"rel_tok_{name}": dt["value"] / base_tokens,
                f"rel_tok_{name}_low": dt["low"] / base_tokens, f"rel_tok_{name}_high": dt["high"] / base_tokens,
            })
            reps[f"d_acc_{name}"].append(da["replicates"])
            reps[f"d_tok_{name}"].append(dt["replicates"])
        rows.append(row)
    summary = pd.DataFrame(rows).reset_index(drop=True)
    return summary, {k: np.stack(v) if v else np.zeros((0, n_boot)) for k, v in reps.items()}


def summarize_sweep(frame: pd.DataFrame, parents: dict[str, tuple[str, float]], n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """The table of ``summarize_with_replicates`` alone."""
    return summarize_with_replicates(frame, parents, n_boot, seed)[0]


def per_difficulty(frame: pd.DataFrame) -> pd.DataFrame:
    """Accuracy, tokens and thinking share per (method, strength, n_ops)."""
    out = frame.groupby([*KEYS, "n_ops"]).agg(
        accuracy=("correct", "mean"), tokens=("tokens", "mean"), thinking_share=("thinking", "mean"),
        n_outputs=("correct", "size"),
    )
    return out.reset_index()


# ---- Pareto ---------------------------------------------------------------------------------------
def pareto_improvements(summary: pd.DataFrame, parent_rows: dict[str, tuple[str, float]]) -> pd.DataFrame:
    """Merges that improve on a parent (point estimates dominate), with intervals and significance."""
    rows = []
    for name, ref in parent_rows.items():
        for _, r in summary.iterrows():
            if (r["method"], r["strength"]) in parent_rows.values():
                continue
            da, dt = r[f"d_acc_{name}"], r[f"d_tok_{name}"]
            if not (da >= 0 and dt <= 0 and (da > 0 or dt < 0)):
                continue
            acc_better, acc_not_worse = r[f"d_acc_{name}_low"] > 0, r[f"d_acc_{name}_high"] >= 0
            tok_better, tok_not_worse = r[f"d_tok_{name}_high"] < 0, r[f"d_tok_{name}_low"] <= 0
            rows.append({
                "parent": name, "method": r["method"], "strength": r["strength"],
                "accuracy": r["accuracy"], "tokens": r["tokens"],
                "d_acc": da, "d_acc_low": r[f"d_acc_{name}_low"], "d_acc_high": r[f"d_acc_{name}_high"],
                "d_tokens": dt, "d_tokens_low": r[f"d_tok_{name}_low"], "d_tokens_high": r[f"d_tok_{name}_high"],
                "rel_tokens": r[f"rel_tok_{name}"], "rel_tokens_low": r[f"rel_tok_{name}_low"],
                "rel_tokens_high": r[f"rel_tok_{name}_high"],
                "significant": bool((acc_better and tok_not_worse) or (tok_better and acc_not_worse)),
            })
    cols = ["parent", "method", "strength", "accuracy", "tokens", "d_acc", "d_acc_low", "d_acc_high", "d_tokens",
            "d_tokens_low", "d_tokens_high", "rel_tokens", "rel_tokens_low", "rel_tokens_high", "significant"]
    return pd.DataFrame(rows, columns=cols)


def equal_accuracy_cuts(summary: pd.DataFrame, parent: str, parent_rows: dict[str, tuple[str, float]]) -> pd.DataFrame:
    """Merges that use significantly fewer tokens than ``parent`` at an accuracy not significantly
    different from it (either sign), largest token cut first — the paper's "equal accuracy" reading."""
    keys = set(parent_rows.values())
    mask = (summary[f"d_tok_{parent}_high"] < 0) & (summary[f"d_acc_{parent}_low"] <= 0) & (summary[f"d_acc_{parent}_high"] >= 0)
    rows = summary[mask & ~summary.apply(lambda r: (r["method"], r["strength"]) in keys, axis=1)]
    return rows.sort_values(f"rel_tok_{parent}")


def pareto_frontier(summary: pd.DataFrame) -> pd.DataFrame:
    """Rows no other row beats on both axes (higher accuracy, fewer tokens), sorted by tokens.

    >>> s = pd.DataFrame({"accuracy": [0.5, 0.9, 0.4, 0.8], "tokens": [5, 40, 10, 30]})
    >>> pareto_frontier(s).index.tolist()
    [0, 3, 1]
    """
    acc, tok = summary["accuracy"].to_numpy(), summary["tokens"].to_numpy()
    keep = []
    for i in range(len(summary)):
        dominated = np.any((acc >= acc[i]) & (tok <= tok[i]) & ((acc > acc[i]) | (tok < tok[i])))
        if not dominated:
            keep.append(i)
    return summary.iloc[keep].sort_values("tokens")


# ---- the transition -------------------------------------------------------------------------------
def crossing(strengths: Sequence[float], share: Sequence[float], level: float) -> float:
    """First strength (scanning upward) where a falling ``share`` curve reaches ``level`` (linear
    interpolation between grid points); nan if it never does.

    >>> crossing([0.0, 0.4, 0.5, 1.0], [1.0, 0.9, 0.1, 0.0], 0.5)
    0.45
    """
    s, y = np.asarray(strengths, float), np.asarray(share, float)
    for i in range(1, len(s)):
        if y[i - 1] > level >= y[i]:
            return round(float(s[i - 1] + (y[i - 1] - level) / (y[i - 1] - y[i]) * (s[i] - s[i - 1])), 6)
    return float("nan")


def transition(frame: pd.DataFrame, method: str = "linear", n_boot: int = 500, seed: int = 0) -> dict:
    """Where the merged models stop thinking: the strength where the thinking share falls through 50%
    (``switch_off``), the 90%->10% ``width``, and bootstrap intervals of both (over problems); their
    replicates under ``replicates``."""
    pp = per_problem(frame[frame["method"] == method])
    share = pp.pivot_table(index="strength", columns="problem", values="thinking").sort_index()
    strengths = share.index.to_numpy()
    values = share.to_numpy()

    def level(cols: np.ndarray, lvl: float) -> float:
        return crossing(strengths, values[:, cols].mean(axis=1), lvl)

    problems = np.arange(values.shape[1])
    mid = bootstrap(problems, statistic=lambda cols: level(cols, 0.5), n_boot=n_boot, seed=seed)
    width = bootstrap(problems, statistic=lambda cols: level(cols, 0.1) - level(cols, 0.9), n_boot=n_boot, seed=seed)
    by_level = pp.groupby(["n_ops", "strength"])["thinking"].mean().unstack("strength")
    return {
        "method": method, "switch_off": mid["value"], "switch_off_low": mid["low"], "switch_off_high": mid["high"],
        "share90_at": level(problems, 0.9), "share10_at": level(problems, 0.1),
        "width": width["value"], "width_low": width["low"], "width_high": width["high"],
        "switch_off_by_ops": {int(k): crossing(by_level.columns, v.to_numpy(), 0.5) for k, v in by_level.iterrows()},
        REPLICATES: {"switch_off": mid["replicates"], "width": width["replicates"]},
    }


def token_trend(frame: pd.DataFrame, method: str = "linear", n_boot: int = 500, seed: int = 0) -> dict:
    """Spearman correlation of mean tokens with the thinking weight (1 - strength) over the grid,
    with a bootstrap interval over problems (replicates under ``replicates``)."""
    import warnings

    from scipy.stats import spearmanr

    pp = per_problem(frame[frame["method"] == method])
    tok = pp.pivot_table(index="strength", columns="problem", values="tokens").sort_index()
    weight = 1.0 - tok.index.to_numpy()
    values = tok.to_numpy()

    def rho(cols: np.ndarray) -> float:
        return float(spearmanr(weight, values[:, cols].mean(axis=1)).statistic)

    with warnings.catch_warnings():  # a flat token curve has no rank correlation: rho = nan
        warnings.simplefilter("ignore")
        r = bootstrap(np.arange(values.shape[1]), statistic=rho, n_boot=n_boot, seed=seed)
    return {"rho": r["value"], "low": r["low"], "high": r["high"],
            "tokens_thinking_end": float(values[0].mean()), "tokens_direct_end": float(values[-1].mean()),
            REPLICATES: {"rho": r["replicates"]}}


def paired_cases(frame: pd.DataFrame, a: str = "slerp", b: str = "linear",
                 column: str = "correct") -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Per problem, ``column`` of method ``a`` and of ``b`` averaged over the strengths both evaluated
    (the cases of a paired comparison), and those shared strengths."""
    pp = per_problem(frame[frame["method"].isin([a, b])])
    shared = sorted(set(pp.loc[pp.method == a, "strength"]) & set(pp.loc[pp.method == b, "strength"]))
    if not shared:
        return np.zeros(0), np.zeros(0), []
    table = pp[pp["strength"].isin(shared)].pivot_table(index="problem", columns=["method", "strength"], values=column)
    return table[a].mean(axis=1).to_numpy(), table[b].mean(axis=1).to_numpy(), [float(s) for s in shared]


def method_gap(frame: pd.DataFrame, a: str = "slerp", b: str = "linear", n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """Accuracy and tokens of method ``a`` minus ``b`` pooled over the strengths both evaluated
    (paired per problem), plus the largest per-strength accuracy gap. The claim compares the same
    per-problem cases (``paired_cases``) with ``workbench.claims.compare``."""
    acc_a, acc_b, shared = paired_cases(frame, a, b, "correct")
    if not shared:
        return {"strengths": 0}
    tok_a, tok_b, _ = paired_cases(frame, a, b, "tokens")
    r = bootstrap(acc_a, acc_b, n_boot=n_boot, seed=seed)
    t = bootstrap(tok_a, tok_b, n_boot=n_boot, seed=seed)
    sub = frame[frame["method"].isin([a, b]) & frame["strength"].isin(shared)]
    by_strength = sub.groupby(["method", "strength"])["correct"].mean()
    gaps = (by_strength[a] - by_strength[b]).abs()
    return {"strengths": len(shared), "d_acc": r["value"], "d_acc_low": r["low"], "d_acc_high": r["high"],
            "d_tokens": t["value"], "d_tokens_low": t["low"], "d_tokens_high": t["high"],
            "max_abs_gap": float(gaps.max()), "max_gap_at": float(gaps.idxmax())}


# ---- the parents' weights -------------------------------------------------------------------------
_LAYER = re.compile(r"layers\.(\d+)\.")


def module_kind(name: str) -> str:
    """``model.layers.3.self_attn.q_proj.weight`` -> ``q_proj``; embeddings and norms by name.

    >>> module_kind("model.layers.3.self_attn.q_proj.weight"), module_kind("model.embed_tokens.weight")
    ('q_proj', 'embed_tokens')
    """
    parts = [p for p in name.split(".") if p not in ("weight", "bias")]
    return parts[-1] if parts else name


@torch.no_grad()
def weight_differences(direct: torch.nn.Module, thinking: torch.nn.Module, base: torch.nn.Module) -> pd.DataFrame:
    """Per tensor: relative L2 distance of the parents, task-vector norms (relative to the base), the
    cosine between the two task vectors, and the angle between the parents' tensors."""
    pd_, pt, pb = dict(direct.named_parameters()), dict(thinking.named_parameters()), dict(base.named_parameters())
    rows = []
    for name, w_base in pb.items():
        d, t, b = pd_[name].float().flatten(), pt[name].float().flatten(), w_base.float().flatten()
        tau_d, tau_t = d - b, t - b
        nb = max(float(b.norm()), 1e-12)
        cos_tau = float(torch.nn.functional.cosine_similarity(tau_d, tau_t, dim=0, eps=1e-12))
        cos_w = float(torch.clamp(torch.nn.functional.cosine_similarity(d, t, dim=0, eps=1e-12), -1, 1))
        layer = _LAYER.search(name)
        rows.append({
            "tensor": name, "module": module_kind(name), "layer": int(layer.group(1)) if layer else -1,
            "numel": int(b.numel()),
            "rel_l2_parents": float((d - t).norm()) / max(float(t.norm()), 1e-12),
            "tau_direct_rel": float(tau_d.norm()) / nb, "tau_thinking_rel": float(tau_t.norm()) / nb,
            "cos_task_vectors": cos_tau, "angle_deg": math.degrees(math.acos(cos_w)),
        })
    return pd.DataFrame(rows)


@torch.no_grad()
def global_difference(direct: torch.nn.Module, thinking: torch.nn.Module) -> float:
    """Relative L2 distance of the parents over all parameters, ||d - t|| / ||t||."""
    num = sum(float((a.float() - b.float()).pow(2).sum()) for a, b in zip(direct.parameters(), thinking.parameters()))
    den = sum(float(b.float().pow(2).sum()) for b in thinking.parameters())
    return math.sqrt(num / max(den, 1e-24))


# ---- one tensor, every method (the notebook's explainer) ------------------------------------------
@torch.no_grad()
def tensor_example(direct: torch.nn.Module, thinking: torch.nn.Module, base: torch.nn.Module, tensor: str,
                   entries: int = 12, strength: float = 0.5, density: float = 0.5, seed: int = 0,
                   methods: Sequence[str] | None = None) -> pd.DataFrame:
    """What each merge method does to the first ``entries`` entries of one tensor: the two task
    vectors and each method's merged change from the base, at one strength."""
    from workbench.merging.merge_methods import REGISTRY, merge

    get = lambda m: dict(m.named_parameters())[tensor].detach().float()  # noqa: E731
    d, t, b = get(direct), get(thinking), get(base)
    frame = {"entry": list(range(entries)), "τ direct": (d - b).flatten()[:entries].tolist(),
             "τ thinking": (t - b).flatten()[:entries].tolist()}
    for name in methods or [n for n, spec in REGISTRY.items() if not spec.calibrated]:  # calibrated: needs whole models
        merged = merge(name, d, t, b, strength=strength, density=density, seed=seed, name=tensor)
        frame[name] = (merged - b).flatten()[:entries].tolist()
    return pd.DataFrame(frame)
