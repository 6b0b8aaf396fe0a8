"""GLASS: the ablation tables of the demo build, beam-search throughput, build time per job.

Builds the demo profile when it is not built yet (a few minutes on 2 cores), then times constrained
and free beam search of the stored TIGER and GLASS on the held-out users.
"""

from __future__ import annotations

import time

TITLE = "GLASS: ablations, beam-search throughput, build cost"
PROFILE = "demo"


def run() -> list[dict]:

    from workbench import methods
    from workbench.glass.pipeline import load_data, load_sid_model
    from workbench.glass.systems import LABELS, run_beams, setup_sids

    run_ = methods.build("glass", PROFILE)
    results = run_.read_parquet("results")
    rows = []
    metrics = ["Recall@1", "Recall@5", "Recall@10", "NDCG@5", "NDCG@10", "c1 acc", "c2 acc", "c3 acc", "c1@3", "gate"]
    for slice_name in ("all", "absent", "continuing"):
        part = results[results["slice"] == slice_name].groupby("system", sort=False)[metrics].mean().round(4)
        for system, values in part.iterrows():
            rows.append({"table": f"Ablations ({slice_name} test cases, demo, seeds {sorted(int(s) for s in results['seed'].unique())})",
                         "system": system, **{k: v for k, v in values.items() if v == v}})

    config = methods.load("glass").Config(**run_.config)
    data, _, _ = load_data(config)
    setup = setup_sids(data, config, tuple(config.codebook), config.seed)
    for name in ("tiger", "glass"):
        model = load_sid_model(run_, name)
        for constrained in (True, False):
            start = time.perf_counter()
            beams = run_beams(model, setup.test, setup.trie, config.beam, "cpu", constrained=constrained)
            seconds = time.perf_counter() - start
            rows.append({"table": "Beam-search throughput (CPU, beam %d)" % config.beam, "model": LABELS[name],
                         "decoding": "constrained (trie)" if constrained else "free",
                         "users/s": round(len(setup.test) / seconds, 1), "invalid-SID rate": round(beams.invalid_rate, 4),
                         "Recall@10": round(float((beams.items[:, :10] == setup.test.cases["target"].to_numpy()[:, None]).any(1).mean()), 4)})

    manifest = run_.manifest
    for name, t in run_.read_json("jobs").items():
        rows.append({"table": "Build cost per job (demo profile)", "job": name, "seconds": t["seconds"],
                     "CPU seconds": t["cpu_seconds"]})
    rows.append({"table": "Build cost per job (demo profile)", "job": "total (manifest)", "seconds": manifest["build_seconds"],
                 "peak RSS of the write step (MB)": manifest["timings"]["write"]["peak_rss_mb"]})
    for name, d in run_.read_json("diagnostics").items():
        if d.get("seconds"):
            rows.append({"table": "Train + evaluate time per system (demo)", "system": d["label"], "seconds": d["seconds"],
                         "parameters": d.get("parameters")})
    return rows
