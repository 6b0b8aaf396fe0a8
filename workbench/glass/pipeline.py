"""GLASS end to end: data → semantic IDs → TIGER, GLASS, ablations and baselines → claims.

``plan(config, seeds)`` describes the work as jobs (``jobs.py``): per seed ``seed{s}/data`` (the
world or real dataset and its SID setups, as files) and one ``seed{s}/{system}`` per system,
depending on it. ``write`` assembles what the notebook and the SID-tree page read:

    summary.json          the data description, headline table, SID statistics
    results.parquet       one row per system × slice × seed (Recall/NDCG@K, level accuracies, P1/P12/P123, gate)
    per_case/<system>.parquet   per-case metrics of the first seed (intervals, slices)
    diagnostics.json      rank progression, gate vs retrieved length, invalid-SID rates, learning curves
    items.parquet         every item: name, SID (base and resized codebooks), planted topic
    test_cases.parquet    the held-out cases: user, cut, target, slice flags
    beams_<system>.parquet   top-10 beams of TIGER and GLASS per test case (SID, item, score, gate)
    walkthrough.safetensors  test windows, SID-Tier vectors, hard-search buckets, tier edges, prototypes
    <system>.safetensors     TIGER and GLASS weights (spec in the metadata)
    claims.json           the GLASS claim rows (every seed's per-case tables, ``claims.claim_rows``)
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from safetensors import safe_open
from safetensors.torch import load_file

from workbench.glass import real
from workbench.glass.config import Config
from workbench.glass.jobs import SAVED_MODELS, load_data
from workbench.glass.semantic_ids import sid_warnings
from workbench.glass.systems import (
    LABELS, SEARCH_SYSTEMS, SID_SYSTEMS, expand_systems, setups_needed, summary_rows,
)
from workbench.glass.claims import CLAIMS, claim_rows
from workbench.runner import Job, gpu_share
from workbench.runtime import resolve_device

TITLE = "GLASS: long-term interests in generative recommendation"
DATASETS = {
    "s3rec": "Any S3-Rec sequence benchmark (<Name>.txt + optional <Name>_item2attributes.json: Beauty, "
             "Sports_and_Outdoors, Toys_and_Games, Yelp, LastFM); pick one with --set name=<Name> or pass the "
             ".txt file; leave-one-out, item embeddings from attributes + co-occurrence (co-occurrence alone without attributes)",
    "amazon_beauty": "Alias of s3rec with name=Beauty (Amazon Beauty 5-core: Beauty.txt + Beauty_item2attributes.json)",
    "movielens": "MovieLens latest-small (ratings.csv + movies.csv); long histories, item embeddings from "
                 "titles + genres with the offline MiniLM encoder",
}
METHOD = "glass"

__all__ = ["CLAIMS", "DATASETS", "TITLE", "Config", "load_data", "load_sid_model", "plan", "write"]


def _systems(config: Config) -> list[str]:
    return expand_systems(config.systems, config.dataset == "synthetic")


def job_cost(config: Config, system: str) -> float:
    """Rough single-thread CPU seconds of a job (it only weighs the job's share of the progress bar).

    A model costs its optimiser steps × the work of one step (batch × width × feed-forward width ×
    blocks; hard search adds a cross-attention to every decoder block), beam search over the test
    cases and about a second of fixed work; the data job costs the world's histories plus one pass over
    the cases per SID setup. Constants measured on the demo profile.
    """
    if system == "popularity":
        return 0.05
    if system == "data":
        users = config.train_users + config.test_users
        history = users * (config.history_min + config.history_max) / 2
        cases = config.train_users * config.cases_per_user + config.test_users
        setups = len(setups_needed(_systems(config)))
        return 3.4e-5 * history + 1.3e-4 * cases * setups if config.dataset == "synthetic" else 30.0
    if system == "sasrec":
        return 2.8e-8 * config.sasrec_steps * config.batch_size * config.d_model * config.d_ff * 2 * max(1, config.enc_layers)
    search = system in SEARCH_SYSTEMS
    blocks = config.enc_layers + config.dec_layers * (1.5 if search else 1.0)
    train = 2.8e-8 * config.steps * config.batch_size * config.d_model * config.d_ff * blocks
    decode = 1.1e-4 * config.test_users * config.beam * (2 if search else 1) * (2 if system in SAVED_MODELS else 1)
    return 1.0 + train + decode  # + reading the setup, building the model, scoring


def plan(config: Config, seeds: list[int]) -> list[Job]:
    """Per seed a data job, then one job per system of ``config.systems`` that reads its files."""
    if config.dataset != "synthetic":
        real.check(config)  # a wrong dataset or path fails here, before any job starts
    share = gpu_share(config.device)
    spec = config.to_dict()
    jobs = []
    for seed in seeds:
        data = f"seed{seed}/data"
        jobs.append(Job(data, "workbench.glass.jobs:prepare_seed", {"config": spec, "seed": seed},
                        cost=job_cost(config, "data")))
        for system in _systems(config):
            trains = system == "sasrec" or system in SID_SYSTEMS
            jobs.append(Job(f"seed{seed}/{system}", "workbench.glass.jobs:train_one",
                            {"config": spec, "seed": seed, "system": system, "keep": seed == seeds[0]},
                            deps=(data,), gpu_share=share if trains else 0.0,
                            cost=job_cost(config, system)))
    return jobs


def write(run, config: Config, seeds: list[int], results: dict[str, dict], folder: Path) -> None:
    """The run's artifacts from the jobs' files and results (first seed for the single-seed views)."""
    systems = _systems(config)
    tables = [{name: pd.read_parquet(folder / f"seed{s}" / name / "per_case.parquet") for name in systems}
              for s in seeds]
    first, data = seeds[0], results[f"seed{seeds[0]}/data"]
    run.write_parquet("results", pd.DataFrame([r for s, t in zip(seeds, tables) for r in summary_rows(t, s)]))

    data_folder = folder / f"seed{first}" / "data"
    run.write_parquet("items", pd.read_parquet(data_folder / "items.parquet"))
    run.write_parquet("test_cases", pd.read_parquet(data_folder / "test_cases.parquet"))
    run.write_tensors("walkthrough", load_file(str(data_folder / "walkthrough.safetensors")))
    for name in systems:
        run.write_parquet(f"per_case/{name}", tables[0][name])
        job_folder = folder / f"seed{first}" / name
        if name in SAVED_MODELS and (job_folder / "model.safetensors").exists():
            run.write_parquet(f"beams_{name}", pd.read_parquet(job_folder / "beams.parquet"))
            with safe_open(str(job_folder / "model.safetensors"), framework="pt") as fh:
                metadata = fh.metadata()
            run.write_tensors(name, load_file(str(job_folder / "model.safetensors")), metadata=metadata)

    diagnostics = {}
    for name in systems:
        r = results[f"seed{first}/{name}"]
        diagnostics[name] = {**r["diagnostics"], "curve": r["curve"], "seconds": r["seconds"], "label": LABELS[name]}
    run.write_json("diagnostics", diagnostics)
    run.write_json("claims", claim_rows(tables, config.dataset, config.profile))
    headline = [r for r in summary_rows(tables[0], first) if r["slice"] == "all"]
    run.write_json("summary", {
        "data": data["description"], "device": str(resolve_device(config.device)), "seeds": seeds,
        "sid_stats": data["sid_tables"], "headline": headline,
        "sid_warnings": {k: sid_warnings(v) for k, v in data["sid_tables"].items()},
        "test cases": data["test cases"], "absent share": data["absent share"],
    })


def load_sid_model(run, name: str = "glass"):
    """The trained TIGER or GLASS of a built run (weights + spec from ``<name>.safetensors``)."""
    from workbench.glass.model import ModelSpec, SeqRecModel

    path = run.file(f"{name}.safetensors")
    with safe_open(str(path), framework="pt") as fh:
        spec = json.loads(fh.metadata()["spec"])
    spec = ModelSpec(**{**spec, "sizes": tuple(spec["sizes"])})
    state = run.read_tensors(name)
    model = SeqRecModel(spec, state["item_tokens"][:-1] - state["offsets"])
    model.load_state_dict(state)
    return model.eval()
