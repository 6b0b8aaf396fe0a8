"""Shared fixtures: offline hub, two threads, a session-wide smoke build of every method, app paths."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WORKBENCH_THREADS", "2")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(int(os.environ["WORKBENCH_THREADS"]))

ROOT = Path(__file__).resolve().parent.parent
APP_DIR = ROOT / "app"
SHARED_DATA = Path(os.environ.get("WORKBENCH_SHARED_DATA", ROOT.parent / "shared" / "data"))
for path in (str(APP_DIR), str(Path(__file__).parent), str(Path(__file__).parent / "app")):
    if path not in sys.path:
        sys.path.insert(0, path)


def pytest_collection_modifyitems(config, items):
    """Skip `external` tests cleanly when ../shared/data is absent (a user's fresh clone)."""
    if SHARED_DATA.exists():
        return
    skip = pytest.mark.skip(reason=f"real data not found at {SHARED_DATA}")
    for item in items:
        if "external" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return SHARED_DATA


@pytest.fixture(scope="session")
def smoke_store(tmp_path_factory):
    """Every available method built once with the smoke profile, in a fresh folder for this session.

    ``WORKBENCH_TEST_METHODS=needs,glass`` limits it to some methods (for quick local runs).
    Sets WORKBENCH_HOME so the app (AppTest, browser) and notebooks read these artifacts.
    """
    from workbench import methods
    from workbench.store import ArtifactStore

    root = tmp_path_factory.mktemp("artifacts")
    store = ArtifactStore(root)
    only = [m for m in os.environ.get("WORKBENCH_TEST_METHODS", "").split(",") if m]
    for name in only or methods.available():
        methods.build(name, "smoke", store=store)
    os.environ["WORKBENCH_HOME"] = str(root)
    return store


@pytest.fixture
def tmp_store(tmp_path, monkeypatch):
    """An empty store of one's own (WORKBENCH_HOME points at it during the test)."""
    from workbench.store import ArtifactStore

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "artifacts"))
    return ArtifactStore(tmp_path / "artifacts")


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """``cli(*args)`` runs ``workbench ARGS`` in this process through the console script's own function
    (``workbench.cli.main``), so exit codes and stderr are the real ones without a new interpreter
    (~3 s each); ``home=`` sets WORKBENCH_HOME (default: a folder of the test's own)."""
    from types import SimpleNamespace

    from workbench import cli as entry

    def run(*args, home=None) -> SimpleNamespace:
        monkeypatch.setenv("WORKBENCH_HOME", str(home or tmp_path / "artifacts"))
        monkeypatch.setattr(sys, "argv", ["workbench", *map(str, args)])
        threads = torch.get_num_threads()  # doctor, merge and eval set the thread count for the process
        capsys.readouterr()
        try:
            entry.main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            torch.set_num_threads(threads)
        out = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)

    return run


@pytest.fixture
def toy_method(monkeypatch):
    """Register the tiny `toy` method (tests/toy_pipeline.py) next to the real ones."""
    from workbench import methods

    monkeypatch.setitem(methods.METHODS, "toy", "toy_pipeline")
    return "toy"
