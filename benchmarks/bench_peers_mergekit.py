"""Our merges side by side with mergekit's (mergekit 0.1.5), on disk, beside the physical floor.

Every method of the merge registry (``workbench.merging.merge_methods.REGISTRY``) that mergekit also
has, ours (``merge_checkpoints``) vs mergekit ``run_merge``, on one ~100M-parameter pico Llama pair,
three rounds interleaved (min reported), beside the physical floor: bytes read + written over this
machine's measured read (warm page cache) and write bandwidth. A registry method mergekit lacks gets
a row that says so, so a new merge method shows up here without editing this file.

Settings (``Settings.from_env``, read when the bench runs, not at import): ``BENCH_PEERS_MERGE_LAYERS``
(default 8), ``BENCH_PEERS_MERGE_ROUNDS`` (default 3).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TITLE = "Side by side with peers: merges vs mergekit"
STRENGTH = 0.3
"""Weight of model ``a`` in every merge timed."""
DENSITY = 0.5
"""Share of task-vector entries kept, for the methods that use a density."""

# How mergekit writes the same merge as ours, where it differs from "the same name, the density if the
# method uses one, the base if it needs one" (checked weight by weight in tests/merging/test_merging_vs_mergekit.py).
RENAMED = {"magnitude_prune": ("breadcrumbs", {"gamma": 0.0})}
"""Ours -> (mergekit's name, its extra per-model parameters): breadcrumbs without outlier removal is
magnitude pruning + task arithmetic."""
GLOBAL = {"dare_ties": {"normalize": True}}
"""Merge-level parameters mergekit needs to follow our convention (DARE-TIES: the disjoint mean of TIES)."""


@dataclass(frozen=True)
class Settings:
    """What one run times (defaults: the README's run); ``from_env`` reads them when the bench runs."""

    layers: int = 8
    """Decoder layers of the pico Llama pair (d 768: 8 layers is ~100M parameters)."""
    rounds: int = 3
    """Interleaved rounds; each side's minimum is reported."""

    @classmethod
    def from_env(cls) -> "Settings":
        values = {}
        for name, key in (("BENCH_PEERS_MERGE_LAYERS", "layers"), ("BENCH_PEERS_MERGE_ROUNDS", "rounds")):
            raw = os.environ.get(name, str(getattr(cls, key)))
            try:
                values[key] = int(raw)
            except ValueError:
                raise SystemExit(f"error: {name}={raw!r} is not a whole number.") from None
        return cls(**values)


@dataclass(frozen=True)
class MergeRecipe:
    """One of our merge methods and mergekit's way of writing the same merge (None: mergekit lacks it)."""

    ours: str
    mergekit: str | None
    needs_base: bool
    parameters: dict = field(default_factory=dict)
    """Per-model parameters beside the weight (density, gamma)."""
    merge_parameters: dict = field(default_factory=dict)
    """Merge-level parameters (normalize)."""


def mergekit_has(name: str) -> bool:
    from mergekit.merge_methods import get

    try:
        get(name)
    except RuntimeError:  # mergekit's "Unimplemented merge method"
        return False
    return True


def merge_recipes(density: float = DENSITY) -> list[MergeRecipe]:
    """Every registered merge method with mergekit's counterpart, derived from the registry's facts."""
    from workbench.merging.merge_methods import REGISTRY

    recipes = []
    for name, method in REGISTRY.items():
        theirs, extra = RENAMED.get(name, (name, {}))
        parameters = {**({"density": density} if method.uses_density else {}), **extra}
        recipes.append(MergeRecipe(name, theirs if mergekit_has(theirs) else None, method.needs_base, parameters,
                                   GLOBAL.get(name, {})))
    return recipes


def mergekit_config(recipe: MergeRecipe, paths: dict, strength: float) -> dict:
    """mergekit's configuration (as its YAML) for ``recipe`` on ``paths`` (a, b and base folders)."""
    if recipe.mergekit == "slerp":  # mergekit's SLERP interpolates base_model -> the other by t
        return {"merge_method": "slerp", "base_model": str(paths["b"]),
                "models": [{"model": str(paths["b"])}, {"model": str(paths["a"])}], "parameters": {"t": strength},
                "dtype": "float32"}
    config = {"merge_method": recipe.mergekit, "dtype": "float32",
              "models": [{"model": str(paths["a"]), "parameters": {"weight": strength, **recipe.parameters}},
                         {"model": str(paths["b"]), "parameters": {"weight": 1 - strength, **recipe.parameters}}]}
    if recipe.needs_base:
        config["base_model"] = str(paths["base"])
    if recipe.merge_parameters:
        config["parameters"] = dict(recipe.merge_parameters)
    return config


def _weights_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("*.safetensors"))


def bandwidth(shard: Path, out_dir: Path, rounds: int = 3) -> tuple[float, float]:
    """(read, write) bytes/s of this machine: ``shard`` read from the warm page cache (best of
    ``rounds``), and the same number of bytes written to a file in ``out_dir`` (closed, not fsynced —
    what a merge's save does; best of ``rounds``)."""
    size = shard.stat().st_size
    buf = bytearray(size)
    read = write = 0.0
    for _ in range(rounds):
        with open(shard, "rb", buffering=0) as fh:
            start = time.perf_counter()
            fh.readinto(buf)
            read = max(read, size / (time.perf_counter() - start))
        target = out_dir / "bandwidth.bin"
        start = time.perf_counter()
        with open(target, "wb", buffering=0) as fh:
            fh.write(buf)
        write = max(write, size / (time.perf_counter() - start))
        target.unlink()
    return read, write


def _time_merge(side: str, recipe: MergeRecipe, paths: dict, out: Path) -> float:
    from mergekit.config import MergeConfiguration
    from mergekit.merge import run_merge
    from mergekit.options import MergeOptions

    from workbench.merging.checkpoints import merge_checkpoints

    start = time.perf_counter()
    if side == "ours":
        merge_checkpoints(paths["a"], paths["b"], out, paths["base"], method=recipe.ours, strength=STRENGTH,
                          density=recipe.parameters.get("density", 1.0))
    else:
        run_merge(MergeConfiguration.model_validate(mergekit_config(recipe, paths, STRENGTH)), str(out),
                  MergeOptions(random_seed=0, quiet=True))
    seconds = time.perf_counter() - start
    shutil.rmtree(out)
    return seconds


def merge_rows(layers: int, rounds: int = 3, progress=print, hidden: int = 768, heads: int = 12,
               intermediate: int = 3072, vocab: int = 32000) -> list[dict]:
    """One row per registered method: ours and mergekit's best time of ``rounds`` and the floor."""
    from workbench.merging.merge_methods import REGISTRY
    from workbench.merging.pico import make_family

    # a calibrated method needs the models' activations, so the on-disk merge (tensor by tensor) refuses it
    recipes = [r for r in merge_recipes() if not REGISTRY[r.ours].calibrated]
    with tempfile.TemporaryDirectory(prefix="bench-peers-merge-") as tmp:
        tmp = Path(tmp)
        paths = make_family(tmp / "pair", hidden=hidden, layers=layers, heads=heads, intermediate=intermediate,
                            vocab=vocab, noise=0.02)
        size = _weights_bytes(paths["a"])
        read_bw, write_bw = bandwidth(next(paths["a"].glob("*.safetensors")), tmp)
        best: dict[tuple[str, str], float] = {}
        for r in range(rounds):  # interleaved: a slow minute of the shared host hits both sides alike
            for recipe in recipes:
                for side in ("ours", "mergekit") if recipe.mergekit else ("ours",):
                    seconds = _time_merge(side, recipe, paths, tmp / f"{side}-{recipe.ours}")
                    best[side, recipe.ours] = min(best.get((side, recipe.ours), math.inf), seconds)
            progress(f"[merges] round {r + 1}/{rounds} done")
    table = (f"merge time on disk, pico Llama pair ({size / 4 / 1e6:.1f}M parameters, float32; "
             f"min of {rounds} interleaved rounds)")
    rows = []
    for recipe in recipes:
        inputs = 3 if recipe.needs_base else 2
        floor = inputs * size / read_bw + size / write_bw
        ours, theirs = best["ours", recipe.ours], best.get(("mergekit", recipe.ours))
        rows.append({"table": table, "method": recipe.ours,
                     "mergekit as": recipe.mergekit or "(no mergekit counterpart)",
                     "ours (s)": round(ours, 3), "mergekit run_merge (s)": None if theirs is None else round(theirs, 3),
                     "ours / mergekit": None if theirs is None else round(ours / theirs, 2),
                     "physical floor (s)": round(floor, 3), "ours / floor": round(ours / floor, 1),
                     "floor = read + write": f"{inputs} x {size / 1e6:.0f} MB / {read_bw / 1e9:.1f} GB/s + "
                                             f"{size / 1e6:.0f} MB / {write_bw / 1e9:.1f} GB/s"})
    return rows


def run(settings: Settings | None = None) -> list[dict]:
    settings = settings or Settings.from_env()
    return merge_rows(settings.layers, settings.rounds)
