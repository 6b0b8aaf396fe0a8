"""Build method 1 end to end: world → behavioral clustering → cases → baselines → curriculum SFT →
GRPO → evaluation of every variant → claims. One run folder holds everything the app and notebook read.

Artifacts (``run.read_parquet(name)`` / ``run.read_json(name)``):

- ``records``      every record with its clustering columns (``support``, ``pop_share``, ``user_cluster``,
                   ``pattern``, ``kept``) and, for a sample, ``umap_x``/``umap_y``
- ``users``, ``merchants``, ``phrases``, ``categories``   the world's tables
- ``cases``        the evaluation cases (prompt as each variant saw it, truth, slice flags)
- ``predictions``  per-case predictions of every variant and seed, with right/wrong per stage
- ``metrics``      need accuracy / macro-F1, category accuracy, HR@1/3/5, NDCG@5 per variant × slice × seed
- ``sft_curves``, ``rl_curves``   training curves (GRPO: per-reward means, ``frac_reward_zero_std``)
- ``filter``       the filter's settings and quality; ``compute`` training time and sequences per variant
- ``examples``     a few training prompts and completions; ``model_full/`` the full model + tokenizer
- ``claims``       the five claims
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.needs import baselines, clustering, evaluate, jobs, prompts
from workbench.needs.config import Config
from workbench.needs.schema import NeedsData
from workbench.needs.world import WorldSpec, generate_world
from workbench.progress import Progress, scaled, silent
from workbench.runtime import StepTimer

METHOD = "needs"
TITLE = "Living needs → services"
DATASETS = {"foursquare": "Foursquare NYC check-ins (csv with tid,label,day,hour,poi,category,... columns); "
                          "need = top-level category, service = venue"}
CLAIMS = evaluate.CLAIMS
MIN_HISTORY = 5
"""A record becomes a training case once its user has this many earlier records."""

# ---- data ----------------------------------------------------------------------------------------


def load_data(config: Config, seed: int) -> NeedsData:
    """The synthetic world of ``seed``, or the real dataset named by ``config.dataset``."""
    if config.dataset == "synthetic":
        spec = WorldSpec(users=config.users, min_records=config.min_records, max_records=config.max_records,
                         accident_rate_routine=config.accident_rate_routine,
                         accident_rate_other=config.accident_rate_other, tail_test_share=config.tail_test_share)
        data = generate_world(spec, seed=seed)
    elif config.dataset == "foursquare":
        from workbench.datasets.foursquare import load_foursquare

        data = load_foursquare(config.data_path)
    else:
        raise WorkbenchError(f"Unknown dataset {config.dataset!r} for needs; choose synthetic or foursquare.")
    data.validate()
    return data


def main_city(data: NeedsData) -> str:
    return data.users["city"].value_counts().index[0]


def cluster_history(data: NeedsData, config: Config, seed: int) -> pd.DataFrame:
    """Clustering columns for the history records (every record before a user's test record)."""
    history = data.records[data.records["split"] != "test"]
    scenes = sorted(data.records["scene"].unique())
    return clustering.cluster_records(history, scenes, data.needs, config.cluster_algorithm, config.cluster_eps,
                                      config.min_support, config.min_pop_share, config.n_patterns, seed)


def make_cases(data: NeedsData, config: Config, kept: pd.Series, seed: int) -> dict[str, pd.DataFrame]:
    """Training cases (raw, clustered, and a pooled set for the isolated classifier) and test cases."""
    rec = data.records
    rng = np.random.default_rng(seed)
    history = rec[rec["split"] != "test"]
    popularity = prompts.Popularity.from_records(history, data.merchants)
    city = main_city(data)
    usable = (rec["split"] == "train") & (rec["t"] >= MIN_HISTORY) & (
        (rec["city"] == city) | (rng.random(len(rec)) < config.cross_city_train_share))
    raw_pool = rec["split"] != "test"
    kept_pool = kept.reindex(rec.index, fill_value=False)
    args = dict(popularity=popularity, history_size=config.history_size, n_popular=config.n_popular,
                flat_popular=config.flat_popular)

    def sample(mask: pd.Series, n: int, salt: int) -> pd.Series:
        idx = rec.index[mask.to_numpy()]
        if len(idx) > n:
            idx = np.random.default_rng(seed + salt).choice(idx, size=n, replace=False)
        return rec.index.isin(idx)

    out = {
        "train_raw": prompts.build_cases(data, rec, pd.Series(sample(usable, config.max_train_cases, 1), index=rec.index),
                                         raw_pool, **args),
        "train_clustered": prompts.build_cases(data, rec, pd.Series(sample(usable & kept_pool, config.max_train_cases, 2),
                                                                    index=rec.index), kept_pool, **args),
        "train_pooled": prompts.build_cases(data, rec, pd.Series(sample(usable & kept_pool, min(config.max_train_cases, 10000), 3),
                                                                 index=rec.index), kept_pool, keep_pool=True, **args),
    }
    test = rec["split"] == "test"
    for name, pool in (("test_raw", raw_pool), ("test_clustered", kept_pool)):
        cases = prompts.build_cases(data, rec, test, pool, keep_pool=True, **args)
        cases["set"] = np.where(cases["city"] == city, "test", "cross_city")
        out[name] = cases
    out["popularity"] = popularity
    return out


# ---- one seed ------------------------------------------------------------------------------------
def run_seed(config: Config, seed: int, progress: Progress, timer: StepTimer, workdir: Path, tag: str = "") -> dict:
    """Everything for one seed: data, clustering, cases, baselines, then the LM jobs (``jobs``)."""
    variants = set(config.variants)
    step = lambda name: timer.step(f"{name}{tag}")  # noqa: E731
    with step("world"):
        data = load_data(config, seed)
        progress("world generated", 0.02)
    with step("clustering"):
        clustered = cluster_history(data, config, seed)
        quality = clustering.filter_quality(clustered["kept"], clustered["accidental"].fillna(False).astype(bool)) \
            if data.records["accidental"].notna().any() else {}
        progress("behavioral clustering done", 0.05)
    with step("cases"):
        cases = make_cases(data, config, clustered["kept"], seed)
        popularity = cases["popularity"]
        progress("prompts built", 0.1)
    marked = []
    test_c = cases["test_clustered"]
    scenes = sorted(data.records["scene"].unique())
    weathers = sorted(data.records["weather"].unique())
    with step("baselines"):
        history = data.records[data.records["split"] != "test"]
        if "popularity" in variants:
            marked.append(evaluate.mark_cases(test_c, baselines.popularity_in_context(
                data, test_c, history, popularity, config.n_popular), "popularity"))
        if "history" in variants:
            marked.append(evaluate.mark_cases(test_c, baselines.user_history(data, test_c, popularity, config.n_popular),
                                              "history"))
        if "isolated" in variants:
            clf = baselines.fit_need_classifier(cases["train_pooled"], data, scenes, weathers, seed)
            marked.append(evaluate.mark_cases(test_c, baselines.isolated(
                data, test_c, clf, scenes, weathers, popularity, config.n_popular, history), "isolated"))
        progress("baselines scored", 0.12)

    folder = workdir / f"seed{seed}"
    cases["rl_cases"] = cases["train_clustered"].sample(
        min(len(cases["train_clustered"]), config.rl_steps * config.rl_prompts), random_state=seed)
    jobs.write_inputs(folder, data, cases)
    with step("language_models"):
        results = jobs.run_lm_jobs(config, seed, folder, scaled(progress, 0.12, 1.0))
    for result in results.values():
        for key, value in result["timings"].items():
            timer.steps[f"{key}{tag}"] = value
    marked += [results[v]["marked"] for v in jobs.ORDER if v in results and v in variants]
    marked_frame = pd.concat(marked, ignore_index=True)
    marked_frame.insert(0, "seed", seed)
    return {
        "data": data, "clustered": clustered, "quality": quality, "cases": cases, "marked": marked_frame,
        "sft_curves": [{"seed": seed, "variant": n, **row} for n, r in results.items() for row in r["sft_curve"]],
        "rl_curves": [{"seed": seed, "variant": n, **row} for n, r in results.items() for row in r["rl_log"]],
        "compute": {n: r["compute"] for n, r in results.items()},
        "full_model_dir": folder / "models" / "full" if "full" in results else None,
    }


# ---- the build -----------------------------------------------------------------------------------
def records_table(result: dict) -> pd.DataFrame:
    """All records with the clustering columns and the UMAP layout of a sample (history only)."""
    data, clustered = result["data"], result["clustered"]
    rec = data.records.copy()
    for column in ("user_cluster", "support", "pop_share", "pattern", "kept"):
        rec[column] = clustered[column].reindex(rec.index)
    return rec


def cases_table(result: dict) -> pd.DataFrame:
    test_c, test_r = result["cases"]["test_clustered"], result["cases"]["test_raw"]
    keep = ["record", "user", "t", "city", "set", "day", "hour_bin", "scene", "weather", "need_text", "need",
            "category", "merchant", "long_tail", "prompt"]
    out = test_c[keep].copy()
    out["prompt_raw"] = test_r.set_index("record").loc[out["record"], "prompt"].to_numpy()
    return out


def build(config: Config, store, progress: Progress | None = None):
    if existing := store.find(METHOD, config):
        return existing
    progress = progress or silent
    timer = StepTimer()
    seeds = [config.seed, *[s for s in config.seeds if s != config.seed]]
    with store.create(METHOD, config) as run:
        workdir = Path(tempfile.mkdtemp(prefix="workbench-needs-"))
        try:
            results = []
            for i, seed in enumerate(seeds):
                report = scaled(progress, i / len(seeds) * 0.97, (i + 1) / len(seeds) * 0.97)
                results.append(run_seed(config, seed, report, timer, workdir, tag="" if i == 0 else f"_seed{seed}"))
            write_artifacts(run, config, seeds, results, timer, progress)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        progress("done", 1.0)
        return run.finish(timer.as_dict(), seeds=seeds)


def write_artifacts(run, config: Config, seeds: list[int], results: list[dict], timer: StepTimer,
                    progress: Progress) -> None:
    """The UMAP layout, then every table, curve, the full model and the claims into the run folder."""
    main = results[0]
    data = main["data"]
    with timer.step("umap"):
        progress("UMAP layout of the records", 0.97)
        records = records_table(main)
        history = records[records["split"] != "test"]
        features = clustering.record_features(history, sorted(records["scene"].unique()), data.needs)
        layout = clustering.umap_layout(features, history, config.umap_points, config.seed, config.map_method)
        records = records.merge(layout, on="record", how="left")
    with timer.step("write"):
        marked = pd.concat([r["marked"] for r in results], ignore_index=True)
        filter_rows = []
        for seed, r in zip(seeds, results):
            q = dict(r["quality"])
            if q and len(seeds) == 1:  # one seed: a bootstrap interval over users for min(P, R)
                q["min_low"], q["min_high"] = filter_interval(r["clustered"], seed)
            filter_rows.append({"seed": seed, **q})
        run.write_parquet("records", records)
        for name in ("users", "merchants", "phrases", "categories"):
            run.write_parquet(name, getattr(data, name))
        run.write_parquet("cases", cases_table(main))
        run.write_parquet("predictions", marked)
        run.write_parquet("metrics", evaluate.metrics_table(marked, data.needs))
        run.write_parquet("sft_curves", pd.DataFrame([row for r in results for row in r["sft_curves"]]))
        run.write_parquet("rl_curves", pd.DataFrame([row for r in results for row in r["rl_curves"]]))
        run.write_json("filter", {"settings": {k: getattr(config, k) for k in (
            "cluster_algorithm", "cluster_eps", "min_support", "min_pop_share")}, "quality": filter_rows})
        run.write_json("compute", {"seed": config.seed, "variants": main["compute"], "timings": timer.as_dict()})
        train = main["cases"]["train_clustered"]
        run.write_json("examples", train[["prompt", "completion", "flat_completion"]].head(5).to_dict("records"))
        run.write_json("dataset", {"name": data.name, **data.info, "main_city": main_city(data),
                                   "variants": {v: evaluate.VARIANTS[v] for v in config.variants}})
        if main["full_model_dir"] is not None:
            shutil.copytree(main["full_model_dir"], run.path / "model_full")
        run.write_json("claims", evaluate.compute_claims(marked, filter_rows, config.dataset, config.profile))


def filter_interval(clustered: pd.DataFrame, seed: int, n_boot: int = 300) -> tuple[float, float]:
    """95% bootstrap interval over users of min(precision, recall) of the filter."""
    users = clustered["user"].to_numpy()
    groups = pd.Series(np.arange(len(users))).groupby(users).indices
    keys = list(groups)
    kept = clustered["kept"].to_numpy()
    acc = clustered["accidental"].fillna(False).to_numpy(dtype=bool)
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(n_boot):
        idx = np.concatenate([groups[keys[i]] for i in rng.integers(0, len(keys), len(keys))])
        q = clustering.filter_quality(kept[idx], acc[idx])
        stats.append(min(q["precision"], q["recall"]))
    return float(np.nanquantile(stats, 0.025)), float(np.nanquantile(stats, 0.975))
