"""The method's work as job functions for ``workbench.runner`` (``pipeline.plan`` lists the jobs).

Per seed ``s``:

- ``seed{s}/data`` (``prepare``): world or real data, behavioral clustering, the cases, and the
  three baselines (popularity, history, isolated) scored on the test cases. Writes the tables and
  cases the LM jobs read (``data.write_folder``) and ``marked.parquet`` (the baselines' predictions).
- ``seed{s}/{variant}`` (``train_variant``) for the LM variants: ``clustered_sft``, ``flat`` and
  ``raw_sft`` train from scratch on the data job's folder; ``full`` (curriculum GRPO), ``rl_sparse``
  (GRPO with the full-path reward only) and ``sft_more`` (SFT for the same compute) continue the
  model ``seed{s}/clustered_sft`` saved in its folder; ``full_greedy`` only scores ``seed{s}/full``'s
  model again with one path. Each scores its model on the test cases (``marked.parquet``) and returns
  its curves and compute.

Once, for the run's main seed: ``umap`` (``layout``) places a sample of history records on the map
(UMAP's first call compiles for 10-50 s, so it runs beside the LM jobs rather than in ``write``).

Every job seeds itself from its spec and reads only files, so the numbers do not depend on which
process runs it or in which order.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from workbench.runner import JobContext
from workbench.lm import SFTSettings, TinyLMConfig
from workbench.needs import baselines, clustering, evaluate, inference, prompts, rewards, training, variants
from workbench.needs import prepare as seed_data  # the module; ``prepare`` below is the job
from workbench.needs.config import Config
from workbench.needs.prompts import Popularity
from workbench.runtime import StepTimer, resolve_device, seed_everything

JOB_COST = {"data": 0.15, "umap": 0.1}
"""Rough relative run time of the jobs that are no LM variant (the variants' own: ``variants.REGISTRY``)."""
MODEL = "model"
"""The folder (inside a variant's job folder) its saved model goes to, when another job or the run needs it."""


def max_tokens(config: Config) -> int:
    """The longest sequence the model trains on: 160 tokens, and 6 more per candidate of the block."""
    return 160 + 6 * config.candidates


def tiny_config(config: Config) -> TinyLMConfig:
    return TinyLMConfig(arch=config.arch, hidden=config.hidden, layers=config.layers, heads=config.heads,
                        intermediate=4 * config.hidden, max_len=max_tokens(config))


def needed(config: Config) -> list[str]:
    """LM variants to train, in registry order (with every variant a requested one starts from)."""
    return variants.needed(config.variants)


# ---- seed{s}/data --------------------------------------------------------------------------------
def prepare(ctx: JobContext) -> dict:
    """Data, clustering, cases and baselines of one seed, into the job's folder."""
    config, seed = Config.from_dict(ctx.spec["config"]), ctx.spec["seed"]
    seed_everything(seed)
    variants, timer = set(config.variants), StepTimer()
    with timer.step("world"):
        data = seed_data.load_data(config, seed)
        ctx.progress("world generated", 0.1)
    with timer.step("clustering"):
        clustered = seed_data.cluster_history(data, config, seed)
        quality = clustering.filter_quality(clustered["kept"], clustered["accidental"].fillna(False).astype(bool)) \
            if data.records["accidental"].notna().any() else {}
        ctx.progress("behavioral clustering done", 0.3)
    with timer.step("cases"):
        cases = seed_data.make_cases(data, config, clustered["kept"], seed)
        ctx.progress("prompts built", 0.7)
    marked, classifier = [], {}
    test_c, popularity = cases["test_clustered"], cases["popularity"]
    scenes, weathers = sorted(data.records["scene"].unique()), sorted(data.records["weather"].unique())
    with timer.step("baselines"):
        history = data.records[data.records["split"] != "test"]
        if "popularity" in variants:
            marked.append(evaluate.mark_cases(test_c, baselines.popularity_in_context(
                data, test_c, history, popularity, config.n_popular), "popularity"))
        if "history" in variants:
            marked.append(evaluate.mark_cases(test_c, baselines.user_history(data, test_c, popularity, config.n_popular),
                                              "history"))
        if variants & {"isolated", "isolated_ctx"}:
            clf, classifier = baselines.choose_need_classifier(config.need_classifier, cases["train_pooled"],
                                                               cases["valid_clustered"], data, scenes, weathers, seed)
        if "isolated" in variants:
            marked.append(evaluate.mark_cases(test_c, baselines.isolated(
                data, test_c, clf, scenes, weathers, popularity, config.n_popular, history), "isolated"))
        if "isolated_ctx" in variants:
            model, classifier["category_stage"] = baselines.choose_category_stage(
                cases["train_pooled"], cases["valid_clustered"], data, scenes, weathers, history, seed)
            marked.append(evaluate.mark_cases(test_c, baselines.isolated(
                data, test_c, clf, scenes, weathers, popularity, config.n_popular, history, model), "isolated_ctx"))
        ctx.progress("baselines scored", 0.95)
    seed_data.write_folder(ctx.folder, data, seed_data.with_clusters(data, clustered), cases)
    if marked:
        pd.concat(marked, ignore_index=True).to_parquet(ctx.folder / "marked.parquet", index=False)
    return {"name": data.name, "info": data.info, "main_city": seed_data.main_city(data), "quality": quality,
            "need_classifier": classifier, "timings": timer.as_dict()}


# ---- seed{s}/{variant} ---------------------------------------------------------------------------
def train_variant(ctx: JobContext) -> dict:
    """Train one LM variant and score it on the test cases (``marked.parquet``); curves in the result."""
    spec = ctx.spec
    name, seed, config = spec["variant"], spec["seed"], Config.from_dict(spec["config"])
    seed_everything(seed)
    device = str(resolve_device(config.device))
    folder = ctx.dep_folder(spec["data"])
    timer = StepTimer()
    data = seed_data.read_data(folder, config.dataset)
    history = data.records[data.records["split"] != "test"]
    popularity = Popularity.from_records(history, data.merchants)
    cases = seed_data.read_cases(folder)
    sft = SFTSettings(steps=config.sft_steps, batch_size=config.sft_batch, lr=config.sft_lr, warmup=30,
                      max_length=max_tokens(config), log_every=10, seed=seed, device=device, completion_only_loss=not config.prompt_loss,
                      batch_softmax=config.batch_softmax,
                      batch_negatives=config.batch_negatives if config.batch_softmax else 0)
    variant = variants.REGISTRY[name]
    out: dict = {"sft_curve": [], "rl_log": []}
    train_share = 0.85
    train_progress = lambda m, f: ctx.progress(m, train_share * f)  # noqa: E731
    with timer.step(f"train_{name}"):
        if variant.starts_from:
            start = ctx.dep_folder(spec["starts_from"]) / MODEL
            model, tok = training.resume_model(start, config.base_checkpoint, config.lora_r, device)
            info = {"kind": ("the model of " if variant.training == "none" else "continued from ") + variant.starts_from}
        else:
            model, tok, info = training.initial_model(tiny_config(config), data, config.base_checkpoint, config.lora_r,
                                                      seed, device, config.tokenizer, config.subword_vocab,
                                                      config.candidates > 0)
        train = cases[variant.train_cases]
        if variant.training == "none":  # the model it starts from, only scored again
            sequences = 0
        elif variant.training == "sft":
            phases = training.CURRICULUM if config.curriculum and not variant.flat else (("services", 1.0),)
            out["sft_curve"] = training.curriculum_sft(
                model, tok, train, sft, phases, column="flat_completion" if variant.flat else "completion",
                progress=train_progress, label=f"SFT {'flat' if variant.flat else name}",
                prompt_loss_stages=None if variant.flat else config.prompt_loss_stages)
            sequences = config.sft_steps * config.sft_batch
        elif variant.training == "continued_sft":
            more = replace(sft, steps=config.rl_steps, batch_size=config.rl_prompts * config.rl_generations,
                           lr=config.sft_lr / 10, warmup=0, scheduler="constant",
                           log_every=max(1, config.rl_steps // 20))
            out["sft_curve"] = training.curriculum_sft(model, tok, train, more, (("services", 1.0),),
                                                       progress=train_progress, label="SFT continued")
            sequences = config.rl_steps * config.rl_prompts * config.rl_generations
        else:
            vocab = rewards.RewardVocab(phrase_need=data.phrase_need,
                                        need_categories={n: set(c) for n, c in data.need_categories.items()},
                                        merchants=set(data.merchants["merchant"]))
            schedule, gates = variant.rewards(config.candidates > 0)
            logged = rewards.REWARDS + (rewards.BLOCK_REWARDS if config.candidates else ())
            observe = tuple(r for r in logged if r not in schedule)
            funcs, weights = rewards.reward_functions(vocab, schedule, observe=observe, gates=gates,
                                                      patience=config.rl_gate_patience)
            grpo = training.GRPOSettings(steps=config.rl_steps, prompts_per_step=config.rl_prompts,
                                         generations=config.rl_generations, lr=config.rl_lr, beta=config.rl_beta,
                                         temperature=config.rl_temperature, seed=seed, device=device)
            out["rl_log"] = training.train_grpo(model, tok, train, funcs, grpo, weights=weights,
                                                progress=train_progress, label=f"GRPO {name}",
                                                block=candidate_blocks(config, data, train, popularity))
            sequences = config.rl_steps * config.rl_prompts * config.rl_generations
        out["compute"] = {"sequences": sequences, **info}
    if spec["save"]:
        model = training.save_model(model, tok, ctx.folder / MODEL)
    with timer.step(f"eval_{name}"):
        report = lambda m, f: ctx.progress(f"{name}: {m}", train_share + (1 - train_share) * f)  # noqa: E731
        test = cases[variant.test_cases]
        if variant.flat:
            preds = inference.predict_flat(model, tok, test, progress=report)
        else:
            preds = inference.predict_chains(model, tok, data, test, popularity, config.n_popular,
                                             beams=variant.beams or config.chain_beams, progress=report,
                                             rank=config.chain_rank,
                                             block_size=config.candidates)
        evaluate.mark_cases(test, preds, name).to_parquet(ctx.folder / "marked.parquet", index=False)
    out["timings"] = timer.as_dict()
    return out


def candidate_blocks(config: Config, data, cases: pd.DataFrame, popularity: Popularity):
    """``f(case position, category) -> block text`` for the GRPO rollouts (``training.block_rollout``):
    the ``candidates`` block of a sampled category for a training case (``""`` for a category that does
    not exist); None when the setting is off."""
    if not config.candidates:
        return None
    known = set(data.category_need)

    def block(position: int, category: str) -> str:
        if category not in known:
            return ""
        case = cases.iloc[position]
        return prompts.candidate_block(prompts.case_pool(case), case, category, popularity, config.n_popular,
                                       config.candidates)[1]

    return block


# ---- umap ----------------------------------------------------------------------------------------
def layout(ctx: JobContext) -> dict:
    """The 2-D map of a sample of the main seed's history records (``layout.parquet``)."""
    config = Config.from_dict(ctx.spec["config"])
    seed_everything(config.seed)
    timer = StepTimer()
    with timer.step("umap"):
        ctx.progress("UMAP layout of the records", 0.0)
        data = seed_data.read_data(ctx.dep_folder(ctx.spec["data"]), config.dataset)
        records = data.records
        history = records[records["split"] != "test"]
        features = clustering.record_features(history, sorted(records["scene"].unique()), data.needs)
        clustering.umap_layout(features, history, config.umap_points, config.seed, config.map_method).to_parquet(
            ctx.folder / "layout.parquet", index=False)
    return {"timings": timer.as_dict()}
