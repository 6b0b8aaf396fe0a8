"""The page-timing benchmark (benchmarks/bench_pages.py) builds nothing: on an empty store it says what
to build instead of measuring. (The timings themselves are measured by ``make bench``, never asserted.)"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_pages  # noqa: E402


def test_empty_store_gives_a_note_not_a_build(tmp_store, monkeypatch):
    monkeypatch.setenv("BENCH_PAGES_PROFILE", "demo")
    rows = bench_pages.run()
    assert len(rows) == 1 and "not built for profile demo" in rows[0]["note"]
    assert "workbench build all --profile demo" in rows[0]["note"]
    assert not any(tmp_store.root.rglob("manifest.json"))


def test_spread_picks_fresh_values_across_the_list():
    assert bench_pages._spread(list(range(10)), 0, 3) == [1, 4, 7]
    assert bench_pages._spread(["a", "b"], "a", 5) == ["b"]
