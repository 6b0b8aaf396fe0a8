"""The app's build: one background process per store, building through the one template and runner,
its state in a file that the app's pages poll.

    <store>/.build.lock   held (``fcntl.flock``) by the running build process
    <store>/.build.json   the build's state, rewritten atomically: profile, pid, each method's state
    <store>/.build.log    the build process's output (appended)

**One build at a time.** :func:`start` takes the lock *before* it spawns the build process and hands
it over (the process inherits the locked file), so there is no moment in which two starters can both
see "nothing runs": whoever does not get the lock joins the build that holds it. The kernel drops the
lock when the build process ends in any way (done, failed, Ctrl-C, killed), so a dead build never
leaves a stale lock, and "is a build running?" is "is the lock held?" (:func:`running`).

**Stopping.** Ctrl-C in the terminal reaches the build with the app (one process group); SIGTERM too;
and the build stops when the process that started it (``workbench app``, the Streamlit server) ends.
Runs are published only whole (``ArtifactStore.create``): an interrupted build leaves no run folder.

**First pages first.** The build publishes each method's run as soon as its own jobs are done, and
starts the jobs of the method that would be done soonest (by ``Job.cost``: its longest chain of jobs,
or its total over the workers) first (``methods.build_many(cheapest_first=True)``).

POSIX only (``fcntl``); elsewhere build first (``workbench build all``), then serve (``workbench app``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from workbench.atomic import atomic_write_text
from workbench.errors import WorkbenchError

LOCK, STATUS, LOG = ".build.lock", ".build.json", ".build.log"
WRITE_EVERY = 1.0
"""Seconds between two writes of the state file while only progress lines change."""


def _fcntl():
    try:
        import fcntl
    except ImportError as err:  # Windows
        raise WorkbenchError("A build behind the app needs a POSIX system; run `workbench build all` first, "
                             "then `workbench app`.") from err
    return fcntl


def _try_lock(root: Path, exclusive: bool, tries: int = 1) -> int | None:
    """An open descriptor of ``<root>/.build.lock`` holding the lock, or None when another process holds
    it (``tries`` attempts 50 ms apart: a reader's shared lock is held only for an instant)."""
    fcntl = _fcntl()
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    for attempt in range(tries):
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if attempt + 1 < tries:
                time.sleep(0.05)
    os.close(fd)
    return None


def running(root: str | Path) -> bool:
    """Whether a build process holds this store's lock."""
    fd = _try_lock(Path(root), exclusive=False)
    if fd is None:
        return True
    os.close(fd)  # closing releases the shared lock
    return False


def read(root: str | Path) -> dict | None:
    """The last build's state (see :func:`main`) with ``running`` added, or None when this store never
    had a build behind the app. A build that stopped without saying so (killed) reads as ``stopped``."""
    try:
        status = json.loads((Path(root) / STATUS).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict):
        return None
    status["running"] = running(root)
    if status.get("state") == "running" and not status["running"]:
        status["state"] = "stopped"
    return status


def arguments(root: Path, profile: str, methods: list[str] | None, lock_fd: int) -> list[str]:
    """The build process's arguments (see :func:`main`)."""
    args = ["--store", str(root), "--profile", profile, "--lock-fd", str(lock_fd)]
    return args + [arg for name in methods or [] for arg in ("--method", name)]


def command(root: Path, profile: str, methods: list[str] | None, lock_fd: int) -> list[str]:
    """The build process's command line."""
    return [sys.executable, "-m", "workbench.background", *arguments(root, profile, methods, lock_fd)]


def start(root: str | Path, profile: str = "demo", methods: list[str] | None = None) -> str:
    """Start the build of ``methods`` (default: every available method) for ``profile`` in a background
    process, or join the one that runs. Returns ``"started"`` or ``"joined"``."""
    root = Path(root)
    fd = _try_lock(root, exclusive=True, tries=10)
    if fd is None:
        return "joined"
    try:  # the state before the build process writes its own: the pages show "starting" at once
        _State(root, profile, list(methods or []), pid=None)
        with open(root / LOG, "ab") as log:
            subprocess.Popen(command(root, profile, methods, fd), pass_fds=(fd,), stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT)
    finally:
        os.close(fd)  # the build process holds the lock now (or, if it failed to start, nobody does)
    return "started"


def stop(root: str | Path, timeout: float = 60.0) -> bool:
    """Stop the store's running build (SIGTERM: it unwinds like Ctrl-C) and wait until it ended; whether
    it did. Nothing to do when no build runs."""
    deadline = time.monotonic() + timeout
    while running(root):
        pid = (read(root) or {}).get("pid")  # None for the moment between start() and the build's first word
        if pid:
            try:
                os.kill(int(pid), signal.SIGTERM)
            except ProcessLookupError:
                pass
            return wait_stopped(root, max(0.0, deadline - time.monotonic()))
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def wait_stopped(root: str | Path, timeout: float) -> bool:
    """Wait until no build holds the store's lock (at most ``timeout`` seconds); whether none does."""
    deadline = time.monotonic() + timeout
    while running(root):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


class _State:
    """The state file of a build: written by :func:`start` while it holds the lock, then by the build process."""

    def __init__(self, root: Path, profile: str, methods: list[str], pid: int | None = None):
        self.path = root / STATUS
        self.doc = {"state": "running", "profile": profile, "pid": pid, "started": time.time(),
                    "methods": {name: {"state": "queued"} for name in methods}, "error": None}
        self.written = 0.0
        self.lock = threading.Lock()
        self.write()

    def write(self) -> None:
        self.doc["updated"] = time.time()
        atomic_write_text(self.path, json.dumps(self.doc, indent=1))
        self.written = time.monotonic()

    def method(self, name: str, state: str, info: dict) -> None:
        with self.lock:
            before = self.doc["methods"].get(name, {})
            changed = before.get("state") != state or before.get("jobs_done") != info.get("jobs_done")
            self.doc["methods"][name] = {"state": state, **info}
            if changed or time.monotonic() - self.written > WRITE_EVERY:
                self.write()

    def end(self, state: str, error: str | None = None) -> None:
        with self.lock:
            self.doc.update(state=state, error=error, finished=time.time())
            self.write()


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C (KeyboardInterrupt): the build's cleanup runs. SIGINT is
    set too, since a process started from a non-interactive shell inherits it ignored."""
    def interrupt(signum, frame):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # one stop is enough: let the cleanup run
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)


def _stop_with_parent() -> None:
    """Interrupt this process when the one that started it ends (the app): a thread watching the parent
    id (the parent-death signal would fire when the Streamlit *thread* that started us ends)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="stop-with-parent").start()


def main(argv: list[str] | None = None) -> int:
    """The build process: hold the lock, build the profile's methods (cheapest first, each published as
    it lands), keep ``.build.json`` up to date. Exit 0 when built, 1 when the build failed, 130 when
    interrupted; 0 at once (nothing done) when another build holds the lock."""
    from workbench import methods as registry
    from workbench.store import ArtifactStore

    parser = argparse.ArgumentParser(prog="python -m workbench.background", description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--method", action="append", dest="methods", help="A method to build (repeatable; default all).")
    parser.add_argument("--lock-fd", type=int, default=None, help="The locked descriptor handed over by start().")
    args = parser.parse_args(argv)
    fd = args.lock_fd if args.lock_fd is not None else _try_lock(args.store, exclusive=True)
    if fd is None:
        print(f"a build already runs in {args.store}; nothing to do", flush=True)
        return 0
    _stop_on_signals()
    _stop_with_parent()
    names = args.methods or registry.available()
    state = _State(args.store, args.profile, names, pid=os.getpid())
    print(f"{time.strftime('%H:%M:%S')} building {', '.join(names)} ({args.profile}) in {args.store}", flush=True)
    try:
        configs = [registry.make_config(name, args.profile) for name in names]
        registry.build_many(configs, ArtifactStore(args.store), cheapest_first=True, status=state.method)
    except KeyboardInterrupt:
        state.end("stopped", "The build was stopped before it finished; nothing half-written was kept.")
        return 130
    except WorkbenchError as err:
        state.end("failed", str(err))
        print(f"error: {err}", flush=True)
        return 1
    except Exception as err:  # noqa: BLE001 — the page shows it; the traceback goes to .build.log
        import traceback

        traceback.print_exc()
        state.end("failed", f"{type(err).__name__}: {err} (details in {args.store / LOG})")
        return 1
    state.end("done")
    print(f"{time.strftime('%H:%M:%S')} done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
