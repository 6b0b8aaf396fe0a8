"""The registry of methods: name -> the module that builds it.

Each method package has a ``pipeline`` module with:
- ``TITLE: str`` and ``Config`` (a ``MethodConfig`` subclass),
- ``build(config, store, progress=None) -> Run`` (a no-op returning the stored run when it exists),
- ``CLAIMS: list[ClaimSpec]`` — the paper claims it measures (rows stay null until built),
- ``DATASETS: dict[str, str]`` — real datasets it can load (name -> one-line description).
A method whose package is not importable is simply reported as not available.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from workbench.errors import WorkbenchError

METHODS: dict[str, str] = {
    "needs": "workbench.needs.pipeline",
    "glass": "workbench.glass.pipeline",
    "merging": "workbench.merging.pipeline",
}


def load(method: str) -> ModuleType:
    """Import the pipeline module of ``method``; one clear error if unknown or not installed."""
    if method not in METHODS:
        raise WorkbenchError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    try:
        return importlib.import_module(METHODS[method])
    except ModuleNotFoundError as err:
        if err.name and METHODS[method].startswith(err.name):
            raise WorkbenchError(f"Method {method!r} is not available in this version of the workbench.") from err
        raise


def available() -> list[str]:
    """Names of the methods whose pipeline imports."""
    names = []
    for name in METHODS:
        try:
            load(name)
        except WorkbenchError:
            continue
        names.append(name)
    return names


def make_config(method: str, profile: str = "demo", overrides: list[str] | dict | None = None):
    """The settings of ``method`` for ``profile`` with CLI-style ``key=value`` overrides applied."""
    config = load(method).Config.for_profile(profile)
    return config.with_overrides(overrides) if overrides else config


def build(method: str, profile: str = "demo", overrides: list[str] | dict | None = None, store=None, progress=None):
    """Build (or find, when already built) one method's run; returns the finished ``Run``."""
    from workbench.runtime import set_threads
    from workbench.store import ArtifactStore

    set_threads()
    store = store or ArtifactStore()
    config = make_config(method, profile, overrides)
    return load(method).build(config, store, progress=progress)
