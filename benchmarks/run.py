"""Run the benchmarks: ``python benchmarks/run.py [name ...]`` (``make bench`` runs them all).

Each ``benchmarks/bench_<name>.py`` (found by name: needs, glass, merging, lm, pages — the app's
interaction timings — peers_cornac, peers_mergekit (``peers`` runs both), demo_profile — where each
demo job's CPU goes — and any other) has ``TITLE``
and ``run() -> list[dict]`` (rows of one or more tables; a row may carry a ``table`` key to split
them). Results go to ``benchmarks/results/<name>.json`` (with versions, machine and date beside
them) and one markdown file ``benchmarks/results/RESULTS.md``.
Timings are measurements, never assertions: this host's speed swings 3-8x within minutes.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def markdown_table(rows: list[dict]) -> str:
    if not rows:
        return "_no rows_\n"
    cols = list(dict.fromkeys(k for r in rows for k in r))

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}" if abs(v) < 1000 else f"{v:,.0f}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main(names: list[str]) -> None:
    from workbench.runtime import set_threads
    from workbench.store import to_json, versions

    set_threads()
    available = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    # a name that is no benchmark but a family's prefix runs the family (``peers``: peers_cornac, peers_mergekit)
    chosen = [m for n in names for m in ([n] if n in available else [a for a in available if a.startswith(f"{n}_")] or [n])]
    chosen = chosen or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        sys.exit(f"error: unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(available)}.")
    RESULTS.mkdir(exist_ok=True)
    env = {**versions(), "machine": platform.machine(), "cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M")}
    for name in chosen:
        module = importlib.import_module(f"bench_{name}")
        print(f"== {name}: {module.TITLE}", flush=True)
        start = time.perf_counter()
        rows = module.run()
        result = {"name": name, "title": module.TITLE, "seconds": round(time.perf_counter() - start, 1),
                  "environment": env, "rows": rows}
        (RESULTS / f"{name}.json").write_text(to_json(result))
        print(markdown_table(rows), flush=True)
    sections = []
    for path in sorted(RESULTS.glob("*.json")):
        result = json.loads(path.read_text())
        tables: dict[str, list[dict]] = {}
        for row in result["rows"]:
            tables.setdefault(row.get("table", ""), []).append({k: v for k, v in row.items() if k != "table"})
        body = "".join((f"\n**{t}**\n\n" if t else "\n") + markdown_table(r) for t, r in tables.items())
        e = result["environment"]
        sections.append(f"## {result['title']} (`{result['name']}`)\n\nMeasured {e['date']} on {e['cores']} cores, "
                        f"torch {e['torch']}, commit {e['commit'] or '-'}; took {result['seconds']} s.\n{body}")
    (RESULTS / "RESULTS.md").write_text("# Benchmark results\n\n" + "\n".join(sections))
    print(f"wrote {RESULTS / 'RESULTS.md'}")


if __name__ == "__main__":
    main(sys.argv[1:])
