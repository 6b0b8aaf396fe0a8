"""Method 1 on real check-ins over seeds: where does the joint model stand against the pipelines and
the user's own history on data nobody generated? (issue 22, item 4)

``benchmarks/bench_needs_checkins.py`` builds each (dataset, seed) point at the stable budget (3,000
SFT steps, the needs budget curves' plateau) with every variant of ``VARIANTS`` — the user-history
baseline (the one to beat on real data) in every table — and keeps each point's per-case outcomes in
a committed point file (``point_result``), so the study spans sittings like the coupling study.
``study`` turns the points into ``workbench/reference/needs-checkins.json``:

- ``levels``: per dataset and variant, HR@1, HR@3, need and category accuracy over the seeds, each
  with its 95% interval over seeds and cases (``claims.estimate``);
- ``versus``: per dataset, the full framework against each other variant (``COMPARISONS``) in HR@1 and
  HR@3 through ``claims.compare`` — among them the chain that keeps its alternatives (``full``: the
  services' marginal over 4 (need, category) paths) against the same model's greedy chain
  (``full_greedy``: one path);
- ``stages``: where each variant loses, stage by stage (``cases.stage_breakdown``, mean over seeds):
  the per-stage reason a pipeline or the history wins.

The Needs & services page and the needs notebook read it back with ``load()``; ``answer()`` says it in
words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.needs.budget import read_rows

VARIANTS = ("history", "isolated", "isolated_ctx", "flat", "clustered_sft", "full", "full_greedy")
"""The user's own history, the paper's isolated pipeline, the pipeline whose category stage reads the
context (the strongest pipeline), the flat model (context → service), clustered SFT, the full
framework (clustered SFT + curriculum GRPO, chain with alternatives) and its model's greedy chain."""
DATASETS = {"foursquare-tsmc": "foursquare-nyc-tsmc", "foursquare": "foursquare-nyc-mat"}
"""Each dataset's name (``--dataset``) → its folder under the shared data (``--data-path``)."""
LABELS = {"foursquare-tsmc": "TSMC2014 NYC", "foursquare": "MAT-Sum NYC"}
COMPARISONS = ("history", "isolated", "isolated_ctx", "flat", "full_greedy")
"""The full framework is compared with each of these on the same cases."""
OUTCOMES = {"hit1": "HR@1", "hit3": "HR@3", "need_ok": "need acc", "category_ok": "cat acc"}
STAGES = ("need right", "category right | need right", "HR@1 | need, category right")
REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "needs-checkins.json"
POINTS = REFERENCE.with_suffix("")
"""The committed point files, one per (dataset, seed): ``<dataset>-seed<s>.json``."""


def point_result(run, dataset: str, seed: int) -> dict:
    """One (dataset, seed) point of a finished run: each variant's per-case outcomes on every test case
    (aligned by record; a baseline without a chain has no need or category, kept as missing), the
    stage breakdown and the summed wall and CPU seconds of its jobs."""
    from workbench.needs.cases import stage_breakdown

    predictions = run.read_parquet("predictions")
    predictions = predictions[predictions["seed"] == seed].sort_values(["variant", "record"])
    present = [v for v in VARIANTS if v in set(predictions["variant"])]
    cases = {}
    for v in present:
        p = predictions[predictions["variant"] == v]
        cases[v] = {k: [None if pd.isna(x) else int(x) for x in p[k]] for k in OUTCOMES}
    stages = stage_breakdown(predictions, present)
    jobs = run.read_json("jobs")
    return {"dataset": dataset, "seed": seed, "cases": cases, "records": len(cases[present[0]]["hit1"]),
            "stages": {v: {k: (None if pd.isna(x) else round(float(x), 4)) for k, x in stages.loc[v, list(STAGES)].items()}
                       for v in present},
            "jobs_seconds": round(sum(t.get("seconds") or 0 for t in jobs.values())),
            "jobs_cpu_seconds": round(sum(t.get("cpu_seconds") or 0 for t in jobs.values()))}


def _per_seed(group: list[dict], variant: str, key: str) -> list[np.ndarray] | None:
    """One array of a variant's outcome per seed; None when a seed lacks it (a baseline's need)."""
    arrays = [np.asarray(p["cases"][variant][key], dtype=float) for p in group]
    return None if any(np.isnan(a).all() for a in arrays) else arrays


def study(points: list[dict]) -> list[dict]:
    """Rows of the study (``table`` levels, versus, stages; module doc), per dataset over its seeds."""
    from workbench.claims import compare, estimate

    rows = []
    by_dataset: dict[str, list[dict]] = {}
    for p in points:
        by_dataset.setdefault(p["dataset"], []).append(p)
    for dataset, group in sorted(by_dataset.items()):
        group = sorted(group, key=lambda p: p["seed"])
        present = [v for v in VARIANTS if all(v in p["cases"] for p in group)]
        seeds = {"dataset": dataset, "seeds": len(group), "cases per seed": int(np.mean([p["records"] for p in group]))}
        for v in present:
            row = {"table": "levels", **seeds, "variant": v}
            for key, label in OUTCOMES.items():
                arrays = _per_seed(group, v, key)
                if arrays is not None:
                    est = estimate(arrays)
                    row[label], row[f"{label} interval"] = round(est.value, 4), [round(est.low, 4), round(est.high, 4)]
            rows.append(row)
        if "full" not in present:
            continue
        for other in [v for v in COMPARISONS if v in present]:
            for key in ("hit1", "hit3"):
                c = compare(_per_seed(group, "full", key), _per_seed(group, other, key))
                rows.append({"table": "versus", **seeds, "versus": other, "metric": OUTCOMES[key],
                             "full": round(c.a, 4), "other": round(c.b, 4), "full - other": round(c.diff, 4),
                             "interval": [round(c.low, 4), round(c.high, 4)],
                             "verdict": "full ahead" if c.low > 0 else "full behind" if c.high < 0 else "level"})
        for v in present:
            values = {s: [p["stages"][v].get(s) for p in group] for s in STAGES}
            if all(None in x for x in values.values()):
                continue  # no chain to break down (the flat model)
            # a column name without commas (the docs' ``columns=`` lists are comma-separated)
            rows.append({"table": "stages", **seeds, "variant": v,
                         **{s.replace(", ", " & "): (None if None in x else round(float(np.mean(x)), 4))
                            for s, x in values.items()}})
    return rows


def load(path: Path | None = None) -> dict | None:
    """The committed study with ``levels``, ``versus`` and ``stages`` as frames; None when absent."""
    doc, rows = read_rows(path or REFERENCE)
    if rows is None:
        return None
    for table in ("levels", "versus", "stages"):
        doc[table] = rows[rows["table"] == table].drop(columns="table").dropna(axis=1, how="all").reset_index(drop=True)
    return doc


def answer(versus: pd.DataFrame) -> str:
    """The study in words, one sentence per dataset: the full framework's HR@1 against the user history,
    the isolated pipeline and its own greedy chain.

    >>> v = pd.DataFrame({"dataset": ["foursquare"] * 2, "seeds": [3, 3], "versus": ["history", "full_greedy"],
    ...                   "metric": ["HR@1", "HR@1"], "full": [.1, .1], "other": [.2, .09],
    ...                   "full - other": [-.1, .01], "interval": [[-.12, -.08], [-.01, .03]],
    ...                   "verdict": ["full behind", "level"]})
    >>> print(answer(v))
    MAT-Sum NYC (3 seeds): full framework HR@1 .100 — behind user history .200 (−.100 [−.120, −.080]); level with its greedy chain .090 (+.010 [−.010, +.030]).
    """
    from workbench.claims import number

    names = {"history": "user history", "isolated": "the isolated pipeline", "isolated_ctx": "the context-reading pipeline",
             "flat": "the flat LM", "full_greedy": "its greedy chain"}
    lines = []
    for dataset, part in versus[versus["metric"] == "HR@1"].groupby("dataset", sort=True):
        bits = []
        for _, r in part.iterrows():
            word = {"full ahead": "ahead of", "full behind": "behind", "level": "level with"}[r["verdict"]]
            bits.append(f"{word} {names.get(r['versus'], r['versus'])} {number(r['other'])} "
                        f"({number(r['full - other'], signed=True)} [{number(r['interval'][0], signed=True)}, "
                        f"{number(r['interval'][1], signed=True)}])")
        seeds = int(part["seeds"].iloc[0])
        head = f"{LABELS.get(dataset, dataset)} ({seeds} seed{'s' if seeds != 1 else ''}): full framework HR@1 {number(part['full'].iloc[0])}"
        lines.append(f"{head} — {'; '.join(bits)}.")
    return "\n".join(lines)
