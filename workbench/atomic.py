"""Atomic file writes: a file or a folder appears complete under its final name, or not at all.

Used by the artifact store and by commands that write outside it (``workbench merge --out``). Also
the bookkeeping of staging folders: each records its owner (``owner.json``: pid, host, process start
time), so a later build can tell the leftovers of a killed build from the staging of a live one.

A write replaces only what it may: a file write only a regular file (never a device, a FIFO, a
socket, a link or a folder that happens to sit at the path), a folder write (``overwrite=True``) only a
folder it wrote itself, which carries ``WRITTEN_BY``. ``check_apart`` keeps an output away from the
inputs of the same command: equal, inside or holding one is refused, symbolic links followed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import tempfile
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from workbench.errors import WorkbenchError


WRITTEN_BY = ".written-by-workbench"
"""Inside every folder ``atomic_dir`` publishes (a merged or saved checkpoint): ``overwrite`` replaces
only a folder that carries it, so ``--overwrite`` never deletes a folder the user made."""


def _kind(info: os.stat_result) -> str:
    for test, word in ((stat.S_ISREG, "a file"), (stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(info.st_mode):
            return word
    return "not a regular file"  # a door or whiteout, on some systems


def check_file_target(path: Path, probe: bool = False) -> None:
    """Refuse, before anything is written, a file path that holds something other than a regular file;
    ``probe``: also a folder that refuses a new file (a command checks before its work, not after)."""
    path = Path(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as err:
        raise WorkbenchError(f"Cannot write {path}: {err.strerror}; choose another path.") from err
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise WorkbenchError(f"Cannot write {path}: it is {_kind(info)}, and only a regular file is ever replaced; "
                             "choose another path.")
    if probe and path.parent.is_dir():
        _temp_file(path).unlink()


def _temp_file(path: Path) -> Path:
    """A new empty file beside ``path`` (the atomic write's temp file); one sentence if the folder refuses it."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise WorkbenchError(f"Cannot write {path}: {err.strerror} in its folder; choose a writable folder.") from err
    os.close(fd)
    return Path(tmp)


def check_dir_target(target: Path, overwrite: bool = False) -> None:
    """Refuse, before any work, a folder path that exists, unless ``overwrite`` and this tool wrote it."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return
    if not overwrite:
        raise WorkbenchError(f"Output folder {target} already exists; choose another path or remove it.")
    if not stat.S_ISDIR(info.st_mode):
        raise WorkbenchError(f"Cannot replace {target}: it is {_kind(info)}, not a folder written by workbench; "
                             "choose another path.")
    if not (Path(target) / WRITTEN_BY).is_file():
        raise WorkbenchError(f"Cannot replace {target}: --overwrite replaces only a folder workbench wrote (it has no "
                             f"{WRITTEN_BY}); remove it yourself or choose another path.")


def check_apart(output: Path, inputs: dict[str, Path | str | None], flag: str = "--out") -> None:
    """Refuse an output that is, lies inside or holds one of ``inputs`` (name -> path; empty ones skipped),
    comparing resolved paths, so a symbolic link to an input counts as the input."""
    out = Path(output).expanduser().resolve()
    for name, given in inputs.items():
        if not given:
            continue
        src = Path(given).expanduser().resolve()
        how = "is" if out == src else "lies inside" if out.is_relative_to(src) else "holds" if src.is_relative_to(out) else ""
        if how:
            raise WorkbenchError(f"{flag} {output} {how} the input {name} ({given}); nothing is written into or over "
                                 "an input; choose a path outside it.")


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary sibling and a rename (refused if the path holds
    anything but a regular file: a rename would put the file where a device or FIFO was)."""
    path = Path(path)
    check_file_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_file(path)
    try:
        tmp.write_text(text)
        check_file_target(path)  # nothing else took the path meanwhile
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(target: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a staging folder that becomes ``target`` only if the block finishes without an error;
    ``overwrite`` replaces a folder only when it carries ``WRITTEN_BY`` (see ``check_dir_target``)."""
    target = Path(target)
    check_dir_target(target, overwrite)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WorkbenchError(f"Cannot create folder {target.parent}: {err.strerror}; choose a writable path.") from err
    if not os.access(target.parent, os.W_OK):
        raise WorkbenchError(f"Folder {target.parent} is not writable; choose a writable path.")
    staging = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        atomic_write_text(staging / WRITTEN_BY, json.dumps({"by": "workbench", "created": time.time()}))
        check_dir_target(target, overwrite)  # still ours (or absent) at the moment it is replaced
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, tuple)):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=_json_default, allow_nan=True)


# ---- staging folders: who owns them, and which are stale --------------------------------------------
OWNER = "owner.json"
"""Inside every staging folder: the pid, host and process start time of the build that made it."""

UNMARKED_GRACE_SECONDS = 600.0
"""A staging folder without an owner file (made by an older version, or caught in the instant between
its ``mkdir`` and its owner file) counts as stale only once it is this old."""


def _process(pid: int) -> tuple[bool, float | None]:
    """(whether process ``pid`` runs on this machine, when it started in seconds since the epoch)."""
    import psutil

    try:
        return True, psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, ValueError):
        return False, None
    except psutil.Error:  # it exists but is not ours to inspect: alive, start time unknown
        return True, None


def mark_owner(folder: Path) -> None:
    """Write ``owner.json`` (this process's pid, host and start time) into a new staging folder."""
    pid = os.getpid()
    owner = {"pid": pid, "host": socket.gethostname(), "process_started": _process(pid)[1], "created": time.time()}
    atomic_write_text(Path(folder) / OWNER, json.dumps(owner))


def release(folder: Path) -> None:
    """Mark a staging folder as left behind on purpose (a failed build's logs): the next build may remove it."""
    owner = read_owner(folder) or {}
    atomic_write_text(Path(folder) / OWNER, json.dumps({**owner, "released": True}))


def read_owner(folder: Path) -> dict | None:
    try:
        owner = json.loads((Path(folder) / OWNER).read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


@dataclass(frozen=True)
class Staging:
    """A staging folder found in a store, and whether it may be removed."""

    path: Path
    owner: dict | None
    size: int
    """Bytes of the files inside."""
    stale: bool
    why: str
    """Why it is (or is not) stale, in a few words."""

    def describe(self) -> str:
        pid = self.owner.get("pid", "?") if self.owner else "?"
        return f"{self.path}  {self.size / 1e6:.1f} MB  owner pid {pid}  ({self.why})"


def inspect_staging(folder: Path, host: str | None = None) -> Staging:
    """Is ``folder`` stale? Yes when its owner released it or its owner process no longer runs on this
    host (pid gone, or the pid now belongs to a later process). Staging made on another host is never
    stale here: this machine cannot tell whether that build still runs."""
    folder = Path(folder)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    owner = read_owner(folder)
    if owner is None:
        try:
            age = time.time() - folder.stat().st_mtime
        except OSError:
            age = 0.0
        stale = age > UNMARKED_GRACE_SECONDS
        return Staging(folder, None, size, stale, "no owner recorded" + ("" if stale else ", recent"))
    if owner.get("released"):
        return Staging(folder, owner, size, True, "left by a failed build")
    if owner.get("host") != (host or socket.gethostname()):
        return Staging(folder, owner, size, False, f"owner on host {owner.get('host')}")
    try:
        alive, started = _process(int(owner.get("pid", -1)))
    except (TypeError, ValueError):
        return Staging(folder, owner, size, True, "owner file is unreadable")
    recorded = owner.get("process_started")
    if not alive:
        return Staging(folder, owner, size, True, "owner process is gone")
    if started is not None and recorded is not None and abs(started - float(recorded)) > 1.0:
        return Staging(folder, owner, size, True, "owner process is gone (its pid now belongs to another)")
    return Staging(folder, owner, size, False, "owner still running")


# ---- scratch folders of library code (trainers' output_dir) -----------------------------------------
_SCRATCH_ROOT: ContextVar[Path | None] = ContextVar("workbench_scratch_root", default=None)


@contextmanager
def scratch_root(folder: Path) -> Iterator[None]:
    """Inside this block, :func:`scratch_dir` makes its folders under ``folder``. The job runner sets it
    to the job's own folder, so a trainer's scratch lives in the build's staging inside the store and
    a killed build leaves nothing in the system temp folder."""
    token = _SCRATCH_ROOT.set(Path(folder))
    try:
        yield
    finally:
        _SCRATCH_ROOT.reset(token)


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A folder removed at the end of the block: under the current :func:`scratch_root` (a job's
    folder), or in the system temp folder outside a job (a notebook calling a trainer directly)."""
    root = _SCRATCH_ROOT.get()
    if root is None:
        with tempfile.TemporaryDirectory(prefix=prefix) as path:
            yield Path(path)
        return
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
