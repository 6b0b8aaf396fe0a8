"""Method 1: where does one model beat a pipeline? The coupling curve (issue 22, item 3).

One thing changes along the curve: the world's ``coupling`` dial (``workbench/needs/world.py``: 0 = the
isolated pipeline's own factorisation; raising it plants three cross-stage dependencies). At each
(dial, seed) point five variants are built: user history, the isolated pipeline, the same pipeline
with a context-aware category stage (``isolated_ctx``, the strongest pipeline), clustered SFT and the
full framework (clustered SFT + curriculum GRPO), at the stable SFT budget (3,000 steps, the
budget curves' plateau) with the chain that keeps its alternatives (``chain_rank=marginal`` over
``chain_beams`` paths) — settings fixed before the curve was run, the same at every point.

Each point is one runner call and a normal run in the bench's own store; its per-case outcomes go to
a committed point file, ``workbench/reference/needs-coupling/coupling<d>-seed<s>[-cands<N>].json``
(``coupling.point_result``, ~40 KB), and a point whose file exists is skipped, so an interrupted bench
resumes where it stopped and a later sitting — on another machine, from a fresh clone — adds seeds. Two
points share one runner call (2 workers, one point's jobs per core). Points go seed by seed, the dial's
ends first (1, 0, .5, .25), so a short sitting still gets the two ends of one seed.

What 2 shared cores could not afford is cut in users, not steps (``BENCH_NEEDS_COUPLING_USERS``; the
study says what was used). Writes ``workbench/reference/needs-coupling.json`` (rows, settings,
command, commit, date) from every point file present of its series, keeping the file's other series
(``coupling`` module doc): the first series' settings are the file's top-level fields, another's are
under ``series``.

Environment: ``BENCH_NEEDS_COUPLING_DIALS`` (default ``1,0,0.5,0.25``), ``..._SEEDS`` (default
``0,1,2``), ``..._USERS`` (default 600), ``..._STEPS`` (default 3000), ``..._PROFILE`` (default
``demo``; the test runs ``smoke``), ``..._STORE`` (the runs; default ``data/bench-needs-coupling``),
``..._POINTS`` (the point files; default ``coupling.POINTS``), ``..._OUT`` (default the reference file), ``..._MAX_POINTS`` (build at most this many new points, default all),
``..._CANDIDATES`` (the ``candidates`` setting: stage 3 handed its candidate block; default 0 = off; its
point files carry a ``-cands<N>`` suffix, so both series can share a store, and its rows are a series of
their own), ``..._SET`` (further settings every point shares, ``key=value`` pairs separated by ``;``,
e.g. ``prompt_loss_stages=need``: a study of its own, so give it its own ``..._POINTS`` and ``..._OUT``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

TITLE = "Living needs → services: full framework vs isolated pipeline along the coupling dial"
HERE = Path(__file__).resolve().parent
ENV = "BENCH_NEEDS_COUPLING_"
FIXED = {"chain_rank": "marginal", "chain_beams": 4}
"""The chain that keeps its alternatives, the same at every point."""


def env(name: str, default: str) -> str:
    return os.environ.get(ENV + name, default)


def settings() -> dict:
    """What every point shares (the dial and the seed vary)."""
    from workbench.needs.coupling import VARIANTS

    shared = {**FIXED, "users": int(env("USERS", "600")), "sft_steps": int(env("STEPS", "3000")), "variants": VARIANTS}
    if int(env("CANDIDATES", "0")):
        shared["candidates"] = int(env("CANDIDATES", "0"))
    from workbench.config import parse_overrides

    # further settings shared by every point of a study of its own (``..._SET``, with its own POINTS and OUT)
    return {**shared, **parse_overrides([pair for pair in env("SET", "").split(";") if pair.strip()])}


def points() -> list[tuple[float, int]]:
    """(dial, seed) of every point, in build order: seed by seed, the dial's ends first."""
    dials = [float(d) for d in env("DIALS", "1,0,0.5,0.25").split(",")]
    seeds = [int(s) for s in env("SEEDS", "0,1,2").split(",")]
    return [(d, s) for s in seeds for d in dials]


def point_file(points: Path, dial: float, seed: int, candidates: int = 0) -> Path:
    return points / f"coupling{dial:g}-seed{seed}{f'-cands{candidates}' if candidates else ''}.json"


def series_points(points: Path, candidates: int = 0) -> list[dict]:
    """Every point file of one series (with or without the candidate block of that size) in ``points``."""
    import re

    name = re.compile(r"coupling[0-9.]+-seed[0-9]+" + (f"-cands{candidates}" if candidates else "") + r"\.json")
    return [json.loads(p.read_text()) for p in sorted(points.glob("*.json")) if name.fullmatch(p.name)]


def run() -> list[dict]:
    from workbench import methods
    from workbench.atomic import atomic_write_text
    from workbench.needs.coupling import POINTS, REFERENCE, crossing, featured_case, point_result, study
    from workbench.progress import tqdm_progress
    from workbench.store import ArtifactStore, versions

    profile = env("PROFILE", "demo")
    root = Path(env("STORE", str(HERE.parent / "data" / "bench-needs-coupling")))
    out = Path(env("OUT", str(REFERENCE)))
    points_dir = Path(env("POINTS", str(POINTS)))
    store = ArtifactStore(root)
    shared = settings()
    cands = shared.get("candidates", 0)
    todo = [(d, s) for d, s in points() if not point_file(points_dir, d, s, cands).exists()]
    todo = todo[:int(env("MAX_POINTS", str(len(todo))))]
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(todo), 2):
        pair = todo[i:i + 2]
        configs = [methods.make_config("needs", profile, {**shared, "coupling": d, "seed": s}) for d, s in pair]
        with tqdm_progress(f"needs coupling points {', '.join(f'{d:g}/seed{s}' for d, s in pair)}") as bar:
            runs = methods.build_many(configs, store, bar)
        for (d, s), r in zip(pair, runs):
            atomic_write_text(point_file(points_dir, d, s, cands),  # a point file is whole or absent
                              json.dumps({**point_result(r, d, s), "featured": featured_case(r, s)}))
    done = [{**p, "candidates": cands} for p in series_points(points_dir, cands)]
    rows = study(done)
    import pandas as pd

    curve = pd.DataFrame([r for r in rows if r["table"] == "curve"])
    # the featured case comes from the highest dial setting's first seed (kept in its point file)
    top = max(done, key=lambda p: (p["coupling"], -p["seed"])) if done else {}
    featured = top.get("featured")
    meta = {"settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in shared.items()},
            "crossing": crossing(curve) if len(curve) > 1 else None, "featured": featured,
            "cut": f"users {shared['users']} (the demo world has 1,500); SFT steps {shared['sft_steps']}; "
                   f"points built: {len(done)} of the {len(points())} asked (dials x seeds)",
            "command": " ".join([*(f"{ENV}{k}={os.environ[ENV + k]!r}" for k in ("DIALS", "SEEDS", "USERS", "STEPS", "CANDIDATES", "SET")
                                   if os.environ.get(ENV + k)), "python benchmarks/run.py needs_coupling"]),
            "commit": versions()["commit"], "created": time.strftime("%Y-%m-%d"),
            "this_sitting": {"points": len(todo), "wall_seconds": round(time.perf_counter() - start, 1),
                             "cpu_seconds_main_process": round(time.process_time() - cpu, 1)}}
    atomic_write_text(out, json.dumps(with_series(read_study(out), rows, meta, profile, cands), indent=1) + "\n")
    return rows


def read_study(path: Path) -> dict:
    """The study file as it is (``{}`` when absent or unreadable), its other series to keep."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def with_series(doc: dict, rows: list[dict], meta: dict, profile: str, candidates: int) -> dict:
    """``doc`` with one series replaced by ``rows`` and ``meta`` (its settings, cut, command, ...): the
    first series (``candidates`` 0) keeps them at the top level, another under ``series`` (and, in a file
    without a first series, its command, commit and date at the top level too: the docs' provenance line);
    every other series' rows stay, labelled (a row without a label is of the first series).

    >>> old = {"rows": [{"table": "curve", "coupling": 0.0}], "cut": "users 600"}
    >>> new = with_series(old, [{"table": "curve", "candidates": 8, "coupling": 0.0}], {"cut": "users 300"}, "demo", 8)
    >>> [r["candidates"] for r in new["rows"]], new["cut"], new["series"]["8"]["cut"]
    ([0, 8], 'users 600', 'users 300')
    """
    kept = [{**r, "candidates": r.get("candidates", 0)} for r in doc.get("rows", []) if r.get("candidates", 0) != candidates]
    out = {**doc, "rows": sorted(kept + rows, key=lambda r: r["candidates"]), "profile": profile}
    if candidates:
        out["series"] = {**doc.get("series", {}), str(candidates): meta}
        if not any(r["candidates"] == 0 for r in out["rows"]):  # no first series: the file's provenance is this one's
            out.update({k: meta[k] for k in ("command", "commit", "created")})
    else:
        out.update(meta)
    return out
