"""Thinking spectrum: the sweep table, merge time per method (ours vs mergekit) for the tiny parents and
a ~100M-parameter pico pair, and the latency of the app's live merge-and-evaluate button.

Set ``BENCH_MERGING_PROFILE`` (default ``demo``) to choose the run whose sweep is tabulated; it is built
first when missing. ``BENCH_MERGING_BIG_LAYERS`` (default 8) sizes the pico pair (hidden 768, vocab
32k: 8 layers = ~100M parameters).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

TITLE = "Thinking spectrum: sweep, merge speed (ours vs mergekit), live button latency"
METHODS = ["linear", "slerp", "task_arithmetic", "ties", "dare_linear", "dare_ties", "magnitude_prune"]
# mergekit's name and parameters for each of ours (magnitude_prune = breadcrumbs without outlier removal)
MERGEKIT = {
    "linear": ("linear", {}), "slerp": ("slerp", {}), "task_arithmetic": ("task_arithmetic", {}),
    "ties": ("ties", {"density": 0.5}), "dare_linear": ("dare_linear", {"density": 0.5}),
    "dare_ties": ("dare_ties", {"density": 0.5}), "magnitude_prune": ("breadcrumbs", {"density": 0.5, "gamma": 0.0}),
}


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


def mergekit_config(method: str, paths: dict, strength: float) -> dict:
    name, params = MERGEKIT[method]
    if name == "slerp":
        return {"merge_method": "slerp", "base_model": str(paths["b"]),
                "models": [{"model": str(paths["b"])}, {"model": str(paths["a"])}], "parameters": {"t": strength},
                "dtype": "float32"}
    config = {"merge_method": name, "dtype": "float32",
              "models": [{"model": str(paths["a"]), "parameters": {"weight": strength, **params}},
                         {"model": str(paths["b"]), "parameters": {"weight": 1 - strength, **params}}]}
    if name != "linear":
        config["base_model"] = str(paths["base"])
    if name == "dare_ties":
        config["parameters"] = {"normalize": True}
    return config


def merge_speed_rows(label: str, paths: dict, params: int, tmp: Path) -> list[dict]:
    from mergekit.config import MergeConfiguration
    from mergekit.merge import run_merge
    from mergekit.options import MergeOptions

    from workbench.merging.checkpoints import merge_checkpoints

    rows = []
    for method in METHODS:
        out = tmp / f"ours-{method}"
        start = time.perf_counter()
        merge_checkpoints(paths["a"], paths["b"], out, paths["base"], method=method, strength=0.3, density=0.5)
        ours = time.perf_counter() - start
        shutil.rmtree(out)
        out = tmp / f"mk-{method}"
        start = time.perf_counter()
        run_merge(MergeConfiguration.model_validate(mergekit_config(method, paths, 0.3)), str(out),
                  MergeOptions(random_seed=0, quiet=True))
        theirs = time.perf_counter() - start
        shutil.rmtree(out)
        rows.append({"table": f"merge time on disk, {label} ({params / 1e6:.1f}M parameters)", "method": method,
                     "ours (s)": round(ours, 2), "mergekit run_merge (s)": round(theirs, 2)})
    return rows


def mergekit_cli_seconds(paths: dict, tmp: Path) -> float:
    import subprocess
    import sys

    import yaml

    config = tmp / "linear.yml"
    config.write_text(yaml.safe_dump(mergekit_config("linear", paths, 0.3)))
    exe = Path(sys.executable).with_name("mergekit-yaml")
    start = time.perf_counter()
    subprocess.run([str(exe), str(config), str(tmp / "cli"), "--quiet"], check=True, capture_output=True,
                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return time.perf_counter() - start


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
    from workbench.lm import load_causal_lm
    from workbench.merging.pico import make_family
    from workbench.progress import tqdm_progress

    profile = os.environ.get("BENCH_MERGING_PROFILE", "demo")
    with tqdm_progress(f"merging ({profile})") as bar:
        built = methods.build("merging", profile, progress=bar)
    rows = sweep_rows(built)
    with tempfile.TemporaryDirectory(prefix="bench-merging-") as tmp:
        tmp = Path(tmp)
        tiny = {name: built.path / folder for name, folder in (("a", "direct"), ("b", "thinking"), ("base", "base"))}
        tiny_params = sum(p.numel() for p in load_causal_lm(tiny["a"], with_tokenizer=False)[0].parameters())
        rows += merge_speed_rows("the tiny parents", tiny, tiny_params, tmp)
        layers = int(os.environ.get("BENCH_MERGING_BIG_LAYERS", "8"))
        big = make_family(tmp / "big", hidden=768, layers=layers, heads=12, intermediate=3072, vocab=32000, noise=0.02)
        big_params = sum(p.numel() for p in load_causal_lm(big["a"], with_tokenizer=False)[0].parameters())
        rows += merge_speed_rows("pico Llama pair", big, big_params, tmp)
        rows.append({"table": f"merge time on disk, pico Llama pair ({big_params / 1e6:.1f}M parameters)",
                     "method": "linear via the mergekit-yaml CLI (incl. its start-up)", "ours (s)": None,
                     "mergekit run_merge (s)": round(mergekit_cli_seconds(big, tmp), 2)})
    rows += live_rows(built)
    return rows
