"""The artifact store: one folder per (method, profile, dataset, config hash).

    <root>/<method>/<profile>-<dataset>-<hash>/
        manifest.json     config, seed, versions, timings, files — written last
        *.json            metrics and small tables
        *.parquet         tables
        *.safetensors     tensors
        <name>/           save_pretrained folders (model + tokenizer)

Writes are atomic at the level of a whole run: a build writes into a hidden staging folder and renames
it into place only when it finished, so an interrupted build leaves nothing half written and a run
folder either is complete or does not exist. A rebuild with the same settings finds the folder and
does nothing. Nothing is pickled: JSON, parquet, safetensors and ``save_pretrained`` folders only.

The root is ``$WORKBENCH_HOME`` when set, else ``data/artifacts`` in the project checkout.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

import workbench
from workbench.atomic import atomic_dir, atomic_write_text, to_json  # noqa: F401  (re-exported)
from workbench.config import MethodConfig
from workbench.errors import WorkbenchError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "manifest.json"


def default_root() -> Path:
    """``$WORKBENCH_HOME`` or ``<checkout>/data/artifacts``."""
    env = os.environ.get("WORKBENCH_HOME")
    return Path(env).expanduser() if env else PROJECT_ROOT / "data" / "artifacts"


def versions() -> dict[str, str]:
    """Versions that decide the numbers: python, torch, transformers, workbench, git commit."""
    import torch
    import transformers

    commit = ""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "workbench": workbench.__version__,
        "commit": commit,
    }


class Run:
    """A finished run folder: read its manifest, tables, tensors and models."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Run({self.path})"

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / MANIFEST).read_text())

    @property
    def method(self) -> str:
        return self.manifest["method"]

    @property
    def profile(self) -> str:
        return self.manifest["config"]["profile"]

    @property
    def dataset(self) -> str:
        return self.manifest["config"]["dataset"]

    @property
    def config(self) -> dict[str, Any]:
        return self.manifest["config"]

    def exists(self, name: str) -> bool:
        return (self.path / name).exists()

    def file(self, name: str) -> Path:
        """Path of an artifact inside the run; a clear error when it is missing."""
        path = self.path / name
        if not path.exists():
            raise WorkbenchError(f"Artifact {name!r} is missing from {self.path}; rebuild this run.")
        return path

    def read_json(self, name: str) -> Any:
        return json.loads(self.file(name if name.endswith(".json") else f"{name}.json").read_text())

    def read_parquet(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.file(name if name.endswith(".parquet") else f"{name}.parquet"))

    def read_tensors(self, name: str) -> dict[str, Any]:
        from safetensors.torch import load_file

        return load_file(self.file(name if name.endswith(".safetensors") else f"{name}.safetensors"))


class RunWriter(Run):
    """A run being built: every write lands in the staging folder; ``finish`` publishes it."""

    def __init__(self, path: Path, final: Path, method: str, config: MethodConfig):
        super().__init__(path)
        self.final = final
        self._method = method
        self._config = config
        self._started = time.time()

    @property
    def method(self) -> str:
        return self._method

    @property
    def config(self) -> dict[str, Any]:
        return self._config.to_dict()

    def _target(self, name: str, suffix: str) -> Path:
        name = name if name.endswith(suffix) else f"{name}{suffix}"
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def write_json(self, name: str, obj: Any) -> Path:
        path = self._target(name, ".json")
        path.write_text(to_json(obj))
        return path

    def write_parquet(self, name: str, frame: pd.DataFrame) -> Path:
        path = self._target(name, ".parquet")
        frame.to_parquet(path, index=False)
        return path

    def write_tensors(self, name: str, tensors: dict[str, Any], metadata: dict[str, str] | None = None) -> Path:
        from safetensors.torch import save_file

        path = self._target(name, ".safetensors")
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(path), metadata=metadata)
        return path

    def save_model(self, name: str, model: Any, tokenizer: Any = None) -> Path:
        """``save_pretrained`` (safetensors) of a model and its tokenizer into ``<run>/<name>/``."""
        path = self.path / name
        model.save_pretrained(path, safe_serialization=True)
        if tokenizer is not None:
            tokenizer.save_pretrained(path)
        return path

    def finish(self, timings: dict[str, Any] | None = None, **extra: Any) -> Run:
        """Write the manifest, then move the staging folder into place; return the finished run."""
        files = sorted(str(p.relative_to(self.path)) for p in self.path.rglob("*") if p.is_file())
        manifest = {
            "method": self._method,
            "config": self._config.to_dict(),
            "config_hash": self._config.config_hash(),
            "seed": self._config.seed,
            "versions": versions(),
            "timings": timings or {},
            "build_seconds": round(time.time() - self._started, 2),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "files": files,
            **extra,
        }
        (self.path / MANIFEST).write_text(to_json(manifest))
        if self.final.exists():  # a concurrent build of the same config won the race
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            os.replace(self.path, self.final)
        self.path = self.final
        return Run(self.final)


class ArtifactStore:
    """Finds, lists and creates run folders under one root."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root).expanduser() if root else default_root()

    def __repr__(self) -> str:
        return f"ArtifactStore({self.root})"

    def run_path(self, method: str, config: MethodConfig) -> Path:
        dataset = "".join(c if c.isalnum() or c in "-_" else "_" for c in config.dataset)
        return self.root / method / f"{config.profile}-{dataset}-{config.config_hash()}"

    def find(self, method: str, config: MethodConfig) -> Run | None:
        """The finished run of exactly these settings, or None."""
        path = self.run_path(method, config)
        return Run(path) if (path / MANIFEST).exists() else None

    def runs(self, method: str | None = None) -> list[Run]:
        """Every finished run (of one method, or all), newest first."""
        pattern = f"{method}/*/{MANIFEST}" if method else f"*/*/{MANIFEST}"
        found = [Run(p.parent) for p in self.root.glob(pattern) if not p.parent.name.startswith(".")]
        return sorted(found, key=lambda r: (r.path / MANIFEST).stat().st_mtime, reverse=True)

    def latest(self, method: str, profile: str, dataset: str = "synthetic", default: MethodConfig | None = None) -> Run | None:
        """The run to show for (method, profile, dataset): the ``default`` settings if given and built,
        else the newest finished run of that profile and dataset (``workbench.methods.latest`` passes
        the profile's default settings)."""
        if default is not None and default.dataset == dataset and (run := self.find(method, default)):
            return run
        for run in self.runs(method):
            if run.profile == profile and run.dataset == dataset:
                return run
        return None

    def datasets(self, method: str, profile: str) -> list[str]:
        """Datasets with at least one finished run of this method and profile (synthetic first)."""
        names = {r.dataset for r in self.runs(method) if r.profile == profile}
        return sorted(names, key=lambda d: (d != "synthetic", d))

    @contextmanager
    def create(self, method: str, config: MethodConfig) -> Iterator[RunWriter]:
        """Stage a new run; the caller must call ``writer.finish()``. On an error nothing is left behind."""
        final = self.run_path(method, config)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise WorkbenchError(
                f"Cannot write artifacts under {self.root} ({err.strerror}); set WORKBENCH_HOME to a writable folder."
            ) from err
        staging = final.parent / f".{final.name}.partial-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        writer = RunWriter(staging, final, method, config)
        try:
            yield writer
        finally:
            if staging.exists():  # not finished (error or interrupt): leave nothing half written
                shutil.rmtree(staging, ignore_errors=True)

    def clean_partial(self) -> int:
        """Remove staging folders left by killed builds; return how many."""
        stale = [p for p in [*self.root.glob("*/.*.partial-*"), *self.root.glob(".jobs-*")] if p.is_dir()]
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        return len(stale)
