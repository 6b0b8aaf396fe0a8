"""The GLASS claims, measured: each row's numbers, 95% interval and verdict come from the per-case tables.

Every comparison goes through the project's one rule, ``workbench.claims.compare``: per-case scores
of two systems, one array per seed, paired within a seed (every system is scored on the same held-out
cases of that seed); the interval is the hierarchical bootstrap over seeds and cases. With one seed it
is the paired bootstrap over cases; with any number of seeds every seed is used. A claim whose
systems were not run in this profile is reported with ``reproduced = None`` and says so.

The noise claim compares two gains, (GLASS − TIGER) at base noise and at high noise. The noisy world
is the base world with noisier item embeddings only (``world.noisy_twin``: the same users, sequences
and cases — tested), so each test case has both gains and ``compare`` runs on the per-case arrays
``glass − tiger`` vs ``glass_noisy − tiger_noisy``: a paired difference of differences. (Were the
cases different, each seed's gains would need an unpaired bootstrap and ``claims.over_seeds``.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.claims import Claim, ClaimSpec, compare, number, row

CLAIMS = [
    ClaimSpec("glass.overall", "glass", "GLASS beats TIGER on the whole test set.",
              "Recall@10 GLASS − TIGER (all test cases)", "GLASS", "TIGER", "Recall@10 on all test cases"),
    ClaimSpec("glass.absent_slice", "glass",
              "GLASS's gain is largest when the next item's topic is absent from the short window.",
              "Recall@10 GLASS − TIGER on the absent-topic slice (and larger than on the continuing slice)",
              "GLASS", "TIGER", "Recall@10 on the absent-topic slice"),
    ClaimSpec("glass.sid_tier_c1", "glass", "SID-Tier lifts first-code (c1) accuracy.",
              "c1 accuracy (teacher forcing) TIGER+SID-Tier − TIGER", "TIGER + SID-Tier", "TIGER",
              "c1 accuracy (teacher forcing) on all test cases"),
    ClaimSpec("glass.search_c23", "glass", "Semantic hard search lifts second- and third-code accuracy.",
              "mean c2/c3 accuracy (teacher forcing) TIGER+hard search − TIGER", "TIGER + hard search", "TIGER",
              "mean c2/c3 accuracy (teacher forcing) on all test cases"),
    ClaimSpec("glass.resizing", "glass", "Codebook resizing (a smaller first level) helps GLASS.",
              "Recall@10 GLASS(resized codebook) − GLASS", "GLASS (resized codebook)", "GLASS",
              "Recall@10 on all test cases"),
    ClaimSpec("glass.noise", "glass", "GLASS's gain over TIGER shrinks as item embeddings get noisier.",
              "(Recall@10 GLASS − TIGER) at base noise − the same at high noise", "the gain at base noise",
              "the gain with noisy embeddings", "Recall@10 GLASS − TIGER on all test cases"),
]


def _col(tables: list[dict[str, pd.DataFrame]], system: str, column: str, absent: bool | None = None) -> list[np.ndarray]:
    """Per-case ``column`` of ``system``, one array per seed (only the absent or continuing slice if asked)."""
    out = []
    for per_case in tables:
        t = per_case[system]
        values = t[column].to_numpy(dtype=float)
        out.append(values if absent is None else values[t["absent"].to_numpy() == absent])
    return out


def claim_rows(tables: list[dict[str, pd.DataFrame]], dataset: str, profile: str) -> list[dict]:
    """claims.json rows from the per-case tables of every seed (``tables[s][system]``)."""
    have = set(tables[0])
    common = {"seeds": len(tables), "dataset": dataset, "profile": profile}
    col = lambda system, column, absent=None: _col(tables, system, column, absent)  # noqa: E731
    s_overall, s_absent, s_tier, s_search, s_resize, s_noise = CLAIMS
    rows = []

    def missing(spec, systems):
        rows.append(Claim.from_spec(spec, note=f"not measured: system(s) {', '.join(sorted(set(systems) - have))} "
                                                "not run in this profile/dataset", **common))

    if {"glass", "tiger"} <= have:
        c = compare(col("glass", "Recall@10"), col("tiger", "Recall@10"))
        g, t = c.a, c.b
        rel = (g - t) / t if t > 0 else float("nan")
        r1 = compare(col("glass", "Recall@1"), col("tiger", "Recall@1"))
        rows.append(row(s_overall, c, note=f"R@10 {g:.3f} vs {t:.3f} ({rel:+.0%}); R@1 {r1.a:.3f} vs {r1.b:.3f}. "
                                           "Paper (TAOBAO-MM): H@1 +33%.", **common))
        absent = compare(col("glass", "Recall@10", True), col("tiger", "Recall@10", True))
        cont = compare(col("glass", "Recall@10", False), col("tiger", "Recall@10", False))
        ga, ta, gc, tc = absent.a, absent.b, cont.a, cont.b
        rows.append(row(s_absent, absent, reproduced=absent.holds() and (ga - ta) > (gc - tc),
                        also=f"on the continuing slice the gain is {number(gc - tc, True)} (must be smaller)",
                        note=f"absent slice {ga:.3f} vs {ta:.3f} ({ga - ta:+.3f}); continuing slice {gc:.3f} vs {tc:.3f} "
                             f"({gc - tc:+.3f})", **common))
    else:
        missing(s_overall, {"glass", "tiger"})
        missing(s_absent, {"glass", "tiger"})

    if {"tier_only", "tiger"} <= have:
        c = compare(col("tier_only", "c1 acc"), col("tiger", "c1 acc"))
        top3 = compare(col("tier_only", "c1@3", True), col("tiger", "c1@3", True))
        rows.append(row(s_tier, c, note=f"c1 accuracy {c.a:.3f} vs {c.b:.3f}; on the absent slice the true c1 is among "
                                        f"the top 3 first codes {top3.a:.2f} vs {top3.b:.2f}", **common))
    else:
        missing(s_tier, {"tier_only", "tiger"})

    if {"search_only", "tiger"} <= have:
        avg = lambda sys: [(x + y) / 2 for x, y in zip(col(sys, "c2 acc"), col(sys, "c3 acc"))]  # noqa: E731
        c = compare(avg("search_only"), avg("tiger"))
        c2 = compare(col("search_only", "c2 acc", True), col("tiger", "c2 acc", True))
        rows.append(row(s_search, c, note=f"mean c2/c3 accuracy {c.a:.3f} vs {c.b:.3f}; c2 accuracy on the absent slice "
                                          f"{c2.a:.3f} vs {c2.b:.3f}", **common))
    else:
        missing(s_search, {"search_only", "tiger"})

    if {"resized", "glass"} <= have:
        c = compare(col("resized", "Recall@10"), col("glass", "Recall@10"))
        rows.append(row(s_resize, c, note=f"R@10 resized {c.a:.3f} vs base codebook {c.b:.3f}", **common))
    else:
        missing(s_resize, {"resized", "glass"})

    if {"glass", "tiger", "glass_noisy", "tiger_noisy"} <= have:
        gain = [g - t for g, t in zip(col("glass", "Recall@10"), col("tiger", "Recall@10"))]
        gain_noisy = [g - t for g, t in zip(col("glass_noisy", "Recall@10"), col("tiger_noisy", "Recall@10"))]
        c = compare(gain, gain_noisy)
        rows.append(row(s_noise, c, note=f"GLASS − TIGER R@10: {c.a:+.3f} at base noise, {c.b:+.3f} with noisy "
                                         "embeddings", **common))
    else:
        missing(s_noise, {"glass", "tiger", "glass_noisy", "tiger_noisy"})
    return [r.to_dict() for r in rows]
