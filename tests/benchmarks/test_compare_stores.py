"""benchmarks/compare_stores.py: same data passes, a changed data file or verdict fails, timings are ignored."""
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "compare_stores.py"


def make_store(root: Path, data: bytes, seconds: float, reproduced: bool) -> Path:
    run = root / "merging" / "demo-synthetic-abc"
    (run / "logs").mkdir(parents=True)
    (run / "summary.parquet").write_bytes(data)
    (run / "metrics.json").write_text(json.dumps({"acc": 0.5, "seconds": seconds}))
    (run / "claims.json").write_text(json.dumps([{"id": "m.pareto", "diff": -0.1, "interval": [-0.2, -0.05],
                                                  "reproduced": reproduced, "value": seconds}]))
    (run / "logs" / "job.log").write_text(f"took {seconds}")
    return root


def compare(a: Path, b: Path) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, str(SCRIPT), str(a), str(b)], capture_output=True, text=True)
    return done.returncode, json.loads(done.stdout)


def test_timings_and_contract_fields_are_ignored_data_and_verdicts_are_not(tmp_path):
    a = make_store(tmp_path / "a", b"rows", 1.0, True)
    rc, report = compare(a, make_store(tmp_path / "b", b"rows", 2.0, True))
    assert rc == 0 and report["merging"]["identical"] == 1
    assert report["merging"]["differ"] == {"claims.json": "verdicts, diffs and intervals equal",
                                           "metrics.json": "equal apart from timing fields"}
    rc, report = compare(a, make_store(tmp_path / "c", b"other rows", 1.0, True))
    assert rc == 1 and report["merging"]["differ"]["summary.parquet"] == "data differs"
    rc, report = compare(a, make_store(tmp_path / "d", b"rows", 1.0, False))
    assert rc == 1 and report["merging"]["differ"]["claims.json"] == "verdicts differ"
