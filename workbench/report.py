"""The claims report across methods: gathers each built run's ``claims.json`` for a profile, and
the committed reference verdicts over several seeds (``workbench/reference/*.json``).

It sits above the method registry (it asks every method for its claims), so the claim types and the
comparison rule (``workbench.claims``) stay below the methods that use them.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from workbench import methods
from workbench.claims import Claim, ClaimSpec, read_run_claims
from workbench.errors import WorkbenchError
from workbench.store import ArtifactStore, versions


def collect(store: ArtifactStore | None = None, profile: str = "demo") -> list[Claim]:
    """Every registered claim for ``profile``: measured rows from built runs, null rows otherwise."""
    store = store or ArtifactStore()
    rows: list[Claim] = []
    for name in methods.available():
        module = methods.load(name)
        specs: list[ClaimSpec] = list(getattr(module, "CLAIMS", []))
        measured: dict[str, Claim] = {}
        extra: list[Claim] = []
        for dataset in store.datasets(name, profile) or ["synthetic"]:
            run = methods.latest(store, name, profile, dataset)
            if run is None:
                continue
            for claim in read_run_claims(run):
                if claim.id in measured or claim.id not in {s.id for s in specs}:
                    extra.append(claim)
                else:
                    measured[claim.id] = claim
        for spec in specs:
            rows.append(measured.get(spec.id) or Claim.from_spec(spec, profile=profile))
        rows.extend(extra)
    return rows


# ---- reference verdicts over seeds --------------------------------------------------------------------
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
"""Committed reference results: ``<profile>-<n>seeds.json`` with the command and commit that made them."""


def reference_path(profile: str, n_seeds: int) -> Path:
    return REFERENCE_DIR / f"{profile}-{n_seeds}seeds.json"


def load_reference(profile: str = "demo") -> dict | None:
    """The committed reference of ``profile`` with the most seeds, or None."""
    found = sorted(REFERENCE_DIR.glob(f"{profile}-*seeds.json"), key=lambda p: int(p.stem.split("-")[-1][:-5]))
    if not found:
        return None
    try:
        return json.loads(found[-1].read_text())
    except (OSError, ValueError):
        return None


def reference_verdicts(profile: str = "demo") -> dict[str, Claim]:
    """Claim id (+ dataset) -> the reference row, for showing beside the one-seed verdict."""
    ref = load_reference(profile)
    if not ref:
        return {}
    known = {f.name for f in dataclasses.fields(Claim)}
    return {row["id"]: Claim(**{k: v for k, v in row.items() if k in known}) for row in ref["claims"]}


def build_reference(profile: str, n_seeds: int, store: ArtifactStore, runner=None, progress=None,
                    method_names: list[str] | None = None, overrides: list[str] | None = None) -> dict:
    """Build every method's ``profile`` settings with seeds 0..n-1 (one runner for all their jobs) and
    return the reference document: the claims of those runs, the command, commit, date, wall time.

    ``overrides`` are ``method.key=value`` strings (``glass.steps=2400``): the budget to read the
    verdicts at, when the budget curves show the profile's own budget is not yet stable."""
    names = method_names or methods.available()
    seeds = tuple(range(1, n_seeds))
    per_method: dict[str, list[str]] = {name: [] for name in names}
    for item in overrides or []:
        method, _, setting = item.partition(".")
        if method not in per_method or "=" not in setting:
            raise WorkbenchError(f"Override {item!r} must look like METHOD.key=value with METHOD one of {', '.join(names)}.")
        per_method[method].append(setting)
    configs = [methods.make_config(name, profile, [*per_method[name], f"seeds={','.join(map(str, seeds))}"])
               for name in names]
    start = time.perf_counter()
    runs = methods.build_many(configs, store, progress, runner)
    rows = [row for run in runs for row in read_run_claims(run)]
    return {
        "profile": profile,
        "seeds": [0, *seeds],
        "budget": f"the {profile} profile's settings" + (f" with {', '.join(overrides)}" if overrides else ""),
        "command": f"workbench reference --profile {profile} --seeds {n_seeds}" + "".join(f" --set {o}" for o in overrides or []),
        "commit": versions()["commit"],
        "created": time.strftime("%Y-%m-%d"),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "build_seconds": {run.method: run.manifest.get("build_seconds") for run in runs},
        "claims": [row.to_dict() for row in rows],
    }
