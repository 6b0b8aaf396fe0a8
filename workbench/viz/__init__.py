"""Plotly figures and display tables shared by the notebooks and the app (no Streamlit imports).

Method-specific figures live in ``workbench/viz/<method>.py``; this module holds the shared look and
the claims table.
"""

from __future__ import annotations

import pandas as pd

from workbench.claims import Claim, sentence

# One qualitative palette everywhere, so a class keeps its colour between the notebook and the app.
PALETTE = [
    "#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B",
    "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC", "#1F77B4", "#2CA02C",
]
GOOD, BAD, NEUTRAL = "#2E7D32", "#C62828", "#9E9E9E"
TEMPLATE = "plotly_white"


def claims_frame(rows: list[Claim], reference: dict[str, Claim] | None = None, lead: bool = False) -> pd.DataFrame:
    """The claims report as a display table (one row per claim): the claim, its comparison in words and
    numbers (``workbench.claims.sentence``), the verdict; ``reference`` (claim id -> row of the committed
    multi-seed reference run) adds that run's verdict and sentence beside the built run's. ``lead``
    (a reference at the stable budget, ``report.at_stable_budget``): the reference's columns come first
    and the built run's are named "your run"."""
    verdict = {True: "reproduced", False: "NOT reproduced", None: "not built"}
    reference = reference or {}

    def ref_of(r: Claim) -> Claim | None:
        return reference.get(r.id) if (r.dataset or "synthetic") == "synthetic" else None

    def row(r: Claim) -> dict:
        ref = ref_of(r)
        yours = {"comparison": sentence(r), "verdict": verdict[r.reproduced], "seeds": r.seeds}
        theirs = {}
        if reference:  # the multi-seed verdict right beside the built one: a one-seed verdict can flip
            theirs = {"reference verdict": f"{verdict[ref.reproduced]} ({ref.seeds} seeds)" if ref else "—",
                      "reference comparison": sentence(ref) if ref else ""}
        if lead and reference:
            yours = {"your run": yours["verdict"], "your run comparison": yours["comparison"], "seeds": r.seeds}
            out = {"method": r.method, "claim": r.claim, **theirs, **yours}
        else:
            out = {"method": r.method, "claim": r.claim, **yours, **theirs}
        out.update({"dataset": r.dataset or "", "note": r.note, "id": r.id})
        return out

    return pd.DataFrame([row(r) for r in rows])
