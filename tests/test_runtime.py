import random

import numpy as np
import pytest
import torch

from workbench.errors import WorkbenchError
from workbench.progress import scaled, tqdm_progress, track
from workbench.runtime import StepTimer, resolve_device, seed_everything, set_threads


def test_seed_everything_repeats():
    seed_everything(7)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(7)
    assert a == (random.random(), np.random.rand(), torch.rand(1).item())


def test_devices_and_threads():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(WorkbenchError, match="no CUDA"):
            resolve_device("cuda")
    assert set_threads(1) == 1
    set_threads(2)


def test_timer_and_progress():
    timer = StepTimer()
    with timer.step("a"):
        sum(range(1000))
    assert timer.as_dict()["a"]["seconds"] >= 0 and timer.total_seconds >= 0
    seen = []
    items = list(track(range(10), scaled(lambda m, f: seen.append(f), 0.0, 0.5), "x"))
    assert items == list(range(10)) and seen[-1] == 0.5 and seen == sorted(seen)
    with tqdm_progress("t", disable=True) as bar:
        bar("step", 0.5)
        assert bar.bar.n == 50


def test_default_threads_leave_busy_cores_alone(monkeypatch):
    import os

    import pytest

    from workbench.errors import WorkbenchError
    from workbench.runtime import MAX_THREADS, default_threads

    monkeypatch.setenv("WORKBENCH_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("WORKBENCH_THREADS", "many")
    with pytest.raises(WorkbenchError, match="WORKBENCH_THREADS='many'"):
        default_threads()
    monkeypatch.delenv("WORKBENCH_THREADS")
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert default_threads() == MAX_THREADS  # an idle machine: all cores, capped
    monkeypatch.setattr(os, "getloadavg", lambda: (12.6, 0.0, 0.0))
    assert default_threads() == 3  # a build already runs on 13 of 16 cores: take what is left
    monkeypatch.setattr(os, "getloadavg", lambda: (40.0, 0.0, 0.0))
    assert default_threads() == 1
