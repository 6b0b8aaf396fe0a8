"""Method 1 on real check-ins over seeds (issue 22, item 4): TSMC2014 and MAT-Sum NYC, 3 seeds each.

At each (dataset, seed) point one run builds every variant of ``checkins.VARIANTS`` — the user history
(the one to beat on real data), the isolated pipeline, the context-reading pipeline, the flat LM,
clustered SFT, the full framework with the chain that keeps its alternatives (``chain_rank=marginal``
over 4 paths) and the same model's greedy chain (``full_greedy``) — at the stable budget (3,000 SFT
steps), on top of the dataset's own preset (``Config.DATASET_PRESETS``); settings fixed before the
study was run, the same at every point. The map is laid out by PCA (nothing here reads it).

Each point's per-case outcomes go to a committed point file
``workbench/reference/needs-checkins/<dataset>-seed<s>.json`` (``checkins.point_result``); a point whose
file exists is skipped, so an interrupted bench resumes and a later sitting adds seeds. Two points share
one runner call (2 workers), seed by seed, both datasets at each seed. Writes
``workbench/reference/needs-checkins.json`` from every point file present.

Environment: ``BENCH_NEEDS_CHECKINS_DATASETS`` (default ``foursquare-tsmc,foursquare``), ``..._SEEDS``
(default ``0,1,2``), ``..._STEPS`` (default 3000), ``..._PROFILE`` (default ``demo``; the test runs
``smoke``), ``..._STORE`` (the runs; default ``data/bench-needs-checkins``), ``..._POINTS``, ``..._OUT``,
``..._MAX_POINTS`` (build at most this many new points), ``WORKBENCH_SHARED_DATA`` (where the dataset
folders lie; default ``../shared/data`` beside the checkout). Without the data it says so and stops.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

TITLE = "Living needs → services on real check-ins over seeds: full framework vs pipelines and user history"
HERE = Path(__file__).resolve().parent
ENV = "BENCH_NEEDS_CHECKINS_"
FIXED = {"chain_rank": "marginal", "chain_beams": 4, "map_method": "pca"}


def env(name: str, default: str) -> str:
    return os.environ.get(ENV + name, default)


def points() -> list[tuple[str, int]]:
    """(dataset, seed) of every point, in build order: seed by seed, every dataset at each."""
    datasets = env("DATASETS", "foursquare-tsmc,foursquare").split(",")
    return [(d, int(s)) for s in env("SEEDS", "0,1,2").split(",") for d in datasets]


def point_file(points_dir: Path, dataset: str, seed: int) -> Path:
    return points_dir / f"{dataset}-seed{seed}.json"


def run() -> list[dict]:
    from workbench import methods
    from workbench.atomic import atomic_write_text
    from workbench.needs.checkins import DATASETS, POINTS, REFERENCE, VARIANTS, point_result, study
    from workbench.progress import tqdm_progress
    from workbench.store import ArtifactStore, versions

    profile = env("PROFILE", "demo")
    shared_data = Path(os.environ.get("WORKBENCH_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
    root = Path(env("STORE", str(HERE.parent / "data" / "bench-needs-checkins")))
    out, points_dir = Path(env("OUT", str(REFERENCE))), Path(env("POINTS", str(POINTS)))
    shared = {**FIXED, "sft_steps": int(env("STEPS", "3000")), "variants": VARIANTS}
    todo = [(d, s) for d, s in points() if not point_file(points_dir, d, s).exists()]
    missing = sorted({d for d, _ in todo if not (shared_data / DATASETS[d]).exists()})
    if missing:
        sys.exit(f"needs_checkins: no {', '.join(DATASETS[d] for d in missing)} under {shared_data} "
                 "(set WORKBENCH_SHARED_DATA to the folder holding them).")
    todo = todo[:int(env("MAX_POINTS", str(len(todo))))]
    store = ArtifactStore(root)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(todo), 2):
        pair = todo[i:i + 2]
        configs = [methods.make_config("needs", profile, {**shared, "dataset": d, "data_path": str(shared_data / DATASETS[d]),
                                                          "seed": s}) for d, s in pair]
        with tqdm_progress(f"needs check-ins {', '.join(f'{d}/seed{s}' for d, s in pair)}") as bar:
            runs = methods.build_many(configs, store, bar)
        for (d, s), r in zip(pair, runs):
            atomic_write_text(point_file(points_dir, d, s), json.dumps(point_result(r, d, s)))  # whole or absent
    done = [json.loads(p.read_text()) for p in sorted(points_dir.glob("*-seed*.json"))]
    rows = study(done)
    doc = {"title": TITLE, "profile": profile, "rows": rows,
           "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in shared.items()},
           "points": sorted(f"{p['dataset']}/seed{p['seed']}" for p in done),
           "jobs_cpu_seconds": {f"{p['dataset']}/seed{p['seed']}": p.get("jobs_cpu_seconds") for p in done},
           "measured": f"{len(done)} points (dataset x seed) on 2 CPU cores; their jobs' CPU seconds summed: "
                       + ", ".join(f"{p['dataset']}/seed{p['seed']} {p.get('jobs_cpu_seconds') or 0:,}" for p in done),
           "command": " ".join([*(f"{ENV}{k}={os.environ[ENV + k]!r}" for k in ("DATASETS", "SEEDS", "STEPS")
                                  if os.environ.get(ENV + k)), "python benchmarks/run.py needs_checkins"]),
           "commit": versions()["commit"], "created": time.strftime("%Y-%m-%d"),
           "this_sitting": {"points": len(todo), "wall_seconds": round(time.perf_counter() - start, 1),
                            "cpu_seconds_main_process": round(time.process_time() - cpu, 1)}}
    atomic_write_text(out, json.dumps(doc, indent=1) + "\n")
    return rows
