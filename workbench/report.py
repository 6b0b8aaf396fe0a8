"""The claims report across methods: gathers each built run's ``claims.json`` for a profile.

It sits above the method registry (it asks every method for its claims), so the claim types and the
comparison rule (``workbench.claims``) stay below the methods that use them.
"""

from __future__ import annotations

from workbench import methods
from workbench.claims import Claim, ClaimSpec, read_run_claims
from workbench.store import ArtifactStore


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
