"""The GLASS jobs: per seed one data job, then one job per system that depends on it.

``seed{s}/data`` (``prepare_seed``) generates the world of seed s (or loads the real dataset), builds
the SID setups the configured systems train on (``base``; ``resized``, ``neighbours``, ``noisy`` when
asked for) and writes them as files (``files.py``), with the tables the run shows for its first seed
(items, test cases, the walkthrough tensors).

``seed{s}/{system}`` (``train_one``) reads its setup back, trains the system with the seed, scores
it on the held-out cases and writes its per-case table; for the first seed TIGER and GLASS also write
their top-10 beams and their weights (spec in the safetensors metadata). It returns the diagnostics,
the learning curve and its seconds.

Every job seeds itself from its spec, so the numbers do not depend on which worker runs it or when.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from safetensors.numpy import save_file
from safetensors.torch import save_file as save_torch

from workbench.glass import real
from workbench.glass.config import Config
from workbench.glass.data import SeqData
from workbench.glass.decode import BeamResult
from workbench.glass.files import load_setup, save_setup
from workbench.glass.semantic_ids import sid_stats, sid_warnings
from workbench.glass.systems import SETUP_OF, SidSetup, expand_systems, setup_sids, setups_needed, train_system
from workbench.glass.world import make_world, noisy_twin
from workbench.runner import JobContext
from workbench.runtime import resolve_device, seed_everything

SAVED_MODELS = ("tiger", "glass")
"""Systems whose beams and weights the run keeps (first seed): the app and notebook show them."""


def world_kwargs(config: Config, noise: float | None = None) -> dict:
    return dict(
        n_topics=config.n_topics, n_subtopics=config.n_subtopics, styles=config.styles, dim=config.emb_dim,
        noise=config.noise if noise is None else noise, n_train_users=config.train_users,
        n_valid_users=config.valid_users, n_test_users=config.test_users, cases_per_user=config.cases_per_user,
        history=(config.history_min, config.history_max), window=config.window, p_absent=config.p_absent,
        p_favourite=config.p_favourite,
    )


def load_data(config: Config, seed: int | None = None):
    """(data, noisy twin or None, world or None) for the configured dataset and seed.

    The noisy twin is the same world with noisier item embeddings (``world.noisy_twin``): users,
    sequences and cases are the same, so its test cases pair with the base ones.
    """
    seed = config.seed if seed is None else seed
    if config.dataset == "synthetic":
        world = make_world(**world_kwargs(config), seed=seed)
        noisy = noisy_twin(world, config.noisy_level, seed) if "noise" in config.systems else None
        return world.data, noisy, world
    return real.load(config), None, None


# ---- seed{s}/data ---------------------------------------------------------------------------------------
def prepare_seed(ctx: JobContext) -> dict:
    """Data and every SID setup of one seed, as files; returns the data description and SID statistics."""
    config, seed = Config.from_dict(ctx.spec["config"]), ctx.spec["seed"]
    seed_everything(seed)
    ctx.progress(f"seed {seed}: preparing data", 0.0)
    data, noisy, world = load_data(config, seed)
    systems = expand_systems(config.systems, noisy is not None)
    sources = {"base": (data, config.codebook, False), "resized": (data, config.resized_codebook, False),
               "neighbours": (data, config.codebook, True), "noisy": (noisy, config.codebook, False)}
    setups: dict[str, SidSetup] = {}
    names = setups_needed(systems)
    for i, name in enumerate(names):
        ctx.progress(f"seed {seed}: semantic IDs and features ({name})", 0.1 + 0.8 * i / len(names))
        source, codebook, augment = sources[name]
        setups[name] = setup_sids(source, config, tuple(codebook), seed, augment=augment)
        save_setup(setups[name], ctx.folder / "setups" / name)
    tables = {name: sid_stats(setup.sids) for name, setup in setups.items()}
    for name, table in tables.items():  # the bucket sizes, before anything is trained
        for warning in sid_warnings(table):
            ctx.progress(f"SIDs ({name}): {warning}", 0.95)
    _write_tables(ctx, data, setups, world)
    base = setups["base"].test
    return {"description": data.description, "sid_tables": tables, "test cases": len(base),
            "absent share": float(base.cases["absent"].mean())}


def _write_tables(ctx: JobContext, data: SeqData, setups: dict[str, SidSetup], world) -> None:
    """``items``, ``test_cases`` and ``walkthrough`` of this seed, in the run's shapes."""
    base = setups["base"]
    items = pd.DataFrame({"item": np.arange(data.n_items), "name": data.item_names or [str(i) for i in range(data.n_items)]})
    for level in range(base.sids.levels):
        items[f"c{level + 1}"] = base.sids.codes[:, level]
    if "resized" in setups:
        for level in range(setups["resized"].sids.levels):
            items[f"resized c{level + 1}"] = setups["resized"].sids.codes[:, level]
    if data.item_groups is not None:
        items["topic"] = data.item_groups
    items.to_parquet(ctx.folder / "items.parquet", index=False)

    test = base.test
    cases = test.cases[["user", "cut", "target", "absent"]].copy()
    cases["absent (codes)"] = test.absent_code
    cases["long history"] = test.long_length
    cases.to_parquet(ctx.folder / "test_cases.parquet", index=False)
    tensors = {"window": test.window, "tier": test.tier, "bucket_offsets": test.buckets.offsets,
               "bucket_codes": test.buckets.codes, "bucket_items": test.buckets.items,
               "tier_edges": base.tier_edges, "prototypes": base.prototypes}
    if world is not None:
        users = test.cases["user"].to_numpy()
        tensors["user_topics"] = world.user_topics[users]
        tensors["user_strength"] = world.user_strength[users].astype(np.float32)
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(ctx.folder / "walkthrough.safetensors"))


# ---- seed{s}/{system} -----------------------------------------------------------------------------------
def train_one(ctx: JobContext) -> dict:
    """Train and score one system of one seed; its tables and (first seed) weights go to files."""
    config, seed, name = Config.from_dict(ctx.spec["config"]), ctx.spec["seed"], ctx.spec["system"]
    seed_everything(seed)
    device = resolve_device(config.device)
    setup = load_setup(ctx.dep_folder(f"seed{seed}/data") / "setups" / SETUP_OF.get(name, "base"))
    result = train_system(name, config, setup, seed, device, ctx.progress)
    result.per_case.to_parquet(ctx.folder / "per_case.parquet", index=False)
    if ctx.spec["keep"] and name in SAVED_MODELS:
        beams_frame(result.beams).to_parquet(ctx.folder / "beams.parquet", index=False)
        state = {k: v.detach().cpu().contiguous() for k, v in result.model.state_dict().items()}
        save_torch(state, str(ctx.folder / "model.safetensors"), metadata={"spec": json.dumps(result.model.spec.to_dict())})
    return {"diagnostics": result.diagnostics, "curve": result.curve, "seconds": round(result.seconds, 2)}


def beams_frame(b: BeamResult, k: int = 10) -> pd.DataFrame:
    """The top-``k`` beams of every case: SID codes, item, log-probability, gate (NaN without one)."""
    n, k = b.items.shape[0], min(k, b.items.shape[1])
    frame = pd.DataFrame({"case": np.repeat(np.arange(n), k), "rank": np.tile(np.arange(1, k + 1), n),
                          "item": b.items[:, :k].ravel(), "score": b.scores[:, :k].ravel()})
    for level in range(b.sids.shape[2]):
        frame[f"c{level + 1}"] = b.sids[:, :k, level].ravel()
    frame["gate"] = b.gates[:, :k].ravel() if b.gates is not None else np.nan
    return frame

