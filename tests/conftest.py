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


SESSION_BUILDS = ("smoke_store", "tiny_builds", "local_ray")
"""Session fixtures that build or start something for minutes: a test using one is `slow` (`make test-fast` skips it)."""


def pytest_collection_modifyitems(config, items):
    """Mark tests that need a session build `slow`; run the Ray tests last, so the session's one Ray is
    not left idling beside the other tests; skip `external` tests cleanly when ../shared/data is absent
    (a user's fresh clone)."""
    skip = pytest.mark.skip(reason=f"real data not found at {SHARED_DATA}")
    items.sort(key=lambda item: "local_ray" in getattr(item, "fixturenames", ()))  # Ray started once, at the end
    for item in items:
        if set(SESSION_BUILDS) & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        if "external" in item.keywords and not SHARED_DATA.exists():
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
    methods.build_many([methods.make_config(name, "smoke") for name in session_methods()], store)  # one pool for all jobs
    os.environ["WORKBENCH_HOME"] = str(root)
    return store


def session_methods() -> list[str]:
    """The methods the session builds: ``WORKBENCH_TEST_METHODS`` (comma-separated) or every available one."""
    from workbench import methods

    return [m for m in os.environ.get("WORKBENCH_TEST_METHODS", "").split(",") if m] or methods.available()




@pytest.fixture(scope="session")
def tiny_builds(tmp_path_factory):
    """Every method's reduced two-seed build (tests/tiny_builds.py) made twice, each time all methods in
    one runner call: ``inline`` (workers=1, in this process) and ``pool`` (two worker processes), in
    two stores under ``root``. The pipeline tests compare the two byte for byte."""
    from types import SimpleNamespace

    import tiny_builds
    from workbench import methods
    from workbench.runner import Runner
    from workbench.store import ArtifactStore

    root = tmp_path_factory.mktemp("tiny-builds")
    names = [m for m in session_methods() if m in tiny_builds.TINY]
    configs = [tiny_builds.config(name) for name in names]
    runs = {}
    for label, workers in (("inline", 1), ("pool", 2)):
        built = methods.build_many(configs, ArtifactStore(root / label), runner=Runner(workers=workers))
        runs[label] = dict(zip(names, built))
    return SimpleNamespace(root=root, **runs)


@pytest.fixture(scope="session")
def local_ray():
    """One local Ray for every Ray test of the session (run_jobs joins it instead of starting its own)."""
    ray = pytest.importorskip("ray")
    from workbench.runner import Runner, start_ray

    started = start_ray(Runner("ray", workers=2))
    yield
    if started:
        ray.shutdown()


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
