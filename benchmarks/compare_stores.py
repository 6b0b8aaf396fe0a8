"""Are two stores' builds the same numbers? (how a rename was shown to change no random stream)

    python benchmarks/compare_stores.py STORE_BEFORE STORE_AFTER [--profile demo]

Per method, the latest run of ``profile`` in each store, file by file (sha256), leaving out logs,
``jobs.json`` and ``manifest.json`` (timings and provenance). A json file that differs is compared again
without its timing fields; ``claims.json`` is compared on what a verdict is made of (``diff``,
``interval``, ``reproduced``), since ``value``/``reference`` follow the claim-row contract of the day.
Prints one json object; exits 1 when any data file (parquet, safetensors) differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

SKIP = {"jobs.json", "manifest.json"}
TIMING = {"seconds", "cpu_seconds", "peak_rss_mb", "wall_seconds"}
VERDICT = ("diff", "interval", "reproduced")


def digests(run: Path) -> dict[str, str]:
    return {str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(run.rglob("*"))
            if p.is_file() and "logs" not in p.parts and p.name not in SKIP and not p.name.startswith(".")}


def untimed(x):
    if isinstance(x, dict):
        return {k: untimed(v) for k, v in x.items() if k not in TIMING}
    return [untimed(v) for v in x] if isinstance(x, list) else x


def claims(path: Path) -> dict:
    doc = json.loads(path.read_text())
    return {r["id"]: {k: r.get(k) for k in VERDICT} for r in (doc["claims"] if isinstance(doc, dict) else doc)}


def compare(a: Path, b: Path, method: str, profile: str) -> dict:
    ra, rb = (max(s.joinpath(method).glob(f"{profile}-*"), key=lambda p: p.stat().st_mtime) for s in (a, b))
    da, db = digests(ra), digests(rb)
    out = {"runs": [ra.name, rb.name], "identical": sum(db.get(k) == v for k, v in da.items()),
           "only_before": sorted(set(da) - set(db)), "only_after": sorted(set(db) - set(da)), "differ": {}}
    for name in sorted(k for k in da if k in db and db[k] != da[k]):
        if name == "claims.json":
            same = claims(ra / name) == claims(rb / name)
            out["differ"][name] = "verdicts, diffs and intervals equal" if same else "verdicts differ"
        elif name.endswith(".json"):
            x, y = (json.loads(r.joinpath(name).read_text()) for r in (ra, rb))
            if untimed(x) == untimed(y):
                out["differ"][name] = "equal apart from timing fields"
            elif isinstance(x, dict) and isinstance(y, dict) and all(y.get(k) == v for k, v in untimed(x).items()):
                out["differ"][name] = f"every field equal, fields added: {sorted(set(y) - set(x))}"
            else:
                out["differ"][name] = "values differ"
        else:
            out["differ"][name] = "data differs"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--profile", default="demo")
    args = parser.parse_args()
    report = {m: compare(args.before, args.after, m, args.profile) for m in ("needs", "glass", "merging")
              if (args.before / m).is_dir() and (args.after / m).is_dir()}
    print(json.dumps(report, indent=1))
    bad = [m for m, r in report.items() if "data differs" in r["differ"].values() or "values differ" in r["differ"].values()
           or "verdicts differ" in r["differ"].values() or r["only_before"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
