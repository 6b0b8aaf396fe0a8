"""The job cache: a finished job's result and files stay in the store, keyed by what decides them, so a
build reuses every job it has seen before — demo, reference and studies share their common jobs, and a
build killed after 40 of 90 jobs resumes at job 41.

    <store>/.job-cache/<key>/job.json   what the job was (fn, name), its result, its wall and CPU seconds
    <store>/.job-cache/<key>/files/     the job's folder as it was when the job finished

**The key** is the SHA-256 of everything that decides a job's numbers:

- its function (``module:function``), ``threads`` (thread count changes float sums) and the device kind;
- its ``spec`` as canonical JSON, less ``config.seeds`` — a run's list of extra seeds says which other
  jobs exist, not what this one computes (every job takes its own seed from ``spec["seed"]`` or
  ``config.seed``), and dropping it is what lets the 3-seed reference reuse the demo's seed-0 jobs;
- the *code version* of its function's module (below) and the versions of python, numpy, torch and
  transformers;
- for each dependency, its path relative to the job (``../data``: the builds' name prefixes differ) and
  its own key — so a change anywhere upstream re-keys, and re-runs, every job downstream of it;
- the size and modification time of each file or folder the spec names (a real dataset, a base
  checkpoint): the same path with new contents is a new job.

**The code version** is a hash of the source of the job's module and of every module it imports,
transitively, within ``workbench`` and within the job module's own top-level package (found by reading
the import statements, lazy ones included), and of their parent packages' ``__init__``. Each source is
hashed as its syntax tree without docstrings, so comments, docstrings and formatting do not count.
The machinery that runs jobs (``workbench.runner``, this module) is left out: the suite tests that it
does not change a job's numbers (the same bytes inline, in a pool and on Ray), and leaving it in would
make every fix to the runner throw the whole cache away.
An explicit per-method ``CODE_VERSION`` was the alternative; it was set aside because forgetting to
bump it serves stale numbers *silently* — the one failure a research tool must not have — while an
over-eager hash only costs a re-run that the build shows (``jobs.json`` marks reused jobs ``cached``).
What the hash cannot see: code loaded by a string (``importlib`` of a name in a setting) and changes
in libraries other than the four versioned ones. ``workbench build --fresh`` re-runs every job (and
refreshes the cache) when in doubt.

An entry is written once, complete: it is assembled in a staging sibling (``.<key>.partial-*``, marked
with its owner like every staging folder, so ``workbench doctor`` lists and the next build removes
the leftovers of a killed save) and renamed into place. A reused job's folder is *copied* back into
the build's jobs folder, so nothing a later step does there can change the cache. The cache only
grows (``workbench doctor`` shows its size); removing it, or any entry, is always safe: what is missing
runs again.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import time
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Job = Any  # a workbench.runner.Job (the runner imports this module, so no import back)

MACHINERY = frozenset({"workbench.runner", "workbench.cache"})
"""Modules left out of every code version (see the module docstring)."""
FOLDER = ".job-cache"
"""The cache's folder inside a store."""
ENTRY = "job.json"


# ---- the code version -----------------------------------------------------------------------------
def _source_file(module: str) -> Path | None:
    """The ``.py`` file of ``module``, found on the path without importing anything (importing a job
    module to find it would load torch and the rest in the build's own process)."""
    top, *rest = module.split(".")
    try:  # a top-level name: found without importing it (an editable install's finder included)
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    base = Path(spec.origin)
    if not rest:
        return base
    if base.name != "__init__.py":
        return None
    folder = base.parent.joinpath(*rest)
    for path in (folder.with_suffix(".py"), folder / "__init__.py"):
        if path.is_file():
            return path
    return None  # "from a import b" where b is a function, not a module


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return tree


def _imported(module: str, path: Path, tree: ast.AST) -> set[str]:
    """Every module name an import statement of ``module`` may load (``from a import b``: a and a.b)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x import y
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _parents(module: str) -> list[str]:
    """``a.b.c`` -> ``a``, ``a.b`` (their ``__init__`` runs on import)."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def code_version(module: str, memo: dict[str, str] | None = None) -> str | None:
    """The hash of ``module``'s source and of what it imports within ``workbench`` and its own package
    (see the module docstring), or None when its source cannot be found (then its jobs are not cached).
    ``memo`` shares the parsed sources between the jobs of one build."""
    memo = {} if memo is None else memo
    if _source_file(module) is None:
        return None
    ours = {"workbench", module.split(".")[0]}
    todo, seen, digest = [module, *_parents(module)], set(), hashlib.sha256()
    while todo:
        name = todo.pop()
        if name in seen or name.split(".")[0] not in ours or name in MACHINERY:
            continue
        seen.add(name)
        if name not in memo:
            path = _source_file(name)
            if path is None:
                memo[name] = ""
            else:
                tree = ast.parse(path.read_text(encoding="utf-8"))
                memo[name] = ast.dump(_without_docstrings(tree))
                memo[name + " imports"] = "\n".join(sorted(_imported(name, path, tree)))
        if memo[name]:
            todo.extend(n for m in memo[name + " imports"].splitlines() for n in (*_parents(m), m))
    for name in sorted(seen):
        digest.update(f"{name}\n{memo[name]}\n".encode())
    return digest.hexdigest()


# ---- the key --------------------------------------------------------------------------------------
def _libraries() -> dict[str, str]:
    import numpy
    import torch
    import transformers

    return {"python": platform.python_version(), "numpy": numpy.__version__, "torch": torch.__version__,
            "transformers": transformers.__version__}


def _named_inputs(value) -> list:
    """(path, size, mtime) of each file behind a string of ``value`` that names an existing file or
    folder (strings holding a ``/`` or a ``.``, so plain words never match a folder of the cwd)."""
    found = []
    if isinstance(value, dict):
        for item in value.values():
            found += _named_inputs(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found += _named_inputs(item)
    elif isinstance(value, str) and 2 < len(value) < 1024 and ("/" in value or "." in value) and "\n" not in value:
        try:
            path = Path(value).expanduser()
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
            found += [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in files]
        except OSError:
            pass
    return found


def _identity(spec: dict) -> dict:
    """The spec less ``config.seeds`` (see the module docstring)."""
    config = spec.get("config")
    if isinstance(config, dict) and "seeds" in config:
        return {**spec, "config": {k: v for k, v in config.items() if k != "seeds"}}
    return spec


def job_keys(order: Sequence[Job], device: str = "cpu") -> dict[str, str | None]:
    """Each job's cache key (``order`` lists dependencies first, as ``check_graph`` returns it); None
    for a job whose code has no source to version, and for every job downstream of it."""
    memo: dict[str, str] = {}
    versions: dict[str, str | None] = {}
    libraries = _libraries()
    keys: dict[str, str | None] = {}
    for job in order:
        module = job.fn.partition(":")[0]
        if module not in versions:
            versions[module] = code_version(module, memo)
        if versions[module] is None or any(keys[d] is None for d in job.deps):
            keys[job.name] = None
            continue
        spec = _identity(job.spec)
        what = {"fn": job.fn, "threads": job.threads, "device": device, "spec": spec, "code": versions[module],
                "libraries": libraries, "inputs": _named_inputs(spec),
                "deps": [[os.path.relpath(d, job.name), keys[d]] for d in job.deps]}
        keys[job.name] = hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()
    return keys


# ---- the entries ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One cached job, as ``workbench doctor`` lists it."""

    key: str
    name: str
    fn: str
    size: int
    """Bytes of its files."""
    created: str
    cpu_seconds: float


class JobCache:
    """The cache of one store (``read=False``: every job runs again and its entry is replaced)."""

    def __init__(self, root: str | Path, read: bool = True):
        self.root = Path(root)
        self.read = read

    @classmethod
    def of(cls, store, fresh: bool = False) -> "JobCache":
        return cls(Path(store.root) / FOLDER, read=not fresh)

    def restore(self, job: Job, key: str | None, jobs_root: Path) -> tuple[dict, dict] | None:
        """Copy a cached job's folder into ``jobs_root / job.name``; its (result, timing), or None."""
        if key is None or not self.read or not (self.root / key / ENTRY).is_file():
            return None
        entry = self.root / key
        try:
            record = json.loads((entry / ENTRY).read_text())
            target = jobs_root / job.name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(entry / "files", target)
        except (OSError, ValueError) as err:  # an unreadable entry is a miss, not a failed build
            warnings.warn(f"job cache entry {entry} is unreadable ({err}); running {job.name} again", stacklevel=2)
            return None
        return record["result"], {**record["timing"], "cached": True}

    def save(self, job: Job, key: str | None, jobs_root: Path, result: dict, timing: dict) -> None:
        """Keep a finished job (its folder, result and timing) under ``key``; a failure to write only warns."""
        from workbench.atomic import OWNER, mark_owner, to_json

        if key is None:
            return
        final = self.root / key
        staging = self.root / f".{key}.partial-{uuid.uuid4().hex[:8]}"
        try:
            staging.mkdir(parents=True)
            mark_owner(staging)
            shutil.copytree(jobs_root / job.name, staging / "files")
            record = {"name": job.name, "fn": job.fn, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                      "result": result, "timing": {k: v for k, v in timing.items() if k != "cached"}}
            (staging / ENTRY).write_text(to_json(record))
            (staging / OWNER).unlink()
            if final.exists():  # --fresh, or a concurrent build saved the same job first
                old = self.root / f".{key}.partial-{uuid.uuid4().hex[:8]}"
                os.replace(final, old)
                shutil.rmtree(old, ignore_errors=True)
            os.replace(staging, final)
        except OSError as err:
            warnings.warn(f"could not keep job {job.name} in the cache at {self.root} ({err})", stacklevel=2)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def entries(self) -> list[Entry]:
        """Every complete entry, largest first."""
        found = []
        for entry in self.root.glob(f"*/{ENTRY}"):
            try:
                record = json.loads(entry.read_text())
                size = sum(p.stat().st_size for p in entry.parent.rglob("*") if p.is_file())
            except (OSError, ValueError):
                continue
            found.append(Entry(entry.parent.name, record.get("name", "?"), record.get("fn", "?"), size,
                               record.get("created", ""), float(record.get("timing", {}).get("cpu_seconds") or 0)))
        return sorted(found, key=lambda e: -e.size)
