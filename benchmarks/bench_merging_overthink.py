"""Method 3: the thinking spectrum where there is overthinking to cut (issue 23, item 3).

Along the overthinking dial (``merging.config.Config.overthink``; ``world.Overthinking`` says what it
plants), for 3 seeds: train the family (the base and the direct child once per seed — the dial does
not touch them — and the thinking child once per (dial, seed)), measure the parents' overthinking,
and evaluate linear, TIES, low-rank and activation-informed merges on the study's grid
(``merging.overthink.GRID``). Each (dial, seed) is one result file in the bench's store, written when
it finishes and skipped when present: an interrupted bench keeps what it finished, and several
bench processes with different ``BENCH_MERGING_OVERTHINK_SEEDS`` can share one store (one per core).

Then ``merging.overthink.study`` combines the seeds of each dial (paired intervals over seeds and
problems, the one rule of ``workbench.claims``) into ``workbench/reference/merging-overthink.json``:
the strict-Pareto rows, tokens saved at the thinking parent's accuracy per method, the parents'
planted overthinking, the verdict and drift cases. The Merge strength page and the notebook read it.

Environment: ``BENCH_MERGING_OVERTHINK_DIALS`` (default ``0.5,1,0``: the points in build order),
``..._SEEDS`` (default ``0,1,2``), ``..._PROFILE`` (default ``demo``), ``..._SET`` (extra settings,
``key=value`` joined by ``;``; default ``n_eval=600``: 100 problems per difficulty, the cut that fits
the study in ≈ 40 CPU-minutes), ``..._STORE`` (default ``data/bench-merging-overthink``), ``..._OUT``
(default the committed study), ``..._STUDY_ONLY=1`` (only combine the result files present).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

TITLE = "Thinking spectrum: strict Pareto gains along the overthinking dial (3 seeds)"
HERE = Path(__file__).resolve().parent
ENV = "BENCH_MERGING_OVERTHINK_"
DEFAULT_SET = "n_eval=600"
DEFAULT_DIALS = "0.5,1,0"


def _env(key: str, default: str) -> str:
    return os.environ.get(ENV + key, default)


def extra_settings() -> dict[str, str]:
    text = _env("SET", DEFAULT_SET).strip()
    pairs = [part.split("=", 1) for part in text.split(";") if part.strip()]
    if any(len(p) != 2 for p in pairs):
        raise SystemExit(f"{ENV}SET={text!r}: write key=value pairs joined by ';'")
    return {k.strip(): v.strip() for k, v in pairs}


def config_of(dial: float, seed: int):
    from workbench import methods

    return methods.make_config("merging", _env("PROFILE", "demo"),
                               {**extra_settings(), "overthink": str(dial), "seed": str(seed)})


def shared_models(cfg, store: Path):
    """The base and direct child of ``cfg.seed`` (trained once, saved in the store, then loaded)."""
    from workbench.lm.checkpoint import load_causal_lm, save_causal_lm
    from workbench.merging.parents import train_base_and_direct

    folder = store / f"seed{cfg.seed}"
    if not (folder / "direct" / "config.json").exists():
        tok, base, direct, _ = train_base_and_direct(cfg)
        save_causal_lm(base, tok, folder / "base")  # atomic: a half-written folder never exists
        save_causal_lm(direct, tok, folder / "direct")
    base, tok = load_causal_lm(folder / "base")
    direct, _ = load_causal_lm(folder / "direct", with_tokenizer=False)
    return tok, base, direct


def run_point(dial: float, seed: int, store: Path) -> Path:
    """One (dial, seed) result file (skipped when present)."""
    from workbench.atomic import atomic_write_text, to_json
    from workbench.merging.overthink import evaluate_point
    from workbench.merging.parents import Parents, train_thinking_child
    from workbench.progress import tqdm_progress
    from workbench.runtime import seed_everything

    out = store / f"dial{dial:g}-seed{seed}.json"
    if out.exists():
        return out
    cfg = config_of(dial, seed)
    seed_everything(seed)
    start, cpu = time.perf_counter(), time.process_time()
    tok, base, direct = shared_models(cfg, store)
    with tqdm_progress(f"dial {dial:g} seed {seed}: thinking child") as bar:
        thinking, _ = train_thinking_child(cfg, tok, base, bar)
    with tqdm_progress(f"dial {dial:g} seed {seed}: sweep") as bar:
        result = evaluate_point(Parents(tok, base, direct, thinking), cfg, progress=bar)
    result["settings"] = cfg.to_dict()
    result["cpu_seconds"] = round(time.process_time() - cpu, 1)
    result["wall_seconds"] = round(time.perf_counter() - start, 1)
    atomic_write_text(out, to_json(result))
    return out


def run() -> list[dict]:
    import json

    from workbench.atomic import atomic_write_text, to_json
    from workbench.merging import overthink
    from workbench.store import versions

    dials = [float(d) for d in _env("DIALS", DEFAULT_DIALS).split(",")]
    seeds = [int(s) for s in _env("SEEDS", "0,1,2").split(",")]
    store = Path(_env("STORE", str(HERE.parent / "data" / "bench-merging-overthink")))
    store.mkdir(parents=True, exist_ok=True)
    if _env("STUDY_ONLY", "") != "1":
        for dial in dials:
            for seed in seeds:
                run_point(dial, seed, store)
    results = [json.loads(p.read_text()) for p in sorted(store.glob("dial*-seed*.json"))]
    if not results:
        raise SystemExit(f"no result files in {store}; run the bench without {ENV}STUDY_ONLY first.")
    doc = overthink.study(results)
    first = min(r["seed"] for r in results)
    doc["drift_cases"] = {str(r["dial"]): r["drift_cases"] for r in results if r["seed"] == first}
    settings = {k: v for k, v in results[0]["settings"].items() if k not in ("seed", "overthink", "seeds")}
    doc.update({
        "dials": sorted({r["dial"] for r in results}), "seeds": sorted({r["seed"] for r in results}),
        "grid": {m: list(s) for m, s in overthink.GRID.items()}, "settings": settings,
        "points": [{k: r[k] for k in ("dial", "seed", "cpu_seconds", "wall_seconds")} for r in results],
        "cpu_seconds": round(sum(r["cpu_seconds"] for r in results), 1),
        "cut": (f"dial points {', '.join(f'{d:g}' for d in sorted({r['dial'] for r in results}))} of the "
                f"planned {DEFAULT_DIALS.replace(',', ', ')} (each point of 3 seeds took ~12 CPU-minutes, ~55 "
                "minutes of wall time on the shared 2 cores); "
                f"{results[0]['n_problems']} problems x {results[0]['samples']} samples per model (the demo has "
                "1,002); methods linear, TIES, low-rank, activation-informed only (SLERP, task arithmetic = linear, "
                "DARE left out); the shared grid λ ∈ {" + ", ".join(f"{s:g}" for s in overthink.SHARED) + "} "
                "for every method, linear also at 0.15 and 0.3; no fine transition window (the sharp "
                "transition is decided by the demo's 3-seed reference, not here)"),
        "command": " ".join([*(f"{ENV}{k}={os.environ[ENV + k]!r}" for k in ("DIALS", "SEEDS", "SET")
                               if os.environ.get(ENV + k)), "python benchmarks/run.py merging_overthink"]),
        "commit": versions()["commit"], "created": time.strftime("%Y-%m-%d"),
    })
    out = Path(_env("OUT", str(overthink.STUDY)))
    atomic_write_text(out, to_json(doc))
    keep = ("dial", "method", "strength", "d_accuracy", "d_tokens_rel", "strict", "goal")
    return [{k: r[k] for k in keep} for r in doc["rows"]]
