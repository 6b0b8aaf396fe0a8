"""The five claims of the living-needs method, measured from the marked predictions of every seed.

Every claim is decided by the one rule of ``workbench.claims``: per-case scores, one array per seed
(paired by record within a seed), a hierarchical bootstrap over seeds and cases; the filter's
min(precision, recall) by a bootstrap over users within each seed, combined over seeds the same way.
Each row is built by ``claims.row``, so its ``a_value``, ``b_value``, ``diff`` and ``interval`` are of
one quantity (HR@3 of the two variants on the claim's slice; the filter's min(precision, recall)
against its 0.7 bar). A claim's second condition (a larger gain than elsewhere, a second comparison)
is in the row's ``also`` and enters its verdict.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from workbench import claims, metrics
from workbench.claims import Claim, ClaimSpec
from workbench.needs.evaluate import slice_mask

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
SPECS = {spec.id: spec for spec in CLAIMS}
FILTER_BAR = 0.7


def per_seed(marked: pd.DataFrame, a: str, b: str, column: str, slice_name: str) -> tuple[list, list]:
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
    return claims.compare(*per_seed(marked, a, b, column, slice_name))


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


def _with_interval(c: claims.Comparison) -> str:
    return f"{claims.number(c.diff, True)} [{claims.number(c.low, True)}, {claims.number(c.high, True)}]"


def filter_row(filter_rows: list[dict], filter_boots: list[dict], **common) -> Claim:
    """min(precision, recall) over seeds against the 0.7 bar; reproduced when the mean precision and
    the mean recall both reach the bar."""
    spec = SPECS["needs.filter"]
    quality = [q for q in filter_rows if q.get("precision") is not None and not np.isnan(q.get("precision", np.nan))]
    if not (quality and filter_boots):
        return Claim.from_spec(spec, note="no planted accidental flags in this dataset (real data)", **common)
    est = claims.over_seeds([b["value"] for b in filter_boots], [b["replicates"] for b in filter_boots])
    prec = np.mean([q["precision"] for q in quality])
    rec = np.mean([q["recall"] for q in quality])
    share = lambda key: np.mean([q[key] for q in quality])  # noqa: E731
    return claims.row(spec, est, FILTER_BAR, reproduced=bool(prec >= FILTER_BAR and rec >= FILTER_BAR),
                      also=f"precision {claims.number(prec)}, recall {claims.number(rec)} (both must reach .700)",
                      note=(f"precision {prec:.3f}, recall {rec:.3f}; accidental share of kept history "
                            f"{share('accidental_share_before'):.3f} -> {share('accidental_share_after'):.3f}; "
                            f"clean records dropped {share('clean_dropped_share'):.3f}"), **common)


def _beats_sparse_rl(marked: pd.DataFrame, variants: set) -> tuple[bool, str]:
    """The curriculum-RL claim's second condition: full beats RL with the sparse reward only."""
    if "rl_sparse" not in variants:
        return False, "sparse-reward RL not built"
    res = _compare(marked, "full", "rl_sparse", "hit3", "overall")
    more = ""
    if "sft_more" in variants:
        more = f"; full − continued SFT at equal compute {_with_interval(_compare(marked, 'full', 'sft_more', 'hit3', 'overall'))}"
    return res.holds(1), f"full − sparse-reward RL {_with_interval(res)} (must be > 0){more}"


def _need_accuracy_too(marked: pd.DataFrame, variants: set) -> tuple[bool, str]:
    """The joint-vs-isolated claim's second condition: need accuracy is higher too."""
    res = _compare(marked, "full", "isolated", "need_ok", "overall")
    return res.holds(1), (f"need accuracy {claims.number(res.a)} vs {claims.number(res.b)}, {_with_interval(res)} "
                          "(must be > 0)")


def gain_row(marked: pd.DataFrame, spec: ClaimSpec, a: str, b: str, focus: str, base: str | None = None,
             further: Callable[[pd.DataFrame, set], tuple[bool, str]] | None = None, **common) -> Claim:
    """HR@3 of variant a − variant b on the ``focus`` slice; reproduced when its interval lies above 0,
    the gain there beats the gain on ``base`` (if given) and ``further`` (if given) holds too."""
    variants = set(marked["variant"]) if len(marked) else set()
    if not {a, b} <= variants:
        return Claim.from_spec(spec, note=f"variant {a} or {b} not built", **common)
    main = _compare(marked, a, b, "hit3", focus)
    other = _compare(marked, a, b, "hit3", base) if base else None
    ok = main.holds(1) and (other is None or main.diff > other.diff)
    note = f"HR@3 {a} {_fmt(main.a)} vs {b} {_fmt(main.b)} on {focus} (n={main.n})"
    also = []
    if other is not None:
        note += f"; {base}: {_fmt(other.a)} vs {_fmt(other.b)} (diff {_fmt(other.diff)})"
        also.append(f"{'on all test cases' if base == 'overall' else f'on {base}'} the gain is "
                    f"{claims.number(other.diff, True)} (must be smaller)")
    if further is not None:
        further_ok, text = further(marked, variants)
        ok = ok and further_ok
        note += "; " + text
        also.append(text)
    return claims.row(spec, main, also="; ".join(also), reproduced=ok, note=note, **common)


def claim_rows(marked: pd.DataFrame, filter_rows: list[dict], filter_boots: list[dict], dataset: str,
               profile: str) -> list[dict]:
    """The claims.json rows: the five claims with their measured numbers and verdicts.

    ``filter_rows`` are the seeds' filter quality rows and ``filter_boots`` their ``filter_bootstrap``
    (both empty on real data without planted flags). Every interval uses every seed.
    """
    common = {"seeds": int(marked["seed"].nunique()) if len(marked) else 0, "dataset": dataset, "profile": profile}
    rows = [
        filter_row(filter_rows, filter_boots, **common),
        gain_row(marked, SPECS["needs.clustered_vs_raw"], "clustered_sft", "raw_sft", "long_tail", base="overall", **common),
        gain_row(marked, SPECS["needs.three_stage_vs_flat"], "clustered_sft", "flat", "cross_city", base="overall", **common),
        gain_row(marked, SPECS["needs.curriculum_rl"], "full", "clustered_sft", "overall", further=_beats_sparse_rl, **common),
        gain_row(marked, SPECS["needs.joint_vs_isolated"], "full", "isolated", "overall", further=_need_accuracy_too,
                 **common),
    ]
    return [r.to_dict() for r in rows]
