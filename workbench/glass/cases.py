"""GLASS case by case: every system's hits per held-out user (for ``workbench.compare``) and a few
featured cases picked by stated rules.

A case is one test user (its row in ``test_cases``). Outcomes: ``Hit@10``, ``Hit@5``, ``Hit@1`` of
the system's ranked list (= Recall@K, one target per case). Slices: the target's topic absent from the
short window or continuing it, and the long history's length (top half / bottom half).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.compare import CaseFrame, Featured
from workbench.glass.systems import LABELS

OUTCOMES = ("Hit@10", "Hit@5", "Hit@1")
SLICES = {"absent topic": ("topic", "absent"), "continuing topic": ("topic", "continuing"),
          "long history (top half)": ("history", "long"), "short history (bottom half)": ("history", "short")}


def systems_of(run) -> list[str]:
    """The systems with per-case tables in this run, in the study's order."""
    folder = run.path / "per_case"
    names = [p.stem for p in sorted(folder.glob("*.parquet"))] if folder.exists() else []
    return [s for s in LABELS if s in names] + [s for s in names if s not in LABELS]


def case_frame(per_case: dict[str, pd.DataFrame], test_cases: pd.DataFrame) -> CaseFrame:
    """Every system's hits per test case (``per_case``: system -> its per-case table)."""
    length = test_cases["long history"].to_numpy()
    attrs = pd.DataFrame({"case": np.arange(len(test_cases)), "user": test_cases["user"].to_numpy(),
                          "topic": np.where(test_cases["absent"].to_numpy(bool), "absent", "continuing"),
                          "long history": length,
                          "history": np.where(length >= np.median(length), "long", "short")})
    frames = [attrs.assign(variant=name, **{k: t[k].to_numpy(dtype=float) for k in OUTCOMES})
              for name, t in per_case.items()]
    cases = pd.concat(frames, ignore_index=True)
    return CaseFrame(cases, OUTCOMES, SLICES, {s: LABELS.get(s, s) for s in per_case},
                     show=("user", "topic", "long history"))


def rank_of(beams: pd.DataFrame, target: int) -> int | None:
    """The rank of ``target`` in one case's beams (None when it is not among them)."""
    hit = beams.loc[beams["item"] == target, "rank"]
    return int(hit.min()) if len(hit) else None


def featured_cases(per_case: dict[str, pd.DataFrame], test_cases: pd.DataFrame, items: pd.DataFrame,
                   beams: dict[str, pd.DataFrame], walk: dict, limit: int = 4) -> list[Featured]:
    """GLASS vs TIGER cases worth opening, each found by the rule its reason states (lowest case id)."""
    if not {"tiger", "glass"} <= set(per_case):
        return []
    target = test_cases["target"].to_numpy()
    glass_hit = per_case["glass"]["Hit@10"].to_numpy() == 1
    tiger_hit = per_case["tiger"]["Hit@10"].to_numpy() == 1
    absent = test_cases["absent"].to_numpy(bool)
    out: list[Featured] = []
    ranked = {name: b.sort_values(["case", "rank"]) for name, b in beams.items()}

    def rank(system: str, case: int) -> str:
        if system not in ranked:
            return ""
        r = rank_of(ranked[system][ranked[system]["case"] == case], int(target[case]))
        return f" #{r}" if r else ""

    # 1. hard search brought the target: it sits in the user's bucket of its own c1, TIGER started elsewhere
    if "tiger" in ranked and "bucket_offsets" in walk:
        top = ranked["tiger"].drop_duplicates("case").set_index("case")["c1"]
        c1 = items.set_index("item").loc[target, "c1"].to_numpy()
        for case in np.flatnonzero(glass_hit & ~tiger_hit):
            lo, hi = int(walk["bucket_offsets"][case]), int(walk["bucket_offsets"][case + 1])
            bucket = walk["bucket_items"][lo:hi][walk["bucket_codes"][lo:hi] == c1[case]]
            if case in top.index and top[case] != c1[case] and (bucket == target[case]).any():
                out.append(Featured(int(case), f"hard search found the target in the user's c1={c1[case]} bucket "
                                    f"and GLASS ranks it{rank('glass', case)}, while TIGER's first code was "
                                    f"{int(top[case])} (wrong)", "glass", "tiger"))
                break
    taken = {f.case for f in out}
    pick = [c for c in np.flatnonzero(glass_hit & ~tiger_hit & absent) if int(c) not in taken]
    if pick:
        out.append(Featured(int(pick[0]), f"absent topic: the next item's topic is not in the short window; GLASS "
                            f"ranks it{rank('glass', pick[0])} from the long history, TIGER misses it", "glass", "tiger"))
    pick = [c for c in np.flatnonzero(tiger_hit & ~glass_hit) if int(c) not in taken]
    if pick:
        out.append(Featured(int(pick[0]), f"a loss for GLASS: TIGER ranks the target{rank('tiger', pick[0])}, "
                            "GLASS does not have it in its top 10", "glass", "tiger"))
    pick = [c for c in np.flatnonzero(glass_hit & tiger_hit & ~absent) if int(c) not in taken]
    if pick:
        out.append(Featured(int(pick[0]), f"a continuing topic both find: TIGER{rank('tiger', pick[0])}, "
                            f"GLASS{rank('glass', pick[0])}", "glass", "tiger"))
    return out[:limit]
