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

import copy
from dataclasses import replace

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.lm import SFTSettings, TinyLMConfig
from workbench.needs import baselines, clustering, evaluate, inference, prompts, rewards, training
from workbench.needs.config import Config
from workbench.needs.schema import NeedsData
from workbench.needs.world import WorldSpec, generate_world
from workbench.progress import Progress, scaled, silent
from workbench.runtime import StepTimer, seed_everything

METHOD = "needs"
TITLE = "Living needs → services"
DATASETS = {"foursquare": "Foursquare NYC check-ins (csv with tid,label,day,hour,poi,category,... columns); "
                          "need = top-level category, service = venue"}
CLAIMS = evaluate.CLAIMS
LM_VARIANTS = ("flat", "raw_sft", "clustered_sft", "sft_more", "rl_sparse", "full")
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
def tiny_config(config: Config) -> TinyLMConfig:
    return TinyLMConfig(arch=config.arch, hidden=config.hidden, layers=config.layers, heads=config.heads,
                        intermediate=4 * config.hidden, max_len=160)


def reward_vocab(data: NeedsData) -> rewards.RewardVocab:
    return rewards.RewardVocab(phrase_need=data.phrase_need,
                               need_categories={n: set(c) for n, c in data.need_categories.items()},
                               merchants=set(data.merchants["merchant"]))


def run_seed(config: Config, seed: int, progress: Progress, timer: StepTimer, tag: str = "") -> dict:
    """Everything for one seed; returns tables, curves and the trained full model."""
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
    marked, sft_curves, rl_curves, compute = [], [], [], {}
    test_c, test_r = cases["test_clustered"], cases["test_raw"]
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

    sft = SFTSettings(steps=config.sft_steps, batch_size=config.sft_batch, lr=config.sft_lr, warmup_steps=30,
                      max_length=160, log_every=10, seed=seed, device=config.device)
    phases = training.CURRICULUM if config.curriculum else (("services", 1.0),)
    lm_needed = variants & set(LM_VARIANTS)
    plan = [v for v in ("raw_sft", "clustered_sft", "flat") if v in lm_needed
            or (v == "clustered_sft" and lm_needed & {"sft_more", "rl_sparse", "full"})]
    slices = np.linspace(0.12, 0.62, len(plan) + 1)
    models: dict[str, tuple] = {}
    tok = None
    for i, name in enumerate(plan):
        with step(f"sft_{name}"):
            seed_everything(seed)
            model, tok, model_info = training.initial_model(tiny_config(config), data, config.base_checkpoint,
                                                            config.lora_r, seed, config.device)
            train = cases["train_raw"] if name == "raw_sft" else cases["train_clustered"]
            report = scaled(progress, slices[i], slices[i + 1])
            if name == "flat":
                curve = training.curriculum_sft(model, tok, train, sft, (("services", 1.0),), column="flat_completion",
                                                progress=report, label="SFT flat")
            else:
                curve = training.curriculum_sft(model, tok, train, sft, phases, progress=report, label=f"SFT {name}")
            sft_curves += [{"seed": seed, "variant": name, **row} for row in curve]
            compute[name] = {"sequences": config.sft_steps * config.sft_batch, **model_info}
            models[name] = model

    vocab = reward_vocab(data)
    rl_cases = cases["train_clustered"].sample(min(len(cases["train_clustered"]), config.rl_steps * config.rl_prompts),
                                               random_state=seed)
    grpo = training.GRPOSettings(steps=config.rl_steps, prompts_per_step=config.rl_prompts,
                                 generations=config.rl_generations, lr=config.rl_lr, beta=config.rl_beta,
                                 temperature=config.rl_temperature, seed=seed, device=config.device)
    third = 1 / 3
    schedules = {
        "full": {"format": 0.0, "need_semantic": 0.0, "category": third, "service": 2 * third},
        "rl_sparse": {"full_path": 0.0},
    }
    continuations = [v for v in ("full", "rl_sparse", "sft_more") if v in variants]
    slices = np.linspace(0.62, 0.86, len(continuations) + 1)
    for i, name in enumerate(continuations):
        report = scaled(progress, slices[i], slices[i + 1])
        with step(f"{'rl' if name != 'sft_more' else 'sft'}_{name}"):
            seed_everything(seed)
            model = copy.deepcopy(models["clustered_sft"])
            if name == "sft_more":
                more = replace(sft, steps=config.rl_steps, batch_size=config.rl_prompts * config.rl_generations,
                               lr=config.sft_lr / 10, warmup_steps=0, scheduler="constant", log_every=max(1, config.rl_steps // 20))
                curve = training.curriculum_sft(model, tok, rl_cases, more, (("services", 1.0),), progress=report,
                                                label="SFT continued")
                sft_curves += [{"seed": seed, "variant": name, **row} for row in curve]
            else:
                schedule = schedules[name]
                observe = tuple(r for r in rewards.REWARDS if r not in schedule)
                funcs, weights = rewards.reward_functions(vocab, schedule, observe=observe)
                log = training.train_grpo(model, tok, rl_cases, funcs, replace(grpo, seed=seed), weights=weights,
                                          progress=report, label=f"GRPO {name}")
                rl_curves += [{"seed": seed, "variant": name, **row} for row in log]
            compute[name] = {"sequences": config.rl_steps * config.rl_prompts * config.rl_generations}
            models[name] = model

    with step("evaluate"):
        lm_eval = [v for v in LM_VARIANTS if v in variants]
        for i, name in enumerate(lm_eval):
            report = scaled(progress, 0.86 + 0.12 * i / len(lm_eval), 0.86 + 0.12 * (i + 1) / len(lm_eval))
            model = models[name]
            cases_v = test_r if name == "raw_sft" else test_c
            if name == "flat":
                preds = inference.predict_flat(model, tok, cases_v, progress=report)
            else:
                preds = inference.predict_chains(model, tok, data, cases_v, popularity, config.n_popular,
                                                 beams=config.chain_beams, progress=report)
            marked.append(evaluate.mark_cases(cases_v, preds, name))
    marked_frame = pd.concat(marked, ignore_index=True)
    marked_frame.insert(0, "seed", seed)
    return {"data": data, "clustered": clustered, "quality": quality, "cases": cases, "marked": marked_frame,
            "sft_curves": sft_curves, "rl_curves": rl_curves, "compute": compute,
            "full_model": models.get("full"), "tokenizer": tok}


# ---- the build -----------------------------------------------------------------------------------
def records_table(result: dict, config: Config, seed: int) -> pd.DataFrame:
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
        results = []
        for i, seed in enumerate(seeds):
            report = scaled(progress, i / len(seeds) * 0.97, (i + 1) / len(seeds) * 0.97)
            results.append(run_seed(config, seed, report, timer, tag="" if i == 0 else f"_seed{seed}"))
        main = results[0]
        with timer.step("umap"):
            progress("UMAP layout of the records", 0.97)
            records = records_table(main, config, config.seed)
            history = records[records["split"] != "test"]
            features = clustering.record_features(history, sorted(records["scene"].unique()), main["data"].needs)
            layout = clustering.umap_layout(features, history, config.umap_points, config.seed, config.map_method)
            records = records.merge(layout, on="record", how="left")
        with timer.step("write"):
            marked = pd.concat([r["marked"] for r in results], ignore_index=True)
            metrics = evaluate.metrics_table(marked, main["data"].needs)
            filter_rows = []
            for seed, r in zip(seeds, results):
                q = dict(r["quality"])
                if q and len(seeds) == 1:  # one seed: a bootstrap interval over users for min(P, R)
                    q["min_low"], q["min_high"] = filter_interval(r["clustered"], seed)
                filter_rows.append({"seed": seed, **q})
            run.write_parquet("records", records)
            data = main["data"]
            run.write_parquet("users", data.users)
            run.write_parquet("merchants", data.merchants)
            run.write_parquet("phrases", data.phrases)
            run.write_parquet("categories", data.categories)
            run.write_parquet("cases", cases_table(main))
            run.write_parquet("predictions", marked)
            run.write_parquet("metrics", metrics)
            run.write_parquet("sft_curves", pd.DataFrame([r for res in results for r in res["sft_curves"]]))
            run.write_parquet("rl_curves", pd.DataFrame([r for res in results for r in res["rl_curves"]]))
            run.write_json("filter", {"settings": {k: getattr(config, k) for k in (
                "cluster_algorithm", "cluster_eps", "min_support", "min_pop_share")}, "quality": filter_rows})
            run.write_json("compute", {"seed": config.seed, "variants": main["compute"],
                                       "timings": timer.as_dict()})
            train = main["cases"]["train_clustered"]
            run.write_json("examples", train[["prompt", "completion", "flat_completion"]].head(5).to_dict("records"))
            run.write_json("dataset", {"name": data.name, **data.info, "main_city": main_city(data),
                                       "variants": {v: evaluate.VARIANTS[v] for v in config.variants}})
            if main["full_model"] is not None:
                run.save_model("model_full", training.merged(main["full_model"]), main["tokenizer"])
            claims = evaluate.compute_claims(marked, filter_rows, config.dataset, config.profile)
            run.write_json("claims", claims)
        progress("done", 1.0)
        return run.finish(timer.as_dict(), seeds=seeds)


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
