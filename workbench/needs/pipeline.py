"""Method 1 as jobs: per seed, data → the LM variants; once, the UMAP map; then ``write`` gathers
everything into one run folder that the app and notebook read (``workbench.methods`` runs the jobs).

The jobs (``plan``; the job functions are in ``jobs``)::

    seed{s}/data                                  world, clustering, cases, baselines
    seed{s}/clustered_sft, flat, raw_sft          ← seed{s}/data
    seed{s}/full, rl_sparse, sft_more             ← seed{s}/data, seed{s}/clustered_sft (its saved model)
    seed{s}/full_greedy                           ← seed{s}/data, seed{s}/full (its saved model)
    umap                                          ← seed{main}/data

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

Tables, cases and the model come from the main seed (``config.seed``); predictions, metrics, curves,
filter quality and claims from every seed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from workbench.runner import Job, gpu_share
from workbench.needs import claims, evaluate, jobs
from workbench.needs.config import Config
from workbench.needs.variants import REGISTRY

METHOD = "needs"
TITLE = "Living needs → services"
DATASETS = {"foursquare": "Foursquare NYC check-ins (MAT-Sum csv with tid,label,day,hour,poi,category,... columns); "
                          "need = top-level category, category = need x city area, service = venue",
            "foursquare-tsmc": "Raw TSMC2014 check-ins (dataset_TSMC2014_NYC.txt / _TKY.txt, or GETNext's csv); "
                               "need = top-level category, category = fine venue category, service = venue"}
CLAIMS = claims.CLAIMS


def plan(config: Config, seeds: list[int]) -> list[Job]:
    """Data jobs first (they unblock everything), then each seed's LM variants, the map before the
    continuations (it is ready earlier and fills a worker while ``clustered_sft`` trains)."""
    if config.dataset != "synthetic":
        from workbench.needs.real import check

        check(config)  # a wrong dataset, path or category table fails here, before any job starts
    settings = json.loads(json.dumps(config.to_dict()))
    variants = jobs.needed(config)
    # COST is relative to one from-scratch SFT run, ~150 single-thread CPU s at the demo size
    unit = 150.0 * config.sft_steps / 1000 * (config.hidden * config.layers) / (96 * 2)
    out = [Job(f"seed{s}/data", "workbench.needs.jobs:prepare", {"config": settings, "seed": s},
               cost=jobs.JOB_COST["data"] * unit)
           for s in seeds]
    for s in seeds:
        data = f"seed{s}/data"
        for name in variants:
            start = REGISTRY[name].starts_from
            # saved when a requested variant continues it, and the main seed's full model for the app
            save = any(REGISTRY[v].starts_from == name for v in variants) or (name == "full" and s == seeds[0])
            spec = {"config": settings, "seed": s, "variant": name, "data": data, "save": save,
                    "starts_from": f"seed{s}/{start}" if start else None}
            deps = (data, f"seed{s}/{start}") if start else (data,)
            out.append(Job(f"seed{s}/{name}", "workbench.needs.jobs:train_variant", spec, deps, threads=1,
                           gpu_share=gpu_share(config.device), cost=REGISTRY[name].cost * unit))
    umap = Job("umap", "workbench.needs.jobs:layout", {"config": settings, "data": f"seed{seeds[0]}/data"},
               (f"seed{seeds[0]}/data",), cost=jobs.JOB_COST["umap"] * unit)
    first_continuation = next((i for i, j in enumerate(out) if j.spec.get("starts_from")), len(out))
    return [*out[:first_continuation], umap, *out[first_continuation:]]


# ---- write -----------------------------------------------------------------------------------------
def write(run, config: Config, seeds: list[int], results: dict[str, dict], folder: Path) -> None:
    """Every table, curve, the full model and the claims into the run folder, from the jobs' files."""
    main = folder / f"seed{seeds[0]}" / "data"
    prepared = results[f"seed{seeds[0]}/data"]
    variants = jobs.needed(config)
    records = pd.read_parquet(main / "records.parquet")
    records = records.merge(pd.read_parquet(folder / "umap" / "layout.parquet"), on="record", how="left")
    run.write_parquet("records", records)
    for name in ("users", "merchants", "phrases", "categories"):
        run.write_parquet(name, pd.read_parquet(main / f"{name}.parquet"))
    run.write_parquet("cases", cases_table(main))

    marked = pd.concat([seed_predictions(config, s, folder) for s in seeds], ignore_index=True)
    run.write_parquet("predictions", marked)
    needs = sorted(pd.read_parquet(main / "phrases.parquet")["need"].unique())
    run.write_parquet("metrics", evaluate.metrics_table(marked, needs))
    run.write_parquet("sft_curves", pd.DataFrame([{"seed": s, "variant": n, **row} for s in seeds for n in variants
                                                  for row in results[f"seed{s}/{n}"]["sft_curve"]]))
    run.write_parquet("rl_curves", pd.DataFrame([{"seed": s, "variant": n, **row} for s in seeds for n in variants
                                                for row in results[f"seed{s}/{n}"]["rl_log"]]))

    filter_rows, filter_boots = [], []
    for i, s in enumerate(seeds):
        quality = dict(results[f"seed{s}/data"]["quality"])
        if quality:  # planted accidental flags: min(P, R) bootstrapped over users
            history = pd.read_parquet(folder / f"seed{s}" / "data" / "records.parquet",
                                      columns=["user", "split", "kept", "accidental"]).query("split != 'test'")
            boot = claims.filter_bootstrap(history, i)
            quality["min_low"], quality["min_high"] = boot["low"], boot["high"]
            filter_boots.append(boot)
        filter_rows.append({"seed": s, **quality})
    run.write_json("filter", {"settings": {k: getattr(config, k) for k in (
        "cluster_algorithm", "cluster_eps", "min_support", "min_pop_share")}, "quality": filter_rows})
    run.write_json("compute", {"seed": config.seed, "variants": {n: results[f"seed{seeds[0]}/{n}"]["compute"] for n in variants},
                               "timings": step_timings(seeds, variants, results)})
    train = pd.read_parquet(main / "train_clustered.parquet", columns=["prompt", "completion", "flat_completion"])
    run.write_json("examples", train.head(5).to_dict("records"))
    run.write_json("dataset", {"name": prepared["name"], **prepared["info"], "main_city": prepared["main_city"],
                               "isolated_need_classifier": prepared.get("need_classifier", {}),
                               "variants": {v: evaluate.VARIANTS[v] for v in config.variants}})
    if "full" in variants:
        shutil.copytree(folder / f"seed{seeds[0]}" / "full" / jobs.MODEL, run.path / "model_full")
    run.write_json("claims", claims.claim_rows(marked, filter_rows, filter_boots, config.dataset, config.profile))


def seed_predictions(config: Config, seed: int, folder: Path) -> pd.DataFrame:
    """One seed's marked predictions: the baselines (from its data job), then the LM variants asked for."""
    frames = []
    if (folder / f"seed{seed}" / "data" / "marked.parquet").exists():
        frames.append(pd.read_parquet(folder / f"seed{seed}" / "data" / "marked.parquet"))
    frames += [pd.read_parquet(folder / f"seed{seed}" / name / "marked.parquet")
               for name in REGISTRY if name in config.variants]
    marked = pd.concat(frames, ignore_index=True)
    marked.insert(0, "seed", seed)
    return marked


def cases_table(data_folder: Path) -> pd.DataFrame:
    """The main seed's test cases with the prompt each kind of variant saw (clustered and raw history)."""
    keep = ["record", "user", "t", "city", "set", "day", "hour_bin", "scene", "weather", "need_text", "need",
            "category", "merchant", "long_tail", "prompt"]
    out = pd.read_parquet(data_folder / "test_clustered.parquet", columns=keep)
    raw = pd.read_parquet(data_folder / "test_raw.parquet", columns=["record", "prompt"])
    out["prompt_raw"] = raw.set_index("record").loc[out["record"], "prompt"].to_numpy()
    return out


def step_timings(seeds: list[int], variants: list[str], results: dict[str, dict]) -> dict:
    """Each job's own steps (world, clustering, cases, baselines, train_*, eval_*, umap); extra seeds tagged."""
    out: dict = {}
    for i, s in enumerate(seeds):
        tag = "" if i == 0 else f"_seed{s}"
        for name in ("data", *variants):
            out.update({f"{step}{tag}": t for step, t in results[f"seed{s}/{name}"]["timings"].items()})
    out.update(results["umap"]["timings"])
    return out
