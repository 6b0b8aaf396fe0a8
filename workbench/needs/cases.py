"""Method 1 case by case: every variant's outcome per test case (for ``workbench.compare``), the habit
lines two variants read differently, and a few featured cases picked by stated rules.

A case is one test record. Outcomes per stage: ``need`` and ``category`` right (baselines without a
chain have none), ``service@1`` (the true merchant ranked first) and ``service@3``. Slices follow
``evaluate.SLICES``: in-city test users, the long-tail ones among them, the other city's users.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.compare import CaseFrame, Featured
from workbench.needs.evaluate import VARIANTS

OUTCOMES = ("service@1", "service@3", "need", "category")
RAW_PROMPT = {"raw_sft"}
"""Variants that read the raw history (``prompt_raw``); the other LM variants read the clustered one."""
NO_PROMPT = {"popularity", "history", "isolated", "isolated_ctx"}
"""Baselines that read no prompt."""
SLICES = {"in-city": ("slice", "in-city"), "long tail": ("long_tail_slice", True), "cross-city": ("slice", "cross-city")}


def main_predictions(run) -> pd.DataFrame:
    """The marked predictions of the run's main seed (the one its tables and model come from)."""
    predictions = run.read_parquet("predictions")
    return predictions[predictions["seed"] == run.manifest["seed"]].reset_index(drop=True)


def case_frame(predictions: pd.DataFrame, labels: dict[str, str] | None = None) -> CaseFrame:
    """Every variant's outcome per test record (``predictions``: one seed's marked predictions; ``labels``
    gives the display order of the variants, the run's ``dataset.json`` ``variants``)."""
    present = list(dict.fromkeys(predictions["variant"]))
    order = [v for v in (labels or VARIANTS) if v in present] + [v for v in present if v not in (labels or VARIANTS)]
    frame = predictions.assign(
        case=predictions["record"],
        **{"service@1": predictions["hit1"].astype(float), "service@3": predictions["hit3"].astype(float),
           "need": predictions["need_ok"].astype(float), "category": predictions["category_ok"].astype(float)},
        slice=predictions["slice_set"].map({"test": "in-city", "cross_city": "cross-city"}),
        long_tail_slice=(predictions["slice_set"] == "test") & predictions["long_tail"].astype(bool),
    )
    return CaseFrame(frame, OUTCOMES, SLICES, {v: v for v in order}, show=("user", "city", "need_text"))


def prompt_of(case: pd.Series, variant: str) -> str | None:
    """The prompt ``variant`` saw for this case (None for the baselines, which read none)."""
    if variant in NO_PROMPT:
        return None
    return case["prompt_raw"] if variant in RAW_PROMPT else case["prompt"]


def habit_lines(prompt: str | None) -> list[str]:
    """The history lines of a prompt (``... pat r1 … ; r2 … ans``), one string per line."""
    if not prompt or " pat " not in prompt:
        return []
    body = prompt.split(" pat ", 1)[1].rsplit(" ans", 1)[0]
    return [line.strip() for line in body.split(" ; ") if line.strip()]


def habit_diff(case: pd.Series, a: str, b: str) -> pd.DataFrame:
    """The habit lines of both variants' prompts: ``line``, ``in a``, ``in b`` (lines only one read first)."""
    lines_a, lines_b = habit_lines(prompt_of(case, a)), habit_lines(prompt_of(case, b))
    rows = [{"habit line": line, a: "✓" if line in lines_a else "", b: "✓" if line in lines_b else ""}
            for line in dict.fromkeys(lines_a + lines_b)]
    out = pd.DataFrame(rows, columns=["habit line", a, b] if a != b else ["habit line", a])
    if a != b and len(out):
        out = out.assign(_same=(out[a] == out[b])).sort_values("_same", kind="stable").drop(columns="_same")
    return out.reset_index(drop=True)


def featured_cases(predictions: pd.DataFrame, records: pd.DataFrame, limit: int = 5) -> list[Featured]:
    """A few cases worth opening, each found by the rule its reason states (first match by record)."""
    wide = {v: g.set_index("record") for v, g in predictions.groupby("variant")}
    out: list[Featured] = []
    taken: set = set()

    def first(mask: pd.Series) -> int | None:
        hits = [int(r) for r in mask[mask].index if int(r) not in taken]
        return min(hits) if hits else None

    def add(record, reason, a, b):
        if record is not None:
            taken.add(record)
            out.append(Featured(record, reason, a, b))

    full, iso, clus, raw, flat = (wide.get(v) for v in ("full", "isolated", "clustered_sft", "raw_sft", "flat"))
    if full is not None:  # the chain is right but the ranking slips one place
        ok = (full["need_ok"] == 1) & (full["category_ok"] == 1) & (full["rr"] == 0.5)
        add(first(ok), "the full model's chain is right at every stage but ranks the true merchant second",
            "full", "isolated" if iso is not None else None)
    if full is not None and iso is not None:
        both = full.join(iso[["need_ok", "hit1"]], rsuffix="_iso", how="inner")
        ok = (both["need_ok"] == 1) & (both["hit1"] == 1) & (both["need_ok_iso"] == 0)
        add(first(ok), "the full framework gets the need and the merchant right; the isolated pipeline "
            "misreads the need", "full", "isolated")
    if clus is not None and raw is not None:
        both = clus.join(raw[["hit1"]], rsuffix="_raw", how="inner")
        ok = (both["slice_set"] == "test") & both["long_tail"].astype(bool) & (both["hit1"] == 1) & (both["hit1_raw"] == 0)
        add(first(ok), "a long-tail situation: clustered training ranks the right merchant first, raw training "
            "does not", "clustered_sft", "raw_sft")
    if clus is not None and flat is not None:
        both = clus.join(flat[["hit1"]], rsuffix="_flat", how="inner")
        ok = (both["slice_set"] == "cross_city") & (both["hit1"] == 1) & (both["hit1_flat"] == 0)
        add(first(ok), "cross-city: three-stage reasoning finds the merchant in a city it was not trained on; "
            "flat prediction misses it", "clustered_sft", "flat")
    filtered = filter_case(predictions, records, taken)
    if filtered is not None:
        record, caught, planted, clean = filtered
        add(record, f"the filter caught {caught} of this user's {planted} planted one-off orders "
            f"(and dropped {clean} ordinary record{'s' * (clean != 1)})",
            "clustered_sft" if clus is not None else None, "raw_sft" if raw is not None else None)
    return out[:limit]


def filter_case(predictions: pd.DataFrame, records: pd.DataFrame, taken: set) -> tuple[int, int, int, int] | None:
    """The test user whose planted accidental records the filter caught best (most caught minus clean
    records dropped): (their test record, caught, planted, clean dropped); None without planted flags."""
    if "accidental" not in records or not records["accidental"].notna().any():
        return None
    history = records[records["split"] != "test"]
    dropped = ~history["kept"].fillna(True).astype(bool)
    planted = history["accidental"].fillna(False).astype(bool)
    per_user = pd.DataFrame({"user": history["user"], "caught": dropped & planted, "planted": planted,
                             "clean": dropped & ~planted}).groupby("user").sum()
    tested = predictions.drop_duplicates("user").set_index("user")["record"]
    per_user = per_user[per_user.index.isin(tested.index) & (per_user["caught"] > 0)]
    per_user = per_user[~per_user.index.map(lambda u: int(tested[u]) in taken)]
    if per_user.empty:
        return None
    score = per_user["caught"] - per_user["clean"]
    user = score.idxmax()
    row = per_user.loc[user]
    return int(tested[user]), int(row["caught"]), int(row["planted"]), int(row["clean"])


def stage_breakdown(predictions: pd.DataFrame, variants: list[str] | None = None) -> pd.DataFrame:
    """Where each variant loses, stage by stage, on the in-city test cases: need accuracy, category
    accuracy when the need was right, HR@1 when need and category were right, and the share of cases
    that first fail at each stage (they add up to 1 with ``right throughout`` = HR@1 of chain variants).

    >>> p = pd.DataFrame({"variant": ["a"] * 4, "slice_set": ["test"] * 4, "need_ok": [1, 1, 1, 0],
    ...                   "category_ok": [1, 1, 0, 0], "hit1": [1, 0, 0, 0],
    ...                   "failed_stage": ["none", "service", "category", "need"]})
    >>> stage_breakdown(p).loc["a", ["need right", "category right | need right", "HR@1 | need, category right"]].tolist()
    [0.75, 0.667, 0.5]
    """
    test = predictions[predictions["slice_set"] == "test"]
    order = [v for v in (variants or test["variant"].unique()) if v in set(test["variant"])]
    rows = {}
    for variant in order:
        p = test[test["variant"] == variant]
        need_ok, cat_ok = p["need_ok"] == 1, p["category_ok"] == 1
        first = p["failed_stage"].value_counts(normalize=True)
        rows[variant] = {
            "cases": len(p),
            "need right": need_ok.mean() if p["need_ok"].notna().any() else np.nan,
            "category right | need right": cat_ok[need_ok].mean() if need_ok.any() else np.nan,
            "HR@1 | need, category right": (p["hit1"] == 1)[need_ok & cat_ok].mean() if (need_ok & cat_ok).any() else np.nan,
            **{f"first fails at {s}": first.get(s, 0.0) for s in ("need", "category", "service")},
            "right throughout": first.get("none", 0.0),
        }
    return pd.DataFrame.from_dict(rows, orient="index").round(3)
