"""The front door, measured as a new user meets it: from an empty store, ``workbench app --build PROFILE``
(what ``make demo`` runs once the install is done). Writes one JSON file with

- seconds until the server answers, and until the Home page has rendered in headless Chromium;
- for each method page, opened once at the start and never reloaded: seconds until it filled in (its
  fragment saw the run land and reran the page), in the order they landed;
- each landed run's jobs with their wall and CPU seconds (its ``jobs.json``), and the build's state.

    python benchmarks/bench_front_door.py --profile demo --out benchmarks/results/front_door-demo.json

It stops when every page filled in, or after ``--first`` once the first one did, or with ``--home`` once
every page shows the build's progress, or at ``--timeout``; then it stops the app as Ctrl+C would
(SIGINT) and records how long the app and the build took to end. Each time is also printed as it is
measured.
Needs Chromium (``WORKBENCH_CHROMIUM``, default /usr/bin/chromium) and the ``playwright`` package.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "app"))

CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
WAITING = "is being built in the background"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    import ui
    from playwright.sync_api import sync_playwright

    from workbench import background
    from workbench.atomic import atomic_write_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--store", type=Path, default=None, help="An empty folder (default: a new temporary one).")
    parser.add_argument("--first", action="store_true", help="Stop once the first method page filled in.")
    parser.add_argument("--home", action="store_true", help="Stop once every page shows the build's progress.")
    parser.add_argument("--timeout", type=float, default=7200.0)
    args = parser.parse_args()
    store = args.store or Path(tempfile.mkdtemp(prefix="front-door-"))
    if store.exists() and any(store.iterdir()):
        sys.exit(f"error: {store} is not empty; the measurement starts from an empty store.")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    result: dict = {"profile": args.profile, "store": str(store), "cores": os.cpu_count(),
                    "load_average_at_start": os.getloadavg(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    start = time.perf_counter()

    def mark(key: str) -> None:
        result[key] = round(time.perf_counter() - start, 1)
        print(f"{key}: {result[key]}", flush=True)

    log = tempfile.TemporaryFile()  # the app's own lines (read back only if it ends early)
    app = subprocess.Popen([sys.executable, "-m", "workbench.cli", "app", "--build", args.profile, "--port", str(port),
                            "--store", str(store)], stdout=log, stderr=subprocess.STDOUT)
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                break
        except OSError:
            if app.poll() is not None:
                log.seek(0)
                sys.exit("error: the app ended: " + log.read().decode()[-2000:])
            time.sleep(0.2)
    mark("server_answers_s")
    pages = {p[4]: p[3] for p in ui.PAGES if p[4]}  # method -> one of its pages
    landed: dict[str, float] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        home = browser.new_page()
        home.goto(url, wait_until="domcontentloaded", timeout=600_000)
        home.get_by_text("Research workbench").first.wait_for(timeout=600_000)
        mark("home_rendered_s")
        tabs = {}
        for method, path in pages.items():
            tabs[method] = browser.new_page()
            tabs[method].goto(f"{url}/{path}", wait_until="domcontentloaded", timeout=600_000)
        for method, tab in tabs.items():
            tab.get_by_text(WAITING).first.wait_for(timeout=600_000)  # each shows the build's progress first
        mark("pages_show_progress_s")
        deadline = time.monotonic() + (0 if args.home else args.timeout)
        built = set()  # pages whose method's run is in the store: they must fill in by themselves
        while len(landed) < len(tabs) and time.monotonic() < deadline and not (args.first and landed):
            status = background.read(store) or {}
            built |= {m for m, s in (status.get("methods") or {}).items() if s.get("state") == "built"}
            for method, tab in tabs.items():
                # a rerun briefly shows neither the progress nor the page: count only a page whose run landed,
                # that shows no progress and no running script
                if method in built and method not in landed and tab.get_by_text(WAITING).count() == 0 \
                        and tab.locator('[data-testid="stStatusWidget"]').count() == 0 \
                        and len(tab.locator('[data-testid="stMain"]').inner_text()) > 300:
                    landed[method] = round(time.perf_counter() - start, 1)
                    print(f"{method} page filled in at {landed[method]} s", flush=True)
            time.sleep(1.0)
        browser.close()
    result["pages_filled_in_s"] = landed
    status = background.read(store) or {}
    result["build"] = {k: status.get(k) for k in ("state", "error", "methods")}
    result["runs"] = {}  # each landed run's jobs (wall and CPU seconds)
    for run_dir in sorted(store.glob("*/*/jobs.json")):
        jobs = json.loads(run_dir.read_text())
        result["runs"][run_dir.parent.parent.name] = {
            "cpu_seconds": round(sum(t["cpu_seconds"] for t in jobs.values()), 1),
            "jobs": jobs}
    stop = time.perf_counter()
    app.send_signal(signal.SIGINT)  # what Ctrl+C sends (the terminal sends it to the build as well)
    app.wait(timeout=120)
    result["app_stopped_after_s"] = round(time.perf_counter() - stop, 1)
    result["build_stopped"] = background.wait_stopped(store, timeout=60)
    result["build_stopped_after_s"] = round(time.perf_counter() - stop, 1)
    result["load_average_at_end"] = os.getloadavg()
    result["rows"] = summary_rows(result)
    result["command"] = "python benchmarks/bench_front_door.py " + " ".join(sys.argv[1:])
    result["commit"] = git_commit()
    result["measured"] = (f"{result['cores']} CPU cores, load average {result['load_average_at_start'][0]:.1f} at the "
                          "start; seconds from starting `workbench app --build` (what `make demo` runs after the install)")
    atomic_write_text(args.out, json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))


def summary_rows(result: dict) -> list[dict]:
    """The moments a newcomer sees, in order, each with its CPU seconds where a run landed (the docs' table)."""
    whole = lambda x: None if x is None else round(x)  # noqa: E731 — whole seconds: what a newcomer waits
    rows = [{"moment": label, "seconds": whole(result.get(key)), "CPU s of jobs": None}
            for key, label in (("server_answers_s", "the server answers"), ("home_rendered_s", "Home has rendered"),
                               ("pages_show_progress_s", "every method page shows the build's progress"))]
    cpu = {run.split("-")[0]: r["cpu_seconds"] for run, r in result.get("runs", {}).items()}
    for method, seconds in sorted(result.get("pages_filled_in_s", {}).items(), key=lambda kv: kv[1]):
        rows.append({"moment": f"the {method} page has filled in", "seconds": whole(seconds),
                     "CPU s of jobs": whole(cpu.get(method))})
    if cpu:
        rows.append({"moment": "the whole demo build (CPU seconds of its jobs)", "seconds": None,
                     "CPU s of jobs": whole(sum(cpu.values()))})
    return rows


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    main()
