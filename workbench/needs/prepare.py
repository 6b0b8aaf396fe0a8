"""One seed's data: the world (or real check-ins), behavioral clustering, the training and test cases,
and the parquet layout of a ``seed{s}/data`` job folder that the LM jobs and ``pipeline.write`` read.

Folder layout (all parquet, written by ``write_folder``):

- ``phrases``, ``categories``, ``merchants``, ``users``   the dataset's tables
- ``records``   every record with the clustering columns (``user_cluster``, ``support``, ``pop_share``,
                ``pattern``, ``kept``; empty for test records)
- ``train_raw``, ``train_clustered``, ``test_raw``, ``test_clustered``, ``rl_cases``   the cases
- ``marked``    the baselines' marked predictions (``jobs.prepare`` adds it)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.needs import clustering, prompts
from workbench.needs.config import Config
from workbench.needs.data import NeedsData
from workbench.needs.world import WorldSpec, generate_world

MIN_HISTORY = 5
"""A record becomes a training case once its user has this many earlier records."""
TABLES = ("phrases", "categories", "merchants", "users", "records")
CASES = ("train_raw", "train_clustered", "test_raw", "test_clustered", "rl_cases")
CLUSTER_COLUMNS = ("user_cluster", "support", "pop_share", "routine", "pattern", "kept")


def load_data(config: Config, seed: int) -> NeedsData:
    """The synthetic world of ``seed``, or the real dataset named by ``config.dataset``."""
    if config.dataset == "synthetic":
        spec = WorldSpec(users=config.users, min_records=config.min_records, max_records=config.max_records,
                         accident_rate_routine=config.accident_rate_routine,
                         accident_rate_other=config.accident_rate_other, tail_test_share=config.tail_test_share,
                         coupling=config.coupling)
        data = generate_world(spec, seed=seed)
    elif config.dataset == "foursquare":
        from workbench.needs.real import load_foursquare

        data = load_foursquare(config.data_path, test_per_user=config.test_per_user, venue_words=config.venue_words)
    elif config.dataset == "foursquare-tsmc":
        from workbench.needs.real import load_tsmc_needs

        data = load_tsmc_needs(config.data_path, config.category_map, config.test_per_user, config.venue_words)
    else:
        raise WorkbenchError(f"Unknown dataset {config.dataset!r} for needs; choose synthetic, foursquare or foursquare-tsmc.")
    data.validate()
    return data


def main_city(data: NeedsData) -> str:
    return data.users["city"].value_counts().index[0]


def cluster_history(data: NeedsData, config: Config, seed: int) -> pd.DataFrame:
    """Clustering columns for the history records (every record before a user's test record)."""
    history = data.records[data.records["split"] != "test"]
    scenes = sorted(data.records["scene"].unique())
    return clustering.cluster_records(history, scenes, data.needs, config.cluster_algorithm, config.cluster_eps,
                                      config.min_support, config.min_pop_share, config.n_patterns, seed,
                                      config.filter_rule, config.min_routine)


def with_clusters(data: NeedsData, clustered: pd.DataFrame) -> pd.DataFrame:
    """All records with the clustering columns of the history ones (the run's ``records`` table, less UMAP)."""
    rec = data.records.copy()
    for column in CLUSTER_COLUMNS:
        rec[column] = clustered[column].reindex(rec.index)
    return rec


def make_cases(data: NeedsData, config: Config, kept: pd.Series, seed: int) -> dict:
    """Training cases (raw, clustered, and a pooled set for the isolated classifier), validation cases
    (``valid_clustered``, up to 2,000 of the main city, when the isolated pipeline is built) and test cases."""
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
                flat_popular=config.flat_popular, evidence=config.evidence, block_size=config.candidates)

    def sample(mask: pd.Series, n: int, salt: int) -> pd.Series:
        idx = rec.index[mask.to_numpy()]
        if len(idx) > n:
            idx = np.random.default_rng(seed + salt).choice(idx, size=n, replace=False)
        return rec.index.isin(idx)

    out = {
        "train_raw": prompts.build_cases(data, rec, pd.Series(sample(usable, config.max_train_cases, 1), index=rec.index),
                                         raw_pool, **args),
        # with the candidate block the GRPO rollouts form blocks for sampled categories: they need the pools
        "train_clustered": prompts.build_cases(data, rec, pd.Series(sample(usable & kept_pool, config.max_train_cases, 2),
                                                                    index=rec.index), kept_pool,
                                               keep_pool=config.candidates > 0, **args),
        "train_pooled": prompts.build_cases(data, rec, pd.Series(sample(usable & kept_pool, min(config.max_train_cases, 10000), 3),
                                                                 index=rec.index), kept_pool, keep_pool=True, **args),
    }
    # validation cases (each user's record before the test one) choose the isolated need classifier;
    # only the isolated pipeline reads them
    if {"isolated", "isolated_ctx"} & set(config.variants):
        out["valid_clustered"] = prompts.build_cases(data, rec, pd.Series(sample((rec["split"] == "val") & (rec["city"] == city),
                                                                                  2000, 4), index=rec.index),
                                                     kept_pool, keep_pool=True, **args)
    test = rec["split"] == "test"
    for name, pool in (("test_raw", raw_pool), ("test_clustered", kept_pool)):
        cases = prompts.build_cases(data, rec, test, pool, keep_pool=True, **args)
        cases["set"] = np.where(cases["city"] == city, "test", "cross_city")
        out[name] = cases
    out["rl_cases"] = out["train_clustered"].sample(
        min(len(out["train_clustered"]), config.rl_steps * config.rl_prompts), random_state=seed)
    out["popularity"] = popularity
    return out


# ---- the data job's folder -------------------------------------------------------------------------
def write_folder(folder: Path, data: NeedsData, records: pd.DataFrame, cases: dict) -> None:
    """The dataset's tables (``records`` with clustering columns) and the cases, as parquet in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        (records if name == "records" else getattr(data, name)).to_parquet(folder / f"{name}.parquet", index=False)
    for name in CASES:
        cases[name].to_parquet(folder / f"{name}.parquet", index=False)


def read_data(folder: Path, name: str) -> NeedsData:
    """The ``NeedsData`` a data job wrote (records carry the clustering columns too)."""
    return NeedsData(**{t: pd.read_parquet(folder / f"{t}.parquet") for t in TABLES}, name=name)


def read_cases(folder: Path) -> dict[str, pd.DataFrame]:
    return {c: pd.read_parquet(folder / f"{c}.parquet") for c in CASES}
