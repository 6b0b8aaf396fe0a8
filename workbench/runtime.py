"""Runtime helpers: seeding, thread counts, device choice, and timing/peak-memory of build steps."""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import psutil
import torch

from workbench.errors import WorkbenchError


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch so the same config + seed gives the same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


MAX_THREADS = 8
"""More torch threads than this rarely help the small models here."""


def default_threads() -> int:
    """Torch threads for a command run outside the job runner (``merge``, ``eval``, a build's own steps).

    ``WORKBENCH_THREADS`` when set; else the cores that are not busy already (cores minus the 1-minute
    load average, at least 1, at most 8): a second build or merge beside a running one takes what is
    left instead of all cores, so the two do not fight over them. Numbers never depend on it: jobs
    run with their own fixed thread count, and merges are bit-identical for any count (tests/merging).
    """
    raw = os.environ.get("WORKBENCH_THREADS", "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError as err:
            raise WorkbenchError(f"WORKBENCH_THREADS={raw!r} is not a whole number; set it to e.g. 1 or 4.") from err
    cores = os.cpu_count() or 1
    try:
        busy = round(os.getloadavg()[0])
    except (AttributeError, OSError):  # Windows has no load average
        busy = 0
    return max(1, min(cores - busy, MAX_THREADS))


def set_threads(n: int | None = None) -> int:
    """Use ``n`` torch threads (default: ``default_threads()``); return it."""
    torch.set_num_threads(max(1, default_threads() if n is None else n))
    return torch.get_num_threads()


PR_SET_PDEATHSIG = 1
"""prctl's option number for the parent-death signal (linux/prctl.h)."""


def die_with_parent(signum: int = signal.SIGTERM) -> Callable[[], None]:
    """A function that, called in a child process, has Linux send the child ``signum`` when its parent
    dies, even by SIGKILL (``prctl(PR_SET_PDEATHSIG)``); a no-op elsewhere. Made in the parent, so the
    child only makes the one system call (all a ``preexec_fn`` may do). Used for the app's server and
    the runner's pool workers, which would otherwise live on, re-parented, after a killed command.

    Linux sends it when the parent *thread* that started the child ends: start children from a thread
    that lives as long as they should (the runner submits from the thread that waits for the jobs)."""
    if not sys.platform.startswith("linux"):
        return lambda: None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return lambda: libc.prctl(PR_SET_PDEATHSIG, signum)


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` picks CUDA when present, else CPU; ``"cpu"``/``"cuda"``/``"cuda:1"`` are taken as given."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise WorkbenchError(f"Device {device!r} was asked for but no CUDA GPU is visible; use device=cpu or auto.")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise WorkbenchError(f"Unknown device {device!r}; use auto, cpu or cuda.") from err


class _PeakRSS:
    """Samples this process's resident memory in a background thread (torch allocations included)."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._proc = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> "_PeakRSS":
        self.peak = self._proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


@dataclass
class StepTimer:
    """Records wall time, this process's CPU time and peak resident memory of named build steps
    (CPU seconds stay meaningful when other work shares the cores; wall seconds do not).

    >>> timer = StepTimer()
    >>> with timer.step("world"):
    ...     pass
    >>> sorted(timer.as_dict()["world"])
    ['cpu_seconds', 'peak_rss_mb', 'seconds']
    """

    steps: dict[str, dict[str, float]] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str):
        start, cpu = time.perf_counter(), time.process_time()
        with _PeakRSS() as mem:
            yield
        self.steps[name] = {
            "seconds": round(time.perf_counter() - start, 3),
            "cpu_seconds": round(time.process_time() - cpu, 2),
            "peak_rss_mb": round(mem.peak / 2**20, 1),
        }

    def as_dict(self) -> dict[str, dict[str, float]]:
        return dict(self.steps)

    @property
    def total_seconds(self) -> float:
        return round(sum(s["seconds"] for s in self.steps.values()), 3)
