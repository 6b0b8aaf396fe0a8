"""The shareable report: one self-contained HTML file that opens in a browser with no console errors and
shows the claims; a bad --out is one sentence and leaves no file behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workbench import report
from workbench.errors import WorkbenchError

CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def built_report(smoke_store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    report.write_html(out, smoke_store, "smoke")
    return out


def test_the_report_is_self_contained(built_report, smoke_store):
    page = built_report.read_text()
    assert page.count("plotly.js v") == 1  # the library is inlined, once for every figure
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?:', page)  # nothing to fetch: it opens offline
    built = [m for m in ("needs", "glass", "merging") if smoke_store.latest(m, "smoke") is not None]
    assert page.count('class="plotly-graph-div"') == len(built)  # one key figure per built method
    assert page.count("<h3>Data card</h3>") == len(built) and "<h2>Versions</h2>" in page


@pytest.mark.browser
@pytest.mark.slow
def test_the_report_opens_in_chromium_without_errors_and_shows_the_claims(built_report, smoke_store):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda err: problems.append(str(err)))
        page.goto(built_report.as_uri(), wait_until="load")
        page.wait_for_selector(".plotly-graph-div .main-svg", timeout=60_000)  # plotly drew a figure
        text = page.locator("body").inner_text()
        figures = page.locator(".plotly-graph-div .main-svg").count()
        browser.close()
    assert not problems, problems
    assert figures >= 1
    rows = report.collect(smoke_store, "smoke")
    measured = [r for r in rows if r.reproduced is not None]
    assert measured, "the smoke store has measured claims"
    for r in rows:  # every claim and its comparison sentence, as the reader sees them
        assert r.claim in text and r.sentence in text, r.id


def test_every_built_claim_row_keeps_the_row_contract(smoke_store):
    """Every method's rows: value is the quantity of the interval (the difference, or the statistic
    against a bar) and a difference lies in its own interval."""
    rows = [r for r in report.collect(smoke_store, "smoke") if r.value is not None]
    assert {r.method for r in rows} == {m for m in ("needs", "glass", "merging") if smoke_store.latest(m, "smoke")}
    for r in rows:
        assert r.value == (r.diff if r.diff is not None else r.a_value), r.id
        if r.diff is not None and r.interval:
            assert r.interval[0] <= r.diff <= r.interval[1], r.id


def test_bad_out_is_one_sentence_and_leaves_no_file(tmp_path, smoke_store):
    with pytest.raises(WorkbenchError, match="is a folder"):
        report.write_html(tmp_path, smoke_store, "smoke")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(WorkbenchError, match=r"Cannot write .*a-file/report\.html: Not a directory; choose another path"):
        report.write_html(blocker / "report.html", smoke_store, "smoke")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing half-written


def test_cli_report(tmp_path, smoke_store, cli):
    """The bad --out in this process (``cli``), the report itself from a real process."""
    r = cli("report", "--profile", "smoke", "--out", tmp_path, home=smoke_store.root)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    env = {**os.environ, "WORKBENCH_HOME": str(smoke_store.root)}
    out = tmp_path / "shared" / "report.html"
    r = subprocess.run([sys.executable, "-m", "workbench.cli", "report", "--profile", "smoke", "--out", str(out)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert str(out) in r.stdout and out.read_text().startswith("<!DOCTYPE html>")
