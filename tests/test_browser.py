"""Open every app page in headless Chromium against a live server; fail on any Streamlit error box.

Screenshots land in .screenshots/ (git-ignored) so a person can look at them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import ui

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(smoke_store):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium; .ci/run does this)")
    port = free_port()
    env = {**os.environ, "WORKBENCH_HOME": str(smoke_store.root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the app server did not start: " + proc.stdout.read().decode()[-2000:])
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def wait_until_idle(page, timeout_s: float = 180) -> None:
    """Wait for the first render, then until Streamlit stops running the script."""
    page.wait_for_selector('[data-testid="stMain"]', timeout=timeout_s * 1000)
    deadline = time.time() + timeout_s
    quiet = 0
    while time.time() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        quiet = 0 if running else quiet + 1
        if quiet >= 6:  # ~3 s without the running indicator
            return
        time.sleep(0.5)


def visit(server: str, url: str, shot: str, click: str | None = None) -> dict:
    """Open ``url`` in headless Chromium (optionally click ``click`` once it rendered), save a
    screenshot, and return what a person would check: exception and error boxes and the page's text.
    ``clicked`` is False when the selector matched nothing."""
    from playwright.sync_api import sync_playwright

    shots = ROOT / ".screenshots"
    shots.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server}/{url}", wait_until="domcontentloaded")
        wait_until_idle(page)
        clicked = click is not None and page.locator(click).count() > 0
        if clicked:
            page.locator(click).click()
            wait_until_idle(page)
        page.screenshot(path=str(shots / shot), full_page=True)
        seen = {
            "exceptions": page.locator('[data-testid="stException"]').all_inner_texts(),
            "errors": page.locator('[data-testid="stAlertContentError"]').all_inner_texts(),
            "body": page.locator('[data-testid="stMain"]').inner_text(),
            "whole": page.locator("body").inner_text(),  # includes modals, e.g. Streamlit's "Page not found"
            "clicked": clicked,
        }
        browser.close()
    return seen


@pytest.mark.parametrize("path, title, url", [(p[0], p[1], p[3]) for p in ui.existing_pages()])
def test_page_renders_without_errors(server, path, title, url):
    seen = visit(server, "" if url == "home" else url, f"{url}.png")
    assert not seen["exceptions"], seen["exceptions"]
    assert not seen["errors"], seen["errors"]
    assert "page not found" not in seen["whole"].lower(), "Streamlit could not resolve the page's URL"
    assert title.split()[0].lower() in seen["body"].lower() or url == "home"
    assert len(seen["body"].strip()) > 100, "the page rendered (almost) nothing"


# (page url, compare-view key, text the opened case must show)
FEATURED = [
    ("sid-tree", "sid-cmp", "retrieved bucket"),
    ("needs-services", "ns-cmp", "McNemar exact"),
    ("merge-strength", "merge-cmp", "McNemar exact"),
]


@pytest.mark.parametrize("url, key, shows", FEATURED)
def test_featured_case_opens_the_compare_view(server, url, key, shows):
    """One click on the page's first featured case: the compare view opens with its pair (2 x 2 table,
    McNemar p) and the case side by side, without an error box."""
    # Streamlit marks keyed widgets with the class st-key-<key>
    seen = visit(server, url, f"{url}-compare.png", click=f".st-key-{key}-featured-0 button")
    if not seen["clicked"]:
        pytest.skip(f"the smoke run has no featured case on {url} to open")
    assert not seen["exceptions"] and not seen["errors"], seen["exceptions"] + seen["errors"]
    assert "McNemar exact" in seen["body"] and shows in seen["body"]
