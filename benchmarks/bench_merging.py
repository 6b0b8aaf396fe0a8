"""Thinking spectrum: the sweep table and the latency of the app's live merge-and-evaluate button.

Merge speed against mergekit (every method, a ~100M-parameter pair, beside the physical floor) is in
``bench_peers_mergekit.py``.

Set ``BENCH_MERGING_PROFILE`` (default ``demo``) to choose the run whose sweep is tabulated; it is built
first when missing.
"""

from __future__ import annotations

import os
import time

TITLE = "Thinking spectrum: sweep, live button latency"


def sweep_rows(run) -> list[dict]:
    summary = run.read_parquet("summary")
    rows = []
    for _, r in summary.iterrows():
        rows.append({
            "table": f"sweep ({run.profile}: {int(r['n_problems'])} problems x {int(r['n_outputs'] / r['n_problems'])} samples)",
            "method": r["method"], "λ (direct weight)": round(r["strength"], 3),
            "accuracy": round(r["accuracy"], 3), "acc 95%": f"[{r['accuracy_low']:.3f}, {r['accuracy_high']:.3f}]",
            "mean tokens": round(r["tokens"], 1), "thinks": round(r["thinking_share"], 3),
            "re-checks": round(r["rechecks"], 2), "Δacc vs thinking": round(r["d_acc_thinking"], 3),
            "Δtokens vs thinking": f"{r['rel_tok_thinking']:+.1%}", "Δacc vs direct": round(r["d_acc_direct"], 3),
        })
    return rows


def live_rows(run) -> list[dict]:
    from workbench.merging.parents import load_parents
    from workbench.merging.sweep import evaluate_strength

    rows = []
    start = time.perf_counter()
    parents = load_parents(run)
    load_s = time.perf_counter() - start
    for n in (12, 36, 120):
        start = time.perf_counter()
        summary, _ = evaluate_strength(parents, "linear", 0.137, n_problems=n)
        rows.append({"table": "live button: merge in memory + evaluate (warm parents)", "problems": n,
                     "seconds": round(time.perf_counter() - start, 2), "accuracy": round(summary["accuracy"], 3),
                     "mean tokens": round(summary["tokens"], 1)})
    rows.append({"table": "live button: merge in memory + evaluate (warm parents)", "problems": "load parents (cold)",
                 "seconds": round(load_s, 2)})
    return rows


def run() -> list[dict]:
    from workbench import methods
    from workbench.progress import tqdm_progress

    profile = os.environ.get("BENCH_MERGING_PROFILE", "demo")
    with tqdm_progress(f"merging ({profile})") as bar:
        built = methods.build("merging", profile, progress=bar)
    return sweep_rows(built) + live_rows(built)
