"""Scoring predictions: per-case marks, metrics per slice, and the five claims of the method.

Every claim is decided by the one rule of ``workbench.claims``: per-case scores, one array per seed
(paired by record within a seed), a hierarchical bootstrap over seeds and cases; the filter's
min(precision, recall) by a bootstrap over users within each seed, combined over seeds the same way.

Slices: ``overall`` (test users of the training city), ``long_tail`` (those of them in a rare
situation), ``cross_city`` (test users of the other city). A case "fails" at the first stage that is
wrong: ``need``, then ``category``, then ``service`` (the right merchant is not ranked first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench import claims, metrics
from workbench.claims import Claim, ClaimSpec

SLICES = ("overall", "long_tail", "cross_city")
KS = (1, 3, 5)

VARIANTS = {
    "popularity": "popularity in context (sanity floor)",
    "history": "user's own history (sanity floor)",
    "isolated": "isolated pipeline: need classifier + separate recommender",
    "flat": "LM, flat (context → service directly)",
    "raw_sft": "LM, three-stage, raw logs, SFT",
    "clustered_sft": "LM, three-stage, clustered, SFT only",
    "sft_more": "LM, three-stage, clustered, SFT continued at RL's compute",
    "rl_sparse": "LM, three-stage, clustered, RL with the full-path reward only",
    "full": "full framework: clustered, curriculum SFT + curriculum RL",
}


def mark_cases(cases: pd.DataFrame, preds: pd.DataFrame, variant: str) -> pd.DataFrame:
    """One row per case with the prediction, the truth and right/wrong per stage."""
    ranked = [list(s) for s in preds["services"]]
    targets = cases["merchant"].tolist()
    out = pd.DataFrame({
        "variant": variant, "record": cases["record"].to_numpy(), "user": cases["user"].to_numpy(),
        "city": cases["city"].to_numpy(), "slice_set": cases["set"].to_numpy(), "long_tail": cases["long_tail"].to_numpy(),
        "need": cases["need"].to_numpy(), "need_text": cases["need_text"].to_numpy(),
        "category": cases["category"].to_numpy(), "merchant": targets,
        "need_pred": preds["need_pred"].to_numpy(), "need_text_pred": preds["need_text_pred"].to_numpy(),
        "category_pred": preds["category_pred"].to_numpy(), "services": ranked,
        "completion": preds["completion"].to_numpy(),
    })
    has_chain = out["need_pred"].notna()
    out["need_ok"] = np.where(has_chain, out["need"] == out["need_pred"], np.nan)
    out["category_ok"] = np.where(has_chain, out["category"] == out["category_pred"], np.nan)
    for k in KS:
        out[f"hit{k}"] = metrics.hit_at_k(ranked, targets, k)
    out["ndcg5"] = metrics.ndcg_at_k(ranked, targets, 5)
    out["rr"] = metrics.reciprocal_rank(ranked, targets)
    out["failed_stage"] = np.select(
        [has_chain & (out["need_ok"] == 0), has_chain & (out["category_ok"] == 0), out["hit1"] == 0],
        ["need", "category", "service"], default="none")
    return out


def slice_mask(marked: pd.DataFrame, name: str) -> pd.Series:
    if name == "overall":
        return marked["slice_set"] == "test"
    if name == "long_tail":
        return (marked["slice_set"] == "test") & marked["long_tail"].astype(bool)
    if name == "cross_city":
        return marked["slice_set"] == "cross_city"
    raise ValueError(name)


def metrics_table(marked: pd.DataFrame, needs: list[str]) -> pd.DataFrame:
    """Need accuracy and macro-F1, category accuracy, HR@1/3/5, NDCG@5 per variant and slice."""
    rows = []
    for (seed, variant), group in marked.groupby(["seed", "variant"], sort=False):
        for name in SLICES:
            part = group[slice_mask(group, name)]
            row = {"seed": seed, "variant": variant, "slice": name, "cases": len(part)}
            chain = part["need_pred"].notna()
            row["need_acc"] = float(part["need_ok"].mean()) if chain.any() else np.nan
            row["need_macro_f1"] = metrics.macro_f1(part["need"], part["need_pred"].astype(str), labels=needs) if chain.any() else np.nan
            row["category_acc"] = float(part["category_ok"].mean()) if chain.any() else np.nan
            for k in KS:
                row[f"HR@{k}"] = float(part[f"hit{k}"].mean()) if len(part) else np.nan
            row["NDCG@5"] = float(part["ndcg5"].mean()) if len(part) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


# ---- claims --------------------------------------------------------------------------------------
CLAIMS = [
    ClaimSpec("needs.filter", "needs", "Behavioral clustering finds the planted accidental records (precision and recall both high).",
              "min(precision, recall) of the filter vs planted accidental flags (high = at least 0.7)",
              "the filter", "the 0.7 bar", "min(precision, recall) against the planted accidental records"),
    ClaimSpec("needs.clustered_vs_raw", "needs", "Clustered training beats raw training, most on the long-tail slice.",
              "HR@3 clustered SFT - raw SFT on the long-tail slice (must be > 0 and > the overall gain)",
              "clustered SFT", "raw SFT", "HR@3 on the long-tail slice"),
    ClaimSpec("needs.three_stage_vs_flat", "needs", "Three-stage reasoning beats flat service prediction, most cross-city.",
              "HR@3 three-stage SFT - flat SFT cross-city (must be > 0 and > the in-city gain)",
              "three-stage SFT", "flat SFT", "HR@3 cross-city"),
    ClaimSpec("needs.curriculum_rl", "needs", "Curriculum RL beats SFT only and beats RL with only the sparse full-path reward.",
              "HR@3 full - clustered SFT only (must be > 0, and full - sparse-reward RL > 0)",
              "curriculum RL (full)", "clustered SFT only", "HR@3 on all test cases"),
    ClaimSpec("needs.joint_vs_isolated", "needs", "The full framework beats the isolated pipeline on need accuracy and HR@K.",
              "HR@3 full - isolated pipeline, overall (must be > 0, and need accuracy too)",
              "the full framework", "the isolated pipeline", "HR@3 on all test cases"),
]


def _per_seed(marked: pd.DataFrame, a: str, b: str, column: str, slice_name: str) -> tuple[list, list]:
    """``column`` of variants a and b on one slice: one array per seed, paired by record within the seed."""
    part = marked[slice_mask(marked, slice_name)]
    left, right = [], []
    for seed in sorted(part["seed"].unique()):
        rows = part[part["seed"] == seed]
        pair = pd.merge(rows.loc[rows["variant"] == a, ["record", column]], rows.loc[rows["variant"] == b, ["record", column]],
                        on="record", suffixes=("_a", "_b")).sort_values("record")
        left.append(pair[f"{column}_a"].to_numpy(dtype=float))
        right.append(pair[f"{column}_b"].to_numpy(dtype=float))
    return left, right


def _compare(marked: pd.DataFrame, a: str, b: str, column: str, slice_name: str) -> claims.Comparison:
    """a - b on one slice by the one rule of ``workbench.claims`` (every seed, paired by record)."""
    return claims.compare(*_per_seed(marked, a, b, column, slice_name))


def filter_bootstrap(history: pd.DataFrame, index: int = 0) -> dict:
    """min(precision, recall) of the filter on one seed's history, bootstrapped over users.

    A cluster bootstrap: resampling users draws all of a user's records together. Precision and recall
    are ratios of sums over records, so each user enters as three counts (dropped accidental records,
    dropped records, accidental records) and a replicate sums the counts of the drawn users — the same
    as gathering their records, without copying them. ``index`` seeds the resampling (the seed's position).
    """
    dropped = ~history["kept"].astype(bool).to_numpy()
    accidental = history["accidental"].fillna(False).to_numpy(dtype=bool)
    per_user = pd.DataFrame({"user": history["user"].to_numpy(), "hits": dropped & accidental, "dropped": dropped,
                             "accidental": accidental}).groupby("user", sort=True).sum()

    def min_precision_recall(hits, dropped, accidental) -> float:
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(np.minimum(hits.sum() / dropped.sum(), hits.sum() / accidental.sum()))

    return metrics.bootstrap(*(per_user[c].to_numpy(dtype=float) for c in ("hits", "dropped", "accidental")),
                             statistic=min_precision_recall, n_boot=claims.N_BOOT, seed=index)


def _fmt(x: float) -> str:
    return "nan" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.3f}"


def compute_claims(marked: pd.DataFrame, filter_rows: list[dict], filter_boots: list[dict], dataset: str,
                   profile: str) -> list[dict]:
    """The five claims with measured values, comparison values and intervals (verdicts from the numbers).

    ``filter_rows`` are the seeds' filter quality rows and ``filter_boots`` their ``filter_bootstrap``
    (both empty on real data without planted flags). Every interval uses every seed, by the one rule
    of ``workbench.claims``.
    """
    seeds = int(marked["seed"].nunique()) if len(marked) else 0
    variants = set(marked["variant"]) if len(marked) else set()
    common = {"seeds": seeds, "dataset": dataset, "profile": profile}
    rows = []

    # 1. the filter
    spec = CLAIMS[0]
    quality = [q for q in filter_rows if q.get("precision") is not None and not np.isnan(q.get("precision", np.nan))]
    if quality and filter_boots:
        est = claims.over_seeds([b["value"] for b in filter_boots], [b["replicates"] for b in filter_boots])
        prec = np.mean([q["precision"] for q in quality])
        rec = np.mean([q["recall"] for q in quality])
        rows.append(Claim.from_spec(spec, value=est.value, reference=0.7, interval=est.interval,
                                    a_value=est.value, b_value=0.7, reproduced=bool(prec >= 0.7 and rec >= 0.7),
                                    also=f"precision {claims.number(prec)}, recall {claims.number(rec)} (both must reach .700)",
                                    note=(
            f"precision {prec:.3f}, recall {rec:.3f}; accidental share of kept history "
            f"{np.mean([q['accidental_share_before'] for q in quality]):.3f} -> "
            f"{np.mean([q['accidental_share_after'] for q in quality]):.3f}; clean records dropped "
            f"{np.mean([q['clean_dropped_share'] for q in quality]):.3f}"), **common).to_dict())
    else:
        rows.append(Claim.from_spec(spec, note="no planted accidental flags in this dataset (real data)", **common).to_dict())

    def diff_claim(spec, a, b, focus, base, extra_check=None):
        if not {a, b} <= variants:
            return Claim.from_spec(spec, note=f"variant {a} or {b} not built", **common).to_dict()
        main = _compare(marked, a, b, "hit3", focus)
        other = _compare(marked, a, b, "hit3", base) if base else None
        ok = main.holds(1) and (other is None or main.diff > other.diff)
        note = f"HR@3 {a} {_fmt(main.a)} vs {b} {_fmt(main.b)} on {focus} (n={main.n})"
        also = []
        if other is not None:
            note += f"; {base}: {_fmt(other.a)} vs {_fmt(other.b)} (diff {_fmt(other.diff)})"
            also.append(f"{'on all test cases' if base == 'overall' else f'on {base}'} the gain is "
                        f"{claims.number(other.diff, True)} (must be smaller)")
        if extra_check is not None:
            extra_ok, text = extra_check()
            ok = ok and extra_ok
            note += "; " + text
            also.append(text)
        return Claim.from_spec(spec, value=main.diff, reference=other.diff if other is not None else main.b,
                               **claims.compared(main), also="; ".join(also), reproduced=ok, note=note,
                               **common).to_dict()

    rows.append(diff_claim(CLAIMS[1], "clustered_sft", "raw_sft", "long_tail", "overall"))
    rows.append(diff_claim(CLAIMS[2], "clustered_sft", "flat", "cross_city", "overall"))

    def interval(c: claims.Comparison) -> str:
        return f"{claims.number(c.diff, True)} [{claims.number(c.low, True)}, {claims.number(c.high, True)}]"

    def vs_sparse():
        if "rl_sparse" not in variants:
            return False, "sparse-reward RL not built"
        res = _compare(marked, "full", "rl_sparse", "hit3", "overall")
        more = ""
        if "sft_more" in variants:
            more = f"; full − continued SFT at equal compute {interval(_compare(marked, 'full', 'sft_more', 'hit3', 'overall'))}"
        return res.holds(1), f"full − sparse-reward RL {interval(res)} (must be > 0){more}"

    rows.append(diff_claim(CLAIMS[3], "full", "clustered_sft", "overall", None, vs_sparse))

    def need_too():
        res = _compare(marked, "full", "isolated", "need_ok", "overall")
        return res.holds(1), (f"need accuracy {claims.number(res.a)} vs {claims.number(res.b)}, {interval(res)} "
                              "(must be > 0)")

    rows.append(diff_claim(CLAIMS[4], "full", "isolated", "overall", None, need_too))
    return rows
