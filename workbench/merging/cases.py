"""Merges case by case: every merge setting's answer per evaluation output (for ``workbench.compare``)
and a few featured cases picked by stated rules.

A case is one (problem, sample) output. Every setting draws sample *s* of problem *p* from the same
random stream (the sweep seeds sampling per difficulty group), so two settings are paired on it.
Outcome: ``correct``; beside it ``tokens`` (compared as a mean); slices: the difficulty (operations).
A setting is one (method, λ); linear at λ = 0 is the thinking parent and at λ = 1 the direct one.
The sweep keeps the text of sample 0 of a few problems per difficulty (``examples``); a featured case
is picked among those when it can be, so its generations can be read.
"""

from __future__ import annotations

import pandas as pd

from workbench.compare import CaseFrame, Featured
from workbench.merging import world
from workbench.merging.config import Config
from workbench.merging.claims import PARENT_ROWS
from workbench.merging.parents import eval_problems


def setting(method: str, strength: float) -> str:
    """The variant name of one merge setting: ``linear λ=0.25``."""
    return f"{method} λ={float(strength):g}"


def parse_setting(name: str) -> tuple[str, float]:
    """(method, λ) of a variant name made by :func:`setting`.

    >>> parse_setting(setting("ties", 0.35))
    ('ties', 0.35)
    """
    method, strength = name.split(" λ=")
    return method, float(strength)


def problems_of(config: dict) -> dict[int, world.Problem]:
    """Every evaluation problem of a run (``run.config``), by id, regenerated from their seed: every case
    can show its question (the sweep stores text for a few only)."""
    return {p.id: p for p in eval_problems(Config.from_dict(dict(config)))}


def setting_labels(summary: pd.DataFrame) -> dict[str, str]:
    """Variant -> label for every (method, λ) of the sweep, parents named, in method then λ order."""
    parents = {v: k for k, v in PARENT_ROWS.items()}
    labels = {}
    for method, strength in summary[["method", "strength"]].itertuples(index=False):
        name = setting(method, strength)
        who = parents.get((method, float(strength)))
        labels[name] = f"{name} ({who} parent)" if who else name
    order = sorted(labels, key=lambda v: (v.split(" λ=")[0] != "linear", v.split(" λ=")[0], float(v.split("=")[1])))
    return {v: labels[v] for v in order}


def case_frame(outputs: pd.DataFrame, summary: pd.DataFrame) -> CaseFrame:
    """Every setting's output per (problem, sample) of the first seed (``outputs`` of the run)."""
    first = outputs[outputs["seed"] == outputs["seed"].iloc[0]] if "seed" in outputs else outputs
    names = first["method"].astype(str) + " λ=" + first["strength"].map({s: f"{s:g}" for s in first["strength"].unique()})
    frame = pd.DataFrame({
        "case": first["problem"].astype(str) + "/" + first["sample"].astype(str),
        "variant": names.astype("category"),  # 70-odd settings over 100k+ rows: compared often
        "correct": first["correct"].astype(float).to_numpy(),
        "tokens": first["tokens"].to_numpy(), "thinking": first["thinking"].to_numpy(),
        "problem": first["problem"].to_numpy(), "sample": first["sample"].to_numpy(),
        "ops": first["n_ops"].to_numpy(),
    })
    slices = {f"{n} operation{'s' if n != 1 else ''}": ("ops", int(n)) for n in sorted(frame["ops"].unique())}
    return CaseFrame(frame, ("correct",), slices, setting_labels(summary), show=("problem", "sample", "ops"),
                     numbers=("tokens",))


def featured_setting(summary: pd.DataFrame) -> str | None:
    """The merge to feature: the most accurate non-parent setting that thinks less than the thinking
    parent (mean tokens at most 80% of it); else the most accurate non-parent setting."""
    parents = set(PARENT_ROWS.values())
    rows = summary[[(m, float(s)) not in parents for m, s in zip(summary["method"], summary["strength"])]]
    thinking = summary[(summary["method"] == PARENT_ROWS["thinking"][0]) & (summary["strength"] == PARENT_ROWS["thinking"][1])]
    if rows.empty:
        return None
    if len(thinking):
        lean = rows[rows["tokens"] <= 0.8 * float(thinking["tokens"].iloc[0])]
        rows = lean if len(lean) else rows
    best = rows.sort_values(["accuracy", "tokens"], ascending=[False, True]).iloc[0]
    return setting(best["method"], best["strength"])


def featured_cases(frame: CaseFrame, summary: pd.DataFrame, examples: pd.DataFrame,
                   problems: dict[int, world.Problem] | None = None, limit: int = 4) -> list[Featured]:
    """Outputs worth opening, each found by the rule its reason states (shown text first, then the
    hardest problem, then the lowest problem id). With ``problems`` (``problems_of``), also a drift
    case when the stored texts hold one (an overthinking dial above 0 plants them)."""
    merge = featured_setting(summary)
    thinking, direct = (setting(*PARENT_ROWS[k]) for k in ("thinking", "direct"))
    if merge is None or not {merge, thinking, direct} <= set(frame.variants):
        return []
    rows = frame.cases[frame.cases["variant"].isin([merge, thinking, direct])]
    wide = rows.pivot_table(index=["case", "problem", "sample", "ops"], columns="variant", values=["correct", "tokens"],
                            aggfunc="first").dropna()
    ok = lambda v: wide[("correct", v)] == 1  # noqa: E731
    tok = lambda v: wide[("tokens", v)]  # noqa: E731
    shown = set(examples.loc[examples["method"].astype(str) + " λ=" + examples["strength"].map(lambda s: f"{s:g}") == merge,
                             "problem"])
    index = wide.index.to_frame(index=False)
    index["has_text"] = index["problem"].isin(shown) & (index["sample"] == 0)

    def pick(mask: pd.Series) -> pd.Series | None:
        rows = index[mask.to_numpy()]
        if rows.empty:
            return None
        return rows.sort_values(["has_text", "ops", "problem"], ascending=[False, False, True]).iloc[0]

    out = []
    saving = 1 - tok(merge) / tok(thinking)
    row = pick(ok(merge) & ok(thinking) & (saving >= 0.3))
    if row is not None:
        s = float(saving.loc[tuple(row[["case", "problem", "sample", "ops"]])])
        out.append(Featured(row["case"], f"the {merge} merge answers this {row['ops']}-operation problem with {s:.0%} "
                            "fewer tokens than the thinking parent and is still right", merge, thinking))
    drift = drift_case(wide, examples, problems or {}, merge, thinking)
    if drift is not None:
        out.append(drift)
    row = pick(ok(merge) & ~ok(direct))
    if row is not None:
        out.append(Featured(row["case"], f"the {merge} merge solves this {row['ops']}-operation problem; the direct "
                            "parent answers it wrong", merge, direct))
    row = pick(~ok(merge) & ok(thinking))
    if row is not None:
        out.append(Featured(row["case"], f"a loss for the merge: the thinking parent solves this {row['ops']}-operation "
                            f"problem, the {merge} merge does not", merge, thinking))
    return out[:limit]


def drift_case(wide: pd.DataFrame, examples: pd.DataFrame, problems: dict[int, world.Problem], merge: str,
               thinking: str) -> Featured | None:
    """A stored thinking-parent output that drifted (``world.error_kind``: a step had the answer, a
    re-check rewrote it, it ended wrong) on which ``merge`` is right with fewer tokens; hardest first."""
    if not problems:
        return None
    method, strength = parse_setting(thinking)
    texts = examples[(examples["method"] == method) & (examples["strength"] == strength)]
    found = []
    for problem, text in zip(texts["problem"], texts["text"]):
        key = next((k for k in wide.index if k[1] == problem and k[2] == 0), None)
        if problem not in problems or key is None or world.error_kind(problems[problem], text) != "drift":
            continue
        if wide.loc[key, ("correct", merge)] == 1 and wide.loc[key, ("tokens", merge)] < wide.loc[key, ("tokens", thinking)]:
            found.append(key)
    if not found:
        return None
    case, problem, _, ops = max(found, key=lambda k: (k[3], -k[1]))
    return Featured(case, f"drift: the thinking parent had the answer to this {ops}-operation problem, re-checked and "
                    f"lost it; the {merge} merge stopped earlier and stayed right", merge, thinking)
