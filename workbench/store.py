"""The artifact store: one folder per (method, profile, dataset, config hash).

    <root>/<method>/<profile>-<dataset>-<hash>/
        manifest.json     config, seed, versions, timings, each file's size and SHA-256 — written last
        *.json            metrics and small tables
        *.parquet         tables
        *.safetensors     tensors
        <name>/           save_pretrained folders (model + tokenizer)

Writes are atomic at the level of a whole run: a build writes into a hidden staging folder and renames
it into place only when it finished, so an interrupted build leaves nothing half written and a run
folder either is complete or does not exist. A rebuild with the same settings finds the folder and
does nothing. Nothing is pickled: JSON, parquet, safetensors and ``save_pretrained`` folders only.

Staging folders (``<method>/.<run>.partial-*`` and the jobs' ``.jobs-*``) record their owner (pid,
host, process start time); a build first removes the staging of builds that no longer run
(``clean_partial``), never that of a live one, and ``workbench doctor`` lists it.

Integrity: a run whose manifest is unreadable, or whose files are missing or differ in size from the
manifest, is *damaged*: listings (``runs``, ``latest``, ``find``) skip it and ``damaged()`` names it
with the command that rebuilds it. Comparing SHA-256 sums is the slower check of ``verify=True``
(``workbench doctor --verify``, and a build deciding whether the run already exists).

The root is ``$WORKBENCH_HOME`` when set, else ``data/artifacts`` in the project checkout.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

import workbench
from workbench.atomic import (  # noqa: F401  (atomic_dir, atomic_write_text re-exported)
    OWNER,
    Staging,
    atomic_dir,
    atomic_write_text,
    inspect_staging,
    mark_owner,
    to_json,
)
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
        """The dataset as users know it (``Beauty (s3rec)``; runs made before labels: the loader's name)."""
        return self.manifest.get("dataset_label") or self.manifest["config"]["dataset"]

    @property
    def config(self) -> dict[str, Any]:
        return self.manifest["config"]

    def exists(self, name: str) -> bool:
        return (self.path / name).exists()

    def problem(self, verify: bool = False) -> str | None:
        """What is wrong with this run, in a few words, or None when it is whole: the manifest must parse
        and every file it lists must exist with its recorded size (``verify``: and its SHA-256)."""
        try:
            manifest = json.loads((self.path / MANIFEST).read_text())
        except FileNotFoundError:
            return "its manifest.json is missing"
        except (OSError, ValueError) as err:
            return f"its manifest.json cannot be read ({type(err).__name__})"
        config = manifest.get("config") if isinstance(manifest, dict) else None
        if not isinstance(config, dict) or not {"profile", "dataset"} <= set(config) or "method" not in manifest:
            return "its manifest.json lacks the method or the config"
        files = manifest.get("files", [])
        if isinstance(files, list):  # manifests of older versions list names only
            files = {name: {} for name in files if isinstance(name, str)}
        if not isinstance(files, dict):
            return "its manifest.json has a malformed file list"
        for name, recorded in files.items():
            path = self.path / name
            if Path(name).is_absolute() or ".." in Path(name).parts:
                return f"its manifest lists {name!r}, a file outside the run"
            if not path.is_file():
                return f"{name} is missing"
            if not isinstance(recorded, dict):
                return f"its manifest entry for {name} is malformed"
            if "size" in recorded and path.stat().st_size != recorded["size"]:
                return f"{name} has {path.stat().st_size} bytes instead of the {recorded['size']} recorded"
            if verify and "sha256" in recorded and sha256(path) != recorded["sha256"]:
                return f"{name} does not match its recorded SHA-256"
        return None

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
        """Write the manifest (with each file's size and SHA-256), then move the staging folder into
        place; return the finished run. A damaged run of the same settings is replaced."""
        owner = self.path / OWNER
        files = {str(p.relative_to(self.path)): {"size": p.stat().st_size, "sha256": sha256(p)}
                 for p in sorted(self.path.rglob("*")) if p.is_file() and p != owner}
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
            "rebuild": rebuild_command(self._method, self._config),
            "dataset_label": self._config.dataset_label(),
            **extra,
        }
        (self.path / MANIFEST).write_text(to_json(manifest))
        if self.final.exists() and Run(self.final).problem(verify=True):  # a damaged run: move it aside
            trash = self.final.parent / f".{self.final.name}.partial-{uuid.uuid4().hex[:8]}"
            os.replace(self.final, trash)
            shutil.rmtree(trash, ignore_errors=True)
        if self.final.exists():  # a concurrent build of the same config won the race
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            os.replace(self.path, self.final)
            (self.final / OWNER).unlink(missing_ok=True)  # the staging's mark, not part of the run
        self.path = self.final
        return Run(self.final)


def sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def rebuild_command(method: str, config: MethodConfig) -> str:
    """The ``workbench build`` command that makes exactly these settings (``--set`` for each setting
    that differs from the profile's default)."""
    parts = ["workbench", "build", method, "--profile", config.profile]
    if config.dataset != "synthetic":
        parts += ["--dataset", config.dataset]
    if config.data_path:
        parts += ["--data-path", config.data_path]
    try:
        default = type(config).for_profile(config.profile, dataset=config.dataset).to_dict()
    except WorkbenchError:
        default = {}
    for key, value in config.to_dict().items():
        if key in ("profile", "dataset", "data_path", "device") or (key in default and default[key] == value):
            continue
        text = ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)
        parts += ["--set", f"{key}={text}"]
    return shlex.join(parts)


@dataclass(frozen=True)
class Damaged:
    """A run folder that cannot be trusted: what is wrong and how to rebuild it."""

    path: Path
    method: str
    profile: str
    dataset: str
    problem: str
    rebuild: str
    """The ``workbench build`` command of its settings (without its ``--set`` options when the manifest
    cannot be read: then ``settings_known`` is False)."""
    settings_known: bool = True

    @property
    def sentence(self) -> str:
        extra = "" if self.settings_known else " (plus the --set options it was built with, if any)"
        return f"The {self.method} run at {self.path} is damaged: {self.problem}; rebuild with `{self.rebuild}`{extra}."


class ArtifactStore:
    """Finds, lists and creates run folders under one root."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root).expanduser() if root else default_root()

    def __repr__(self) -> str:
        return f"ArtifactStore({self.root})"

    def run_path(self, method: str, config: MethodConfig) -> Path:
        dataset = "".join(c if c.isalnum() or c in "-_" else "_" for c in config.dataset)
        return self.root / method / f"{config.profile}-{dataset}-{config.config_hash()}"

    def find(self, method: str, config: MethodConfig, verify: bool = True) -> Run | None:
        """The finished, undamaged run of exactly these settings, or None. ``verify`` (the default, as
        a build asks before deciding there is nothing to do) also compares the files' SHA-256."""
        run = Run(self.run_path(method, config))
        return run if (run.path / MANIFEST).exists() and not run.problem(verify) else None

    def _folders(self, method: str | None) -> list[Run]:
        pattern = f"{method}/*/{MANIFEST}" if method else f"*/*/{MANIFEST}"
        found = [Run(p.parent) for p in self.root.glob(pattern) if not p.parent.name.startswith(".")]

        def mtime(run: Run) -> float:
            try:
                return (run.path / MANIFEST).stat().st_mtime
            except OSError:
                return 0.0

        return sorted(found, key=mtime, reverse=True)

    def runs(self, method: str | None = None, verify: bool = False) -> list[Run]:
        """Every finished, undamaged run (of one method, or all), newest first (see ``damaged``)."""
        return [run for run in self._folders(method) if not run.problem(verify)]

    def damaged(self, method: str | None = None, verify: bool = False) -> list[Damaged]:
        """Every run folder with an unreadable manifest or files that do not match it, newest first."""
        found = []
        for run in self._folders(method):
            problem = run.problem(verify)
            if problem:
                found.append(self._damaged(run, problem))
        return found

    def _damaged(self, run: Run, problem: str) -> Damaged:
        # The folder name is <profile>-<dataset>-<hash>; the manifest, when it parses, knows better.
        profile, _, rest = run.path.name.partition("-")
        method, dataset = run.path.parent.name, rest.rpartition("-")[0] or "synthetic"
        command = f"workbench build {method} --profile {profile}" + (f" --dataset {dataset}" if dataset != "synthetic" else "")
        known = False
        try:
            manifest = json.loads((run.path / MANIFEST).read_text())
            method, profile = str(manifest["method"]), str(manifest["config"]["profile"])
            dataset, command, known = str(manifest["config"]["dataset"]), str(manifest["rebuild"]), True
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if self.root.resolve() != default_root().resolve():
            command += f" --store {shlex.quote(str(self.root))}"
        return Damaged(run.path, method, profile, dataset, problem, command, known)

    def latest(self, method: str, profile: str, dataset: str = "synthetic", default: MethodConfig | None = None) -> Run | None:
        """The run to show for (method, profile, dataset): the ``default`` settings if given and built,
        else the newest finished run of that profile and dataset (``workbench.methods.latest`` passes
        the profile's default settings)."""
        if default is not None and default.dataset == dataset and (run := self.find(method, default, verify=False)):
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
        mark_owner(staging)
        writer = RunWriter(staging, final, method, config)
        try:
            yield writer
        finally:
            if staging.exists():  # not finished (error or interrupt): leave nothing half written
                shutil.rmtree(staging, ignore_errors=True)

    def staging(self) -> list[Staging]:
        """Every staging folder in the store (runs being built, jobs' folders), stale or not."""
        found = [p for p in [*self.root.glob("*/.*.partial-*"), *self.root.glob(".jobs-*")] if p.is_dir()]
        return [inspect_staging(p) for p in sorted(found)]

    def clean_partial(self) -> int:
        """Remove the staging of builds that no longer run (killed, or failed and released); never the
        staging of a live build. Returns how many folders were removed."""
        stale = [s for s in self.staging() if s.stale]
        for item in stale:
            shutil.rmtree(item.path, ignore_errors=True)
        return len(stale)
