"""GLASS end to end: data → semantic IDs → TIGER, GLASS, ablations and baselines → claims.

``build(config, store)`` runs ``study.run_study`` for the seed (and, in the full profile, the extra
seeds) and writes what the notebook and the SID-tree page read:

    summary.json          the data description, headline table, SID statistics, timings
    results.parquet       one row per system × slice × seed (Recall/NDCG@K, level accuracies, P1/P12/P123, gate)
    per_case/<system>.parquet   per-case metrics of the first seed (intervals, slices)
    diagnostics.json      rank progression, gate vs retrieved length, invalid-SID rates, learning curves
    items.parquet         every item: name, SID (base and resized codebooks), planted topic
    test_cases.parquet    the held-out cases: user, cut, target, slice flags
    beams_<system>.parquet   top-10 beams of TIGER and GLASS per test case (SID, item, score, gate)
    walkthrough.safetensors  test windows, SID-Tier vectors, hard-search buckets, tier edges, prototypes
    <system>.safetensors     TIGER and GLASS weights (spec in the metadata)
    claims.json           the GLASS claim rows
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from workbench.glass import real
from workbench.glass.config import Config
from workbench.glass.semantic_ids import sid_warnings
from workbench.glass.study import LABELS, Study, run_study, summary_rows
from workbench.glass.verdicts import CLAIMS, measure
from workbench.glass.world import make_world
from workbench.progress import Progress, scaled
from workbench.runtime import StepTimer, resolve_device, seed_everything

TITLE = "GLASS: long-term interests in generative recommendation"
DATASETS = {
    "amazon_beauty": "Amazon Beauty 5-core in S3-Rec format (Beauty.txt + Beauty_item2attributes.json); "
                     "leave-one-out, item embeddings from attributes + co-occurrence",
    "movielens": "MovieLens latest-small (ratings.csv + movies.csv); long histories, item embeddings from "
                 "titles + genres with the offline MiniLM encoder",
}
METHOD = "glass"
SAVED_MODELS = ("tiger", "glass")

__all__ = ["CLAIMS", "DATASETS", "TITLE", "Config", "build", "load_data", "load_sid_model"]


def world_kwargs(config: Config, noise: float | None = None) -> dict:
    return dict(
        n_topics=config.n_topics, n_subtopics=config.n_subtopics, styles=config.styles, dim=config.emb_dim,
        noise=config.noise if noise is None else noise, n_train_users=config.train_users,
        n_test_users=config.test_users, cases_per_user=config.cases_per_user,
        history=(config.history_min, config.history_max), window=config.window, p_absent=config.p_absent,
        p_favourite=config.p_favourite,
    )


def load_data(config: Config, seed: int | None = None):
    """(data, noisy twin or None, world or None) for the configured dataset and seed."""
    seed = config.seed if seed is None else seed
    if config.dataset == "synthetic":
        world = make_world(**world_kwargs(config), seed=seed)
        noisy = None
        if "noise" in config.systems:
            noisy = make_world(**world_kwargs(config, config.noisy_level), seed=seed).data
        return world.data, noisy, world
    return real.load(config), None, None


def _write_first_seed(run, study: Study, config: Config, world) -> None:
    data, base = study.data, study.setups["base"]
    items = pd.DataFrame({"item": np.arange(data.n_items), "name": data.item_names or [str(i) for i in range(data.n_items)]})
    for level in range(base.sids.levels):
        items[f"c{level + 1}"] = base.sids.codes[:, level]
    if "resized" in study.setups:
        for level in range(study.setups["resized"].sids.levels):
            items[f"resized c{level + 1}"] = study.setups["resized"].sids.codes[:, level]
    if data.item_groups is not None:
        items["topic"] = data.item_groups
    run.write_parquet("items", items)

    test = base.test
    cases = test.cases[["user", "cut", "target", "absent"]].copy()
    cases["absent (codes)"] = test.absent_code
    cases["long history"] = test.long_length
    run.write_parquet("test_cases", cases)
    tensors = {
        "window": torch.as_tensor(test.window), "tier": torch.as_tensor(test.tier),
        "bucket_offsets": torch.as_tensor(test.buckets.offsets), "bucket_codes": torch.as_tensor(test.buckets.codes),
        "bucket_items": torch.as_tensor(test.buckets.items), "tier_edges": torch.as_tensor(base.tier_edges),
        "prototypes": torch.as_tensor(base.prototypes),
    }
    if world is not None:
        tensors["user_topics"] = torch.as_tensor(world.user_topics[test.cases["user"].to_numpy()])
        tensors["user_strength"] = torch.as_tensor(world.user_strength[test.cases["user"].to_numpy()]).float()
    run.write_tensors("walkthrough", tensors)

    for name, res in study.systems.items():
        run.write_parquet(f"per_case/{name}", res.per_case)
        if name in SAVED_MODELS and res.beams is not None:
            b = res.beams
            n, k = b.items.shape[0], min(10, b.items.shape[1])
            frame = pd.DataFrame({"case": np.repeat(np.arange(n), k), "rank": np.tile(np.arange(1, k + 1), n),
                                  "item": b.items[:, :k].ravel(), "score": b.scores[:, :k].ravel()})
            for level in range(b.sids.shape[2]):
                frame[f"c{level + 1}"] = b.sids[:, :k, level].ravel()
            frame["gate"] = b.gates[:, :k].ravel() if b.gates is not None else np.nan
            run.write_parquet(f"beams_{name}", frame)
            spec = res.model.spec.to_dict()
            run.write_tensors(name, res.model.state_dict(), metadata={"spec": json.dumps(spec)})


def load_sid_model(run, name: str = "glass"):
    """The trained TIGER or GLASS of a built run (weights + spec from ``<name>.safetensors``)."""
    from safetensors import safe_open

    from workbench.glass.model import ModelSpec, SeqRecModel

    path = run.file(f"{name}.safetensors")
    with safe_open(str(path), framework="pt") as fh:
        spec = json.loads(fh.metadata()["spec"])
    spec = ModelSpec(**{**spec, "sizes": tuple(spec["sizes"])})
    state = run.read_tensors(name)
    model = SeqRecModel(spec, state["item_tokens"][:-1] - state["offsets"])
    model.load_state_dict(state)
    return model.eval()


def build(config: Config, store, progress: Progress | None = None):
    """Build (or find) the run of these settings."""
    if existing := store.find(METHOD, config):
        return existing
    progress = progress or (lambda m, f: None)
    device = resolve_device(config.device)
    timer = StepTimer()
    seeds = [config.seed, *[s for s in config.seeds if s != config.seed]]
    with store.create(METHOD, config) as run:
        studies: list[Study] = []
        world = None
        for i, seed in enumerate(seeds):
            part = scaled(progress, i / len(seeds), (i + 1) / len(seeds))
            seed_everything(seed)
            with timer.step(f"data (seed {seed})"):
                part(f"seed {seed}: preparing data", 0.0)
                data, noisy, w = load_data(config, seed)
                world = world if i else w
            with timer.step(f"study (seed {seed})"):
                studies.append(run_study(replace(config, seed=seed), data, seed, device, scaled(part, 0.05, 1.0), noisy))
        with timer.step("write"):
            progress("writing artifacts", 0.97)
            first = studies[0]
            rows = [r for s in studies for r in summary_rows(s)]
            run.write_parquet("results", pd.DataFrame(rows))
            _write_first_seed(run, first, config, world)
            diagnostics = {
                name: {**res.diagnostics, "curve": res.curve, "seconds": round(res.seconds, 2), "label": LABELS[name]}
                for name, res in first.systems.items()
            }
            run.write_json("diagnostics", diagnostics)
            claims = measure(studies, config.dataset, config.profile)
            run.write_json("claims", claims)
            headline = [r for r in summary_rows(first) if r["slice"] == "all"]
            run.write_json("summary", {
                "data": first.data.description, "device": str(device), "seeds": seeds,
                "sid_stats": first.sid_tables, "headline": headline,
                "sid_warnings": {k: sid_warnings(v) for k, v in first.sid_tables.items()},
                "test cases": len(first.setups["base"].test), "absent share": float(first.setups["base"].test.cases["absent"].mean()),
            })
        progress("done", 1.0)
        return run.finish(timer.as_dict(), device=str(device), data=first.data.description)
