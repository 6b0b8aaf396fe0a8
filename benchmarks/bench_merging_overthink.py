"""Method 3: the thinking spectrum where there is overthinking to cut (issue 23, item 3).

Along the overthinking dial (``merging.config.Config.overthink``; ``world.Overthinking`` says what it
plants), for 3 seeds: train the family (the base and the direct child once per seed — the dial does
not touch them — and the thinking child once per (dial, seed)), measure the parents' overthinking,
evaluate linear, TIES, low-rank and activation-informed merges on the study's grid
(``merging.overthink.GRID``), then the linear merges across the transition (``TRANSITION``).

Each (dial, seed) is one compact result file, committed under ``workbench/reference/merging-overthink/``
(``overthink.POINTS``), written when it finishes and skipped when present: an interrupted bench keeps
what it finished, and a later sitting adds dials or seeds without recomputing. The models live in the
bench's store (not committed). Then ``merging.overthink.combine`` joins every point file with the dials
the committed study already holds without point files (rows kept as measured, named in its
``carried``), and writes ``workbench/reference/merging-overthink.json``: the strict-Pareto rows, tokens
saved at the thinking parent's accuracy per method, the parents' planted overthinking, the
sharp-transition claim per dial, the verdict and drift cases. The Merge strength page and the notebook
read it.

Environment: ``BENCH_MERGING_OVERTHINK_DIALS`` (the dials to compute this sitting; default ``0,0.25``:
dials 0.5 and 1 are carried from the study committed at 3c58f65, whose point files were lost),
``..._SEEDS`` (default ``0,1,2``), ``..._PROFILE`` (default ``demo``), ``..._SET`` (extra settings,
``key=value`` joined by ``;``; default ``n_eval=600``: 100 problems per difficulty, the cut the committed
dials used), ``..._STORE`` (the models; default ``data/bench-merging-overthink``), ``..._POINTS`` (default
the committed point folder), ``..._OUT`` (default the committed study, which is also the study whose
dials are carried), ``..._STUDY_ONLY=1`` (only combine what is present).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

TITLE = "Thinking spectrum: strict Pareto gains along the overthinking dial (3 seeds)"
HERE = Path(__file__).resolve().parent
ENV = "BENCH_MERGING_OVERTHINK_"
DEFAULT_SET = "n_eval=600"
DEFAULT_DIALS = "0,0.25"
PLANNED = "0.5, 1, 0, 0.25"
"""The study's dial points in the order they were built (the first two in an earlier sitting)."""


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


def run_point(dial: float, seed: int, store: Path, points: Path) -> Path:
    """One (dial, seed) point file (skipped when present)."""
    from workbench.atomic import atomic_write_text
    from workbench.merging.overthink import evaluate_point, point_path, point_text
    from workbench.merging.parents import Parents, train_thinking_child
    from workbench.progress import tqdm_progress
    from workbench.runtime import seed_everything

    out = point_path(points, dial, seed)
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
    atomic_write_text(out, point_text(result))
    return out


def cut(doc: dict, n_problems: int, samples: int) -> str:
    """What the study measured and left out, in words."""
    from workbench.merging import overthink

    listed = lambda values: ", ".join(f"{v:g}" for v in values)  # noqa: E731
    carried = [c["dial"] for c in doc["carried"]]
    text = f"dial points {listed(doc['dials'])} of the planned {PLANNED}"
    if carried:
        commits = ", ".join(sorted({str(c["commit"]) for c in doc["carried"]}))
        text += (f" (dials {listed(carried)} carried from the study committed at {commits}: their point files were "
                 "lost, so their rows are as measured then, without the transition window)")
    return text + (
        f"; {n_problems} problems x {samples} samples per model (the demo has 1,002); methods linear, TIES, low-rank, "
        "activation-informed only (SLERP, task arithmetic = linear, DARE left out); the shared grid "
        f"λ ∈ {{{listed(overthink.SHARED)}}} for every method, linear also at 0.15 and 0.3; the transition measured "
        f"on linear merges at λ ∈ {{{listed(overthink.TRANSITION)}}} and every {overthink.TRANSITION_STEP:g} across "
        f"the fall (dials {listed(t['dial'] for t in doc['transition']) or 'none'})")


def run() -> list[dict]:
    from workbench.atomic import atomic_write_text, to_json
    from workbench.errors import WorkbenchError
    from workbench.merging import overthink
    from workbench.store import versions

    dials = [float(d) for d in _env("DIALS", DEFAULT_DIALS).split(",")]
    seeds = [int(s) for s in _env("SEEDS", "0,1,2").split(",")]
    store = Path(_env("STORE", str(HERE.parent / "data" / "bench-merging-overthink")))
    points = Path(_env("POINTS", str(overthink.POINTS)))
    out = Path(_env("OUT", str(overthink.STUDY)))
    store.mkdir(parents=True, exist_ok=True)
    points.mkdir(parents=True, exist_ok=True)
    if _env("STUDY_ONLY", "") != "1":
        for dial in dials:
            for seed in seeds:
                run_point(dial, seed, store, points)
    results = overthink.read_points(points)
    previous = overthink.load(out)
    if not results and not previous:
        raise SystemExit(f"no point files in {points} and no study at {out}; run the bench without {ENV}STUDY_ONLY first.")
    try:
        doc = overthink.combine(results, previous)
    except WorkbenchError as err:
        raise SystemExit(f"error: {err}") from None
    settings = ({k: v for k, v in results[0]["settings"].items() if k not in overthink.SAME_SETTINGS_EXCEPT}
                if results else previous["settings"])
    measured = sorted({r["dial"] for r in results})
    n = results[0]["n_problems"] if results else previous["settings"]["n_eval"]
    doc.update({
        "seeds": sorted({p["seed"] for p in doc["points"]}),
        "grid": {m: list(s) for m, s in overthink.GRID.items()}, "settings": settings,
        "cpu_seconds": round(sum(p["cpu_seconds"] for p in doc["points"]), 1),
        "cut": cut(doc, n, settings["samples"]),
        "command": " ".join([*(f"{ENV}{k}={os.environ[ENV + k]!r}" for k in ("DIALS", "SEEDS", "SET")
                               if os.environ.get(ENV + k)), "python benchmarks/run.py merging_overthink"]),
        "commit": versions()["commit"], "created": time.strftime("%Y-%m-%d"), "measured_dials": measured,
    })
    atomic_write_text(out, to_json(doc))
    keep = ("dial", "method", "strength", "d_accuracy", "d_tokens_rel", "strict", "goal")
    return [{k: r[k] for k in keep} for r in doc["rows"]]
