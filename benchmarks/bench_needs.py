"""Method 1 (living needs → services): the ablation table, each build stage's time and peak memory, each job's.

Reads the demo run in the default store (building it first when missing, like ``make demo``), so the
stage timings are those of that build; ``WORKBENCH_BENCH_FRESH=1`` builds from scratch in a temporary
store instead (timings of this machine, now).
``NEEDS_BENCH_PROFILE`` picks another profile (e.g. ``smoke`` for a quick look).
"""

from __future__ import annotations

import os
import tempfile

TITLE = "Living needs → services: ablations and build stages"


def run() -> list[dict]:
    from workbench import methods
    from workbench.store import ArtifactStore

    profile = os.environ.get("NEEDS_BENCH_PROFILE", "demo")
    if not os.environ.get("WORKBENCH_BENCH_FRESH"):
        run_ = methods.build("needs", profile)
        return _rows(run_, profile)
    with tempfile.TemporaryDirectory(prefix="bench-needs-") as root:
        run_ = methods.build("needs", profile, store=ArtifactStore(root))
        return _rows(run_, profile)


def _rows(run, profile: str) -> list[dict]:
    from workbench.needs.evaluate import VARIANTS

    rows: list[dict] = []
    metrics = run.read_parquet("metrics").groupby(["variant", "slice"], sort=False).mean(numeric_only=True).reset_index()
    for variant in [v for v in VARIANTS if v in set(metrics["variant"])]:
        row = {"table": f"ablations ({profile}, mean over {run.read_parquet('metrics')['seed'].nunique()} seed(s))",
               "variant": variant}
        for _, m in metrics[metrics["variant"] == variant].iterrows():
            tag = {"overall": "", "long_tail": " tail", "cross_city": " x-city"}[m["slice"]]
            if m["slice"] == "overall":
                row.update({"need acc": m["need_acc"], "need F1": m["need_macro_f1"], "cat acc": m["category_acc"],
                            "HR@1": m["HR@1"], "HR@3": m["HR@3"], "HR@5": m["HR@5"], "NDCG@5": m["NDCG@5"]})
            else:
                row.update({f"need acc{tag}": m["need_acc"], f"HR@3{tag}": m["HR@3"]})
        rows.append(row)
    for step, t in run.read_json("compute")["timings"].items():  # the steps inside the jobs
        rows.append({"table": f"build stages ({profile})", "step": step, "seconds": t["seconds"],
                     "CPU seconds": t.get("cpu_seconds"), "peak RSS (MB)": t.get("peak_rss_mb")})
    for job, t in run.read_json("jobs").items():  # each job as the runner saw it (imports and I/O included)
        rows.append({"table": f"jobs ({profile})", "job": job, "seconds": t.get("seconds"), "CPU seconds": t.get("cpu_seconds")})
    rows.append({"table": f"build stages ({profile})", "step": "total (build_seconds)", "seconds": run.manifest["build_seconds"]})
    for claim in run.read_json("claims"):
        interval = claim["interval"] or [None, None]
        rows.append({"table": f"claims ({profile})", "claim": claim["id"], "value": claim["value"], "reference": claim["reference"],
                     "interval": f"[{_fmt(interval[0])}, {_fmt(interval[1])}]", "reproduced": claim["reproduced"]})
    for q in run.read_json("filter")["quality"]:
        rows.append({"table": f"filter ({profile})", "seed": q.get("seed"), "precision": q.get("precision"),
                     "recall": q.get("recall"), "dropped": q.get("dropped_share"),
                     "accidental share kept": q.get("accidental_share_after")})
    return rows


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}"
