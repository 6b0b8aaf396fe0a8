"""The coupling curve of method 1: where does one model beat a pipeline? (issue 22)

``benchmarks/bench_needs_coupling.py`` builds the world at several settings of its ``coupling`` dial
(``world`` module doc: 0 = the pipeline's own factorisation; raising it plants three cross-stage
dependencies) and several seeds, and keeps each (dial, seed) point's per-case outcomes in a point
file (``point_result``). ``study`` turns the points into the committed
``workbench/reference/needs-coupling.json``: per dial setting the full framework over the isolated
pipeline (HR@1 ratio with its interval, and the differences in HR@1, HR@3, need and category accuracy
through ``workbench.claims.compare``), the per-stage breakdown, and where the ratio crosses 1.
The Needs & services page and the needs notebook read it back with ``load()`` and ``answer()``.

A study holds one or more *series*, told apart by the ``candidates`` setting (``SERIES``) in every row:
0, stage 3 writing its services freely (the first series, whose settings, cut and command are the
file's top-level fields), or N, stage 3 handed its candidate block of N (``prompts.candidate_block``;
its settings, cut and command under ``series``). A bench sitting rewrites its own series and keeps the
others.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.needs.budget import read_rows

VARIANTS = ("history", "isolated", "isolated_ctx", "clustered_sft", "full")
"""The user-history baseline (the one to beat on real data), the isolated pipeline (the paper's prior
work), the same pipeline with a category stage that reads the context (``baselines.isolated_ctx``: the
strongest pipeline), clustered SFT and the full framework (clustered SFT + curriculum GRPO)."""
PIPELINES = ("isolated", "isolated_ctx")
"""The pipelines the full framework is compared with; a point built before ``isolated_ctx`` existed
has only the first."""
STAGES = ("need right", "category right | need right", "category right | need right on rainy/cold days",
          "HR@1 | need, category right")
"""The per-stage breakdown of the curve; the third is the dial's weather rule (rain: a need's first
category, cold: its last), which a stage that reads the context can learn."""
OUTCOMES = {"hit1": "HR@1", "hit3": "HR@3", "need_ok": "need acc", "category_ok": "cat acc"}
GOAL = 1.25
"""Issue 22's target: the full framework's HR@1 at least 1.25x the isolated pipeline's somewhere."""
REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "needs-coupling.json"
POINTS = REFERENCE.with_suffix("")
"""The committed point files (one per series, dial and seed) the study is combined from: a study that
spans sittings (``benchmarks/bench_needs_coupling.py``)."""
PROMPT_LOSS_NEED = REFERENCE.with_name("needs-coupling-plneed.json")
"""The same curve (candidate block of 8) with the loss on the prompt in the curriculum's need phase only
(``prompt_loss_stages=need``), a study of its own (``BENCH_NEEDS_COUPLING_SET``): the prompt's loss
teaches the need from the habit lines and drowns the weather → category rule the completion teaches
(``docs/data/needs-coupling-diagnostics.json``)."""


def studies() -> dict[str, Path]:
    """Each committed coupling study by what its language models were trained with, in reading order."""
    return {"demo training (loss on the prompt in every SFT phase)": REFERENCE,
            "loss on the prompt in the need phase only (prompt_loss_stages=need)": PROMPT_LOSS_NEED}


SERIES = "candidates"
"""The setting whose value labels a series of the study (every row carries it; a point without it is 0)."""


def series_name(candidates: float) -> str:
    """How a series is called in the answer and the figures.

    >>> series_name(0), series_name(8)
    ('stage 3 free', 'stage 3 given 8 candidates')
    """
    return "stage 3 free" if not candidates else f"stage 3 given {candidates:g} candidates"


def point_result(run, coupling: float, seed: int) -> dict:
    """One (dial, seed) point of a finished needs run: per-case outcomes of each variant on every test
    case (aligned by record), the stage breakdown, the planted dependence measured on its world and
    the summed seconds of its jobs."""
    from workbench.needs.cases import stage_breakdown

    predictions = run.read_parquet("predictions")
    predictions = predictions[predictions["seed"] == seed].sort_values(["variant", "record"])
    present = [v for v in VARIANTS if v in set(predictions["variant"])]
    cases = {v: {k: predictions.loc[predictions["variant"] == v, k].fillna(0).astype(int).tolist() for k in OUTCOMES}
             for v in present}
    stages = stage_breakdown(predictions, present)
    weather = run.read_parquet("cases").set_index("record")["weather"]
    for v in present:  # the weather rule's cases: rain or cold, need right, in the main city
        p = predictions[(predictions["variant"] == v) & (predictions["slice_set"] == "test") & (predictions["need_ok"] == 1)]
        wet = p[p["record"].map(weather).isin(["rainy", "cold"]).to_numpy()]
        stages.loc[v, STAGES[2]] = wet["category_ok"].mean() if len(wet) else np.nan
    info = run.read_json("dataset")
    return {"coupling": coupling, "seed": seed, "cases": cases, "records": len(cases[present[0]]["hit1"]),
            "stages": {v: {k: (None if pd.isna(x) else round(float(x), 4)) for k, x in stages.loc[v].items()}
                       for v in present},
            "planted": {k.removesuffix(" (bits)"): v for k, v in info.items() if k.endswith("(bits)")},
            "jobs_seconds": round(sum(t.get("seconds") or 0 for t in run.read_json("jobs").values()))}


def featured_case(run, seed: int) -> dict | None:
    """One test case of a coupled run where the full framework is right and the isolated pipeline,
    with the same need and category, picked another merchant of that category: the case the dial
    was built for (the merchant follows the need's occasion, which the pipeline's recommender does
    not read; it ranks the user's most used merchant of the category at the place first). The lowest
    record id of those; None when no case qualifies."""
    predictions = run.read_parquet("predictions")
    predictions = predictions[predictions["seed"] == seed]
    wide = {v: g.set_index("record") for v, g in predictions.groupby("variant") if v in ("full", "isolated")}
    if len(wide) < 2:
        return None
    full, iso = wide["full"], wide["isolated"].reindex(wide["full"].index)
    same_path = (full["need_pred"] == iso["need_pred"]) & (full["category_pred"] == iso["category_pred"])
    chosen = full.index[(full["hit1"] == 1) & (iso["hit1"] == 0) & same_path & (full["category_ok"] == 1)]
    if not len(chosen):
        return None
    record = int(min(chosen))
    cases = run.read_parquet("cases").set_index("record")
    top = lambda frame: list(frame.loc[record, "services"])[:3]  # noqa: E731
    return {"record": record, "coupling": float(run.config.get("coupling", 0.0)),
            "prompt": str(cases.loc[record, "prompt"]),
            "truth": {k: str(full.loc[record, k]) for k in ("need_text", "category", "merchant")},
            "full": {"need": str(full.loc[record, "need_text_pred"]), "category": str(full.loc[record, "category_pred"]),
                     "services": top(full)},
            "isolated": {"need": str(iso.loc[record, "need_pred"]), "category": str(iso.loc[record, "category_pred"]),
                         "services": top(iso)}}


def featured_table(featured: dict) -> pd.DataFrame:
    """The featured case's truth and both chains, one row each (need, category, top services).

    >>> featured_table({"truth": {"need_text": "lunch", "category": "ff", "merchant": "m1"},
    ...                 "full": {"need": "lunch", "category": "ff", "services": ["m1", "m2"]},
    ...                 "isolated": {"need": "lunch", "category": "ff", "services": ["m2", "m1"]}})["services"].tolist()
    ['m1', 'm1 m2', 'm2 m1']
    """
    truth = featured["truth"]
    rows = {"truth": (truth["need_text"], truth["category"], truth["merchant"])}
    rows.update({side: (featured[side]["need"], featured[side]["category"], " ".join(featured[side]["services"]))
                 for side in ("full", "isolated")})
    return pd.DataFrame.from_dict(rows, orient="index", columns=["need", "category", "services"])


def ratio_interval(a_per_seed: list[np.ndarray], b_per_seed: list[np.ndarray], seed: int = 0) -> list[float]:
    """95% interval of mean(a) / mean(b) over seeds and cases: paired case resamples within each seed
    (the same indices for a and b), combined over seeds by ``claims.over_seeds``."""
    from workbench.claims import N_BOOT, over_seeds

    values, replicates = [], []
    for i, (a, b) in enumerate(zip(a_per_seed, b_per_seed)):
        a, b = np.asarray(a, float), np.asarray(b, float)
        idx = np.random.default_rng(seed + i).integers(0, len(a), size=(N_BOOT, len(a)))
        with np.errstate(divide="ignore", invalid="ignore"):
            values.append(a.mean() / b.mean() if b.mean() else np.nan)
            replicates.append(a[idx].mean(axis=1) / b[idx].mean(axis=1))
    est = over_seeds(values, replicates, seed=seed)
    return [round(est.low, 3), round(est.high, 3)]


def study(points: list[dict]) -> list[dict]:
    """Rows of the study from point results: ``table`` "points" (one per series, dial, seed and variant)
    and "curve" (one per series and dial setting, over the seeds it has); every row names its series
    (``SERIES``, from the point's ``candidates``, 0 when it has none)."""
    from workbench.claims import compare

    rows = []
    for p in sorted(points, key=lambda p: (p.get(SERIES, 0), p["coupling"], p["seed"])):
        for v, outcome in p["cases"].items():
            rows.append({"table": "points", SERIES: p.get(SERIES, 0), "coupling": p["coupling"], "seed": p["seed"],
                         "variant": v,
                         **{OUTCOMES[k]: round(float(np.mean(x)), 4) for k, x in outcome.items()},
                         "HR@1 | need, cat right": p["stages"][v].get("HR@1 | need, category right"),
                         **{f"planted {k} (bits)": b for k, b in p["planted"].items()},
                         "jobs (s, summed)": p["jobs_seconds"]})
    by_dial: dict[tuple[float, float], list[dict]] = {}
    for p in points:
        by_dial.setdefault((p.get(SERIES, 0), p["coupling"]), []).append(p)
    for series, dial in sorted(by_dial):
        group = sorted(by_dial[(series, dial)], key=lambda p: p["seed"])
        group = [p for p in group if {"isolated", "full"} <= set(p["cases"])]
        if not group:
            continue
        col = lambda v, k: [np.asarray(p["cases"][v][k], float) for p in group]  # noqa: E731
        full1 = col("full", "hit1")
        row = {"table": "curve", SERIES: series, "coupling": dial, "seeds": len(group), "cases per seed": int(np.mean([len(f) for f in full1]))}
        for pipe in [v for v in PIPELINES if all(v in p["cases"] for p in group)]:
            # the paper's isolated pipeline keeps the plain names; the strongest one is named in each
            name, tag = ("isolated", "") if pipe == "isolated" else (pipe, f" vs {pipe}")
            iso1 = col(pipe, "hit1")
            row[f"full / {name} HR@1"] = round(float(np.mean([f.mean() for f in full1]) / np.mean([i.mean() for i in iso1])), 3)
            row[f"ratio interval{tag}"] = ratio_interval(full1, iso1)
            for k, label in OUTCOMES.items():
                c = compare(col("full", k), col(pipe, k))
                row[f"full - {name} {label}"] = round(c.diff, 4)
                row[f"full - {name} {label} interval"] = [round(c.low, 4), round(c.high, 4)]
            goal = compare(full1, [GOAL * i for i in iso1])
            row[f"ratio above 1{tag}"] = bool(row[f"full - {name} HR@1 interval"][0] > 0)
            row[f"reaches {GOAL:g}x{tag}"] = bool(goal.low > 0)
        for v in VARIANTS:
            if all(v in p["cases"] for p in group):
                row[f"{v} HR@1"] = round(float(np.mean([x.mean() for x in col(v, "hit1")])), 4)
        for stage in STAGES:
            for v in (*PIPELINES, "full"):
                values = [p["stages"].get(v, {}).get(stage) for p in group]
                row[f"{v}: {stage}"] = None if None in values else round(float(np.mean(values)), 4)
        rows.append(row)
    return rows


def crossing(curve: pd.DataFrame) -> dict:
    """Where full / isolated HR@1 crosses 1 along the dial (linear between neighbouring settings), and
    the dial range where it may cross given the intervals (where the ratio interval's ends cross 1).

    >>> c = pd.DataFrame({"coupling": [0, .5, 1], "full / isolated HR@1": [.8, .9, 1.3],
    ...                   "ratio interval": [[.7, .9], [.8, 1.0], [1.1, 1.5]]})
    >>> crossing(c)
    {'at': 0.625, 'range': [0.5, 0.833]}
    """
    def first_cross(values: list[float]) -> float | None:
        dial = curve["coupling"].tolist()
        for (d0, v0), (d1, v1) in zip(zip(dial, values), zip(dial[1:], values[1:])):
            if (v0 - 1) * (v1 - 1) <= 0 and v0 != v1:
                return round(d0 + (1 - v0) * (d1 - d0) / (v1 - v0), 3)
        return None

    curve = curve.sort_values("coupling")
    lows = [r[0] for r in curve["ratio interval"]]
    highs = [r[1] for r in curve["ratio interval"]]
    return {"at": first_cross(curve["full / isolated HR@1"].tolist()),
            "range": [first_cross(highs), first_cross(lows)]}


def load(path: Path | None = None) -> dict | None:
    """The committed study with ``points`` and ``curve`` as frames, each row's series named in ``series``
    (``series_name``; a row without a label is of series 0); None when absent or unreadable."""
    doc, rows = read_rows(path or REFERENCE)
    if rows is None:
        return None
    rows[SERIES] = rows[SERIES].fillna(0) if SERIES in rows else 0
    rows["series"] = rows[SERIES].map(series_name)
    for table in ("points", "curve"):
        doc[table] = rows[rows["table"] == table].drop(columns="table").dropna(axis=1, how="all").reset_index(drop=True)
    return doc


def answer(curve: pd.DataFrame) -> str:
    """The curve in words: the ratio at each dial setting with its interval, and the verdict; one line
    per series (named by ``series_name``) when the curve holds several.

    >>> c = pd.DataFrame({"coupling": [0, 1], "seeds": [1, 1], "full / isolated HR@1": [.8, 1.3],
    ...                   "ratio interval": [[.7, .9], [1.1, 1.5]], "ratio above 1": [False, True],
    ...                   "reaches 1.25x": [False, False]})
    >>> print(answer(c))
    full / isolated HR@1: 0.80 [0.70, 0.90] at coupling 0 → 1.30 [1.10, 1.50] at 1 (1 seed each); above 1 from coupling 1 (crossing near 0.4); the 1.25x goal (interval of full − 1.25 × isolated above 0) is not reached.
    """
    if SERIES in curve and curve[SERIES].nunique() > 1:
        return "\n".join(f"{series_name(n)}: {answer(part.drop(columns=SERIES))}"
                         for n, part in curve.groupby(SERIES, sort=True))
    curve = curve.sort_values("coupling")
    parts = [f"{r['full / isolated HR@1']:.2f} [{r['ratio interval'][0]:.2f}, {r['ratio interval'][1]:.2f}] at "
             f"{'coupling ' if i == 0 else ''}{r['coupling']:g}" for i, (_, r) in enumerate(curve.iterrows())]
    seeds = sorted({int(n) for n in curve["seeds"]})  # floats once read back beside the points table
    text = "full / isolated HR@1: " + " → ".join(parts)
    text += f" ({'/'.join(map(str, seeds))} seed{'s' if seeds != [1] else ''} each)"
    above = curve[curve["ratio above 1"].astype(bool)]
    where = crossing(curve)["at"]
    text += ("; above 1 from coupling " + f"{above['coupling'].min():g}" if len(above) else "; never above 1 with its interval")
    text += f" (crossing near {where:g})" if where is not None else ""
    reached = curve[curve[f"reaches {GOAL:g}x"].astype(bool)]
    text += (f"; the {GOAL:g}x goal is reached at coupling {reached['coupling'].min():g}" if len(reached)
             else f"; the {GOAL:g}x goal (interval of full − {GOAL:g} × isolated above 0) is not reached") + "."
    strongest = curve.dropna(subset=["full / isolated_ctx HR@1"]) if "full / isolated_ctx HR@1" in curve else curve.iloc[:0]
    if len(strongest):
        text += " Against the pipeline whose category stage reads the context (isolated_ctx): " + " → ".join(
            f"{r['full / isolated_ctx HR@1']:.2f} [{r['ratio interval vs isolated_ctx'][0]:.2f}, "
            f"{r['ratio interval vs isolated_ctx'][1]:.2f}] at {r['coupling']:g}" for _, r in strongest.iterrows()) + "."
    return text
