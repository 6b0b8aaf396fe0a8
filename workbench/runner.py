"""The one job runner: every method describes its work as jobs, and one runner executes them.

A **job** is a named unit of work — one seed of one system, one model variant, one chunk of a sweep:

    Job("seed1/glass", "workbench.glass.jobs:train_system", spec={"seed": 1, "system": "glass", ...},
        deps=("seed1/data",), threads=1, cost=3.0)

- ``fn`` names an importable function ``fn(ctx: JobContext) -> dict``; nothing is pickled, so the
  same job runs in this process, in a spawned worker, or on a Ray node.
- ``spec`` is JSON (the settings and the seed); everything else a job reads or writes is a file in its
  own folder ``<root>/<name>/`` or, for what its ``deps`` produced, in theirs (safetensors, parquet,
  JSON). The dict it returns must be small and JSON-able (metrics, curves, timings).
- ``threads`` and ``gpu_share`` are its resources. The job always runs with ``threads`` torch threads,
  whoever runs it, so the numbers do not depend on the worker count or the executor.

Executors (:class:`Runner`):

- ``local`` (default) — a spawn ``ProcessPoolExecutor`` of ``workers`` processes. On CPU each worker is
  one-thread (two one-thread processes use two cores far better than one two-thread process for tiny
  models); on CUDA several jobs share the GPU. ``workers=1`` runs the jobs here, one after another
  (handy under a debugger).
- ``ray`` — Ray tasks with ``num_cpus=threads`` and a fractional ``num_gpus``. ``address=None`` starts
  a local Ray; ``"auto"`` or ``"HOST:PORT"`` joins a cluster. The run's folder must then be on a file
  system every node sees (the same path), as is usual on a cluster.

Progress of every job reaches one callback (the build's bar); each job's share of the bar is its
``cost``. A failing job fails the whole run with its own message and the path of its log
(``<root>/<name>/log.txt``); the other jobs are cancelled.

``Runner(profile_jobs=True)`` (``workbench build --profile-jobs``, ``WORKBENCH_PROFILE_JOBS=1``) runs each
job under ``cProfile`` and writes where its CPU went beside its log (``<root>/<name>/profile.json``,
``workbench.profiling``); the numbers stay the same.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import queue as queue_mod
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.cache import JobCache, job_keys
from workbench.errors import WorkbenchError
from workbench.progress import Progress, silent

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Job:
    """One unit of work (see the module docstring)."""

    name: str
    """Unique within a run; may hold ``/`` (``seed1/glass``) — it is also the job's folder."""
    fn: str
    """``"package.module:function"``; the function takes a :class:`JobContext` and returns a JSON-able dict."""
    spec: dict = field(default_factory=dict)
    """JSON-able inputs: settings, seed, what to do."""
    deps: tuple[str, ...] = ()
    """Jobs that must finish first (their folders and results are this job's inputs)."""
    threads: int = 1
    """Torch threads the job runs with, everywhere (keeps its numbers independent of the executor)."""
    gpu_share: float = 0.0
    """Share of one GPU (Ray's fractional ``num_gpus``); 0 on CPU."""
    cost: float = 1.0
    """Expected run time (≈ single-thread CPU seconds, the same unit in every method): weighs the job's
    share of the build's bar and decides the start order (longest remaining chain first)."""


GPU_SHARE = 0.25
"""Share of one GPU that a job running a model takes: the models are tiny, four share one GPU."""


def gpu_share(device: str) -> float:
    """The ``gpu_share`` of a model job for a config's ``device`` setting: ``GPU_SHARE`` when it
    resolves to CUDA, else 0 (the one rule every method's plan uses)."""
    from workbench.runtime import resolve_device  # torch: only when a plan asks

    return GPU_SHARE if resolve_device(device).type == "cuda" else 0.0


@dataclass
class JobContext:
    """What a job function receives."""

    job: Job
    root: Path
    results: dict[str, dict]
    """The results of this job's dependencies, by job name."""
    progress: Progress = silent

    @property
    def spec(self) -> dict:
        return self.job.spec

    @property
    def folder(self) -> Path:
        """This job's own folder (created before it starts)."""
        return self.root / self.job.name

    def dep(self, name: str) -> str:
        """The full name of dependency ``name`` — as ``plan`` wrote it (a build may prefix job names,
        e.g. ``glass-<hash>/seed0/data``), or in full.

        >>> JobContext(Job("m/seed0/tiger", "x:y", deps=("m/seed0/data",)), Path("."), {}).dep("seed0/data")
        'm/seed0/data'
        """
        found = [d for d in self.job.deps if d == name or d.endswith("/" + name)]
        if len(found) != 1:
            raise KeyError(f"{name!r} is {'not' if not found else 'more than one'} dependency of job {self.job.name}")
        return found[0]

    def dep_folder(self, name: str) -> Path:
        """The folder of dependency ``name`` (see ``dep``)."""
        return self.root / self.dep(name)

    def result(self, name: str) -> dict:
        """The returned dict of dependency ``name`` (see ``dep``)."""
        return self.results[self.dep(name)]


@dataclass(frozen=True)
class Runner:
    """How to run jobs: the executor, the number of worker processes and (Ray) the cluster address.

    None of these are part of a run's identity: the same jobs give the same numbers under any runner.
    """

    executor: str = "local"
    workers: int | None = None
    """Worker processes (local) or concurrent tasks (Ray); default: the cores on CPU, 4 per GPU on CUDA."""
    address: str | None = None
    """Ray only: None starts a local Ray; ``auto`` or ``HOST:PORT`` joins a running cluster."""
    profile_jobs: bool = False
    """Run each job under ``cProfile``: ``profile.json`` beside its log (``workbench.profiling``)."""

    @classmethod
    def from_env(cls, executor: str | None = None, workers: int | None = None, address: str | None = None,
                 profile_jobs: bool | None = None) -> "Runner":
        """Arguments first, then ``WORKBENCH_EXECUTOR`` / ``WORKBENCH_WORKERS`` / ``WORKBENCH_RAY_ADDRESS`` /
        ``WORKBENCH_PROFILE_JOBS`` (``1`` profiles, ``0`` or unset does not)."""
        executor = executor or os.environ.get("WORKBENCH_EXECUTOR", "local")
        if workers is None and os.environ.get("WORKBENCH_WORKERS"):
            try:
                workers = int(os.environ["WORKBENCH_WORKERS"])
            except ValueError as err:
                raise WorkbenchError(f"WORKBENCH_WORKERS={os.environ['WORKBENCH_WORKERS']!r} is not a whole number.") from err
        address = address or os.environ.get("WORKBENCH_RAY_ADDRESS") or None
        if profile_jobs is None:
            flag = os.environ.get("WORKBENCH_PROFILE_JOBS", "0").strip()
            if flag not in ("", "0", "1"):
                raise WorkbenchError(f"WORKBENCH_PROFILE_JOBS={flag!r} is not 0 or 1.")
            profile_jobs = flag == "1"
        runner = cls(executor, workers, address, profile_jobs)
        runner.check(reach=True)
        return runner

    def check(self, reach: bool = False) -> None:
        """One sentence for a bad executor, worker count or address; ``reach``: also that the Ray address
        answers within ``RAY_ANSWER_SECONDS`` (``from_env`` asks, so a command fails before it writes)."""
        if self.executor not in EXECUTORS:
            raise WorkbenchError(f"Unknown executor {self.executor!r}; choose one of {', '.join(EXECUTORS)}.")
        if self.workers is not None and self.workers < 1:
            raise WorkbenchError(f"--workers must be at least 1 (got {self.workers}).")
        if self.address and self.executor != "ray":
            raise WorkbenchError("--address is for --executor ray only.")
        if self.address and self.address != "auto":
            host, port = ray_host_port(self.address)
            if reach:
                check_reachable(self.address, host, port)

    def width(self, gpu: bool) -> int:
        """How many jobs run at once."""
        if self.workers is not None:
            return self.workers
        return 4 if gpu else max(1, os.cpu_count() or 1)


# ---- the graph --------------------------------------------------------------------------------------
def check_graph(jobs: Sequence[Job]) -> list[Job]:
    """Jobs in an order that respects ``deps`` (stable otherwise); one clear error for a bad graph.

    >>> [j.name for j in check_graph([Job("b", "m:f", deps=("a",)), Job("a", "m:f")])]
    ['a', 'b']
    """
    by_name: dict[str, Job] = {}
    for job in jobs:
        if job.name in by_name:
            raise WorkbenchError(f"Two jobs are named {job.name!r}.")
        if ":" not in job.fn:
            raise WorkbenchError(f"Job {job.name!r}: fn {job.fn!r} must look like 'package.module:function'.")
        by_name[job.name] = job
    for job in jobs:
        for dep in job.deps:
            if dep not in by_name:
                raise WorkbenchError(f"Job {job.name!r} depends on {dep!r}, which is not among the jobs.")
    order: list[Job] = []
    done: set[str] = set()
    pending = list(jobs)
    while pending:
        ready = [j for j in pending if set(j.deps) <= done]
        if not ready:
            raise WorkbenchError(f"The jobs {', '.join(j.name for j in pending)} depend on each other in a circle.")
        for job in ready:
            order.append(job)
            done.add(job.name)
        pending = [j for j in pending if j.name not in done]
    return order


def _function(path: str) -> Callable[[JobContext], dict]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


# ---- one job, wherever it runs ----------------------------------------------------------------------
def execute(job: Job, root: str | Path, results: dict[str, dict], progress: Progress = silent,
            profile: bool = False) -> tuple[dict, dict]:
    """Run one job here: its folder, its thread count, its log; returns (its JSON round-tripped result,
    its wall and CPU seconds).

    Everything the job prints goes to ``<folder>/log.txt``; on an error the traceback goes there too
    and a ``JobFailed`` carrying the last line and the log path is raised. ``profile``: the job runs
    under ``cProfile`` and its summary goes to ``<folder>/profile.json`` (``workbench.profiling``),
    also when it fails; its timing is then marked ``profiled`` (the profiler's own cost is in it).
    """
    import torch
    from threadpoolctl import threadpool_limits

    from workbench.atomic import atomic_write_text, scratch_root, to_json
    from workbench.profiling import profiled

    root = Path(root)
    ctx = JobContext(job, root, results, progress)
    ctx.folder.mkdir(parents=True, exist_ok=True)
    log_path = ctx.folder / "log.txt"
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, job.threads))
    summary: dict = {}
    start, cpu = time.perf_counter(), time.process_time()
    try:  # BLAS / OpenMP pools (numpy, scikit-learn) get the same thread count as torch
        # a trainer's scratch folder goes in the job's folder (inside the store), not the system temp
        with open(log_path, "a") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log), \
                threadpool_limits(limits=max(1, job.threads)), scratch_root(ctx.folder):
            try:
                with profiled(summary) if profile else contextlib.nullcontext():
                    result = _function(job.fn)(ctx)
            except KeyboardInterrupt:  # a stop (Ctrl-C, or SIGTERM in the app's build), not the job's failure
                print("stopped", file=log)
                raise
            except BaseException as err:
                traceback.print_exc(file=log)
                message = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
                raise JobFailed(job.name, message, str(log_path)) from None
    finally:
        torch.set_num_threads(before)
        seconds, cpu = round(time.perf_counter() - start, 3), round(time.process_time() - cpu, 2)
        if summary:
            atomic_write_text(ctx.folder / "profile.json", to_json({"job": job.name, "fn": job.fn, "seconds": seconds,
                                                                    "cpu_seconds": cpu, **summary}))
    timing = {"seconds": seconds, "cpu_seconds": cpu, "host": socket.gethostname(), "pid": os.getpid(),  # where it ran
              **({"profiled": True} if profile else {})}
    try:
        return json.loads(json.dumps(result or {}, allow_nan=True)), timing
    except TypeError as err:
        raise JobFailed(job.name, f"its result is not JSON ({err})", str(log_path)) from None


class JobFailed(Exception):
    """A job raised; carries its name, last message and log path across processes (plain strings)."""

    def __init__(self, name: str, message: str, log: str):
        super().__init__(name, message, log)
        self.name, self.message, self.log = name, message, log

    def as_error(self) -> WorkbenchError:
        return WorkbenchError(f"Job {self.name} failed: {self.message} (log: {self.log}).")


# ---- progress ---------------------------------------------------------------------------------------
class _Relay:
    """Turns (job, message, fraction) reports into one bar, weighing each job by its cost."""

    def __init__(self, jobs: Sequence[Job], progress: Progress):
        self.cost = {j.name: max(j.cost, 1e-6) for j in jobs}
        self.total = sum(self.cost.values())
        self.done = {j.name: 0.0 for j in jobs}
        self.progress = progress
        self.lock = threading.Lock()

    def __call__(self, name: str, message: str, fraction: float) -> None:
        with self.lock:
            self.done[name] = max(self.done[name], min(max(fraction, 0.0), 1.0))
            share = sum(self.cost[n] * f for n, f in self.done.items()) / self.total
        self.progress(f"{name}: {message}" if not message.startswith(name) else message, share)


_QUEUE = None  # a worker process's progress queue (set by the pool initializer)


def _init_worker(progress_queue, parent: int) -> None:
    """A pool worker's start: it dies with the build (SIGKILL when its parent dies, however; it holds
    nothing to clean up: its files are in the build's staging), and at once if the build already died."""
    global _QUEUE
    import signal

    from workbench.runtime import die_with_parent

    die_with_parent(signal.SIGKILL)()
    if os.getppid() != parent:  # the build died before the line above: nobody would ever stop this worker
        os._exit(1)
    _QUEUE = progress_queue


def _throttled(name: str, put: Callable[[tuple], None]) -> Progress:
    last = [-1.0, 0.0]

    def report(message: str, fraction: float) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or fraction - last[0] >= 0.01 or now - last[1] > 2.0:
            last[0], last[1] = fraction, now
            put((name, message, fraction))

    return report


def _run_in_worker(job: Job, root: str, results: dict, profile: bool = False) -> tuple[dict, dict]:
    put = _QUEUE.put if _QUEUE is not None else (lambda item: None)
    return execute(job, root, results, _throttled(job.name, put), profile)


# ---- executors --------------------------------------------------------------------------------------
class Results(dict):
    """Each job's returned dict by name; ``timings[name]`` holds its wall and CPU seconds."""

    def __init__(self) -> None:
        super().__init__()
        self.timings: dict[str, dict] = {}

    def add(self, name: str, outcome: tuple[dict, dict]) -> None:
        self[name], self.timings[name] = outcome


def run_jobs(jobs: Sequence[Job], root: str | Path, runner: Runner | None = None, progress: Progress | None = None,
             device: str | None = None, rank: dict[str, int] | None = None,
             on_done: Callable[[str, "Results"], None] | None = None, cache: JobCache | None = None) -> Results:
    """Run ``jobs`` (dependencies first) with ``runner``; return every job's result by name.

    ``device`` ("cpu" / "cuda") tells the runner whether jobs share a GPU. ``rank`` (job name -> int,
    default 0) puts groups of jobs in order: a ready job of a lower rank starts before any of a higher
    rank (the app's build lands its cheapest method first); within a rank the longest remaining chain
    starts first. ``on_done(name, results)`` is called here, in the calling process, as each job
    finishes (a build publishes a method's run as soon as all its jobs are done). ``cache``
    (``workbench.cache``): the jobs it holds come back from it instead of running (``on_done`` hears
    of them first), and each job that finishes is kept there — a killed build resumes where it stopped. Raises
    ``WorkbenchError`` naming the first job that failed and its log; the jobs still running are cancelled.
    """
    runner = runner or Runner.from_env()
    runner.check()
    order = check_graph(jobs)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    relay = _Relay(order, progress or silent)
    if not order:
        return Results()
    gpu = bool(device and device.startswith("cuda"))
    path = critical_path(order)
    priority = {j.name: (-(rank or {}).get(j.name, 0), path[j.name]) for j in order}
    told = on_done or (lambda name, results: None)
    keys = job_keys(order, "cuda" if gpu else "cpu") if cache else {}
    by_name = {j.name: j for j in order}
    results = Results()
    for job in order:  # what the cache holds: the job's folder and result come back, it does not run
        outcome = cache.restore(job, keys[job.name], root) if cache else None
        if outcome is not None:
            results.add(job.name, outcome)
            relay(job.name, "from the cache", 1.0)
    for name in list(results):
        told(name, results)
    if len(results) == len(order):
        return results

    def done(name: str, results: Results) -> None:
        if cache:
            cache.save(by_name[name], keys[name], root, results[name], results.timings[name])
        told(name, results)

    if runner.executor == "ray":
        return _run_ray(order, root, runner, relay, gpu, priority, done, results)
    width = min(runner.width(gpu), len(order) - len(results))
    if width <= 1:
        return _run_inline(order, root, relay, priority, done, results, runner.profile_jobs)
    return _run_pool(order, root, width, relay, priority, done, results, runner.profile_jobs)


def _run_inline(order: list[Job], root: Path, relay: _Relay, priority: dict, done: Callable, results: Results,
                profile: bool = False) -> Results:
    started: set[str] = set(results)
    while len(results) < len(order):
        job = _ready(order, results, started, priority)[0]
        started.add(job.name)
        try:
            results.add(job.name, execute(job, root, {d: results[d] for d in job.deps},
                                          lambda m, f, n=job.name: relay(n, m, f), profile))
        except JobFailed as failed:
            raise failed.as_error() from None
        relay(job.name, "done", 1.0)
        done(job.name, results)
    return results


def critical_path(order: list[Job]) -> dict[str, float]:
    """Each job's cost plus the costliest chain of jobs waiting on it: the longest such chain decides
    when the whole run can end, so ready jobs start longest-chain first.

    >>> critical_path(check_graph([Job("a", "m:f", cost=1), Job("b", "m:f", deps=("a",), cost=5), Job("c", "m:f", cost=2)]))
    {'a': 6.0, 'c': 2.0, 'b': 5.0}
    """
    below: dict[str, float] = {}
    for job in reversed(order):
        waiting = [below[j.name] for j in order if job.name in j.deps]
        below[job.name] = float(job.cost) + max(waiting, default=0.0)
    return {j.name: below[j.name] for j in order}


def _ready(order: list[Job], results: dict, started: set, priority: dict[str, tuple]) -> list[Job]:
    """Jobs whose dependencies are done, highest ``priority`` first: (minus the rank, the remaining
    chain; see ``run_jobs`` and ``critical_path``); ties keep the graph's order."""
    ready = [j for j in order if j.name not in started and all(d in results for d in j.deps)]
    return sorted(ready, key=lambda j: priority[j.name], reverse=True)


def _drain(progress_queue, relay: _Relay) -> None:
    while True:
        try:
            relay(*progress_queue.get_nowait())
        except queue_mod.Empty:
            return


def _run_pool(order: list[Job], root: Path, width: int, relay: _Relay, priority: dict, done: Callable,
              results: Results, profile: bool = False) -> Results:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = mp.get_context("spawn")
    progress_queue = ctx.Queue()
    started: set[str] = set(results)
    running: dict[Any, Job] = {}
    pool = ProcessPoolExecutor(width, mp_context=ctx, initializer=_init_worker, initargs=(progress_queue, os.getpid()))
    try:
        while len(results) < len(order):
            for job in _ready(order, results, started, priority)[: width - len(running)]:
                deps = {d: results[d] for d in job.deps}
                running[pool.submit(_run_in_worker, job, str(root), deps, profile)] = job
                started.add(job.name)
            finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
            _drain(progress_queue, relay)
            for future in finished:
                job = running.pop(future)
                try:
                    results.add(job.name, future.result())
                except JobFailed as failed:
                    raise failed.as_error() from None
                except Exception as err:  # the worker itself died (killed, out of memory)
                    raise WorkbenchError(f"Job {job.name} failed: its worker process died ({type(err).__name__}: {err}) "
                                         f"(log: {root / job.name / 'log.txt'}).") from None
                relay(job.name, "done", 1.0)
                done(job.name, results)
    finally:
        if len(results) < len(order):  # failure or interrupt: cancel what waits, stop what runs
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        progress_queue.close()
    return results


def _run_ray(order: list[Job], root: Path, runner: Runner, relay: _Relay, gpu: bool, priority: dict,
             done: Callable, results: Results) -> Results:
    try:
        import ray
        from ray.util.queue import Queue
    except ImportError as err:
        raise WorkbenchError("--executor ray needs Ray: pip install 'ray==2.60.0'.") from err

    started_here = start_ray(runner, gpu)
    progress_queue = Queue()
    remote = ray.remote(_run_on_ray)
    started: set[str] = set(results)
    running: dict[Any, Job] = {}
    limit = runner.workers or len(order)
    try:
        while len(results) < len(order):
            for job in _ready(order, results, started, priority)[: max(0, limit - len(running))]:
                deps = {d: results[d] for d in job.deps}
                options = {"num_cpus": job.threads, "num_gpus": job.gpu_share if gpu else 0, "max_retries": 0}
                running[remote.options(**options).remote(job, str(root), deps, progress_queue, runner.profile_jobs)] = job
                started.add(job.name)
            finished, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            while not progress_queue.empty():
                relay(*progress_queue.get_nowait())
            for ref in finished:
                job = running.pop(ref)
                try:
                    results.add(job.name, ray.get(ref))
                except ray.exceptions.RayTaskError as err:
                    cause = getattr(err, "cause", None)
                    if isinstance(cause, JobFailed):
                        raise cause.as_error() from None
                    raise WorkbenchError(f"Job {job.name} failed on Ray: {str(err).strip().splitlines()[-1]} "
                                         f"(log: {root / job.name / 'log.txt'}).") from None
                relay(job.name, "done", 1.0)
                done(job.name, results)
    finally:
        for ref in running:
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()
    return results


RAY_ANSWER_SECONDS = 15.0
"""How long a Ray address gets to take a TCP connection before a command stops with one sentence; where
something does take it, its GCS then gets as long again (plus 15 s for a child process to import Ray)
to give its cluster id. ``ray.init`` itself retries for minutes (26 s against a proxy that takes every
connection) and may leave a session folder in the temp folder."""

_ANSWERED: set[str] = set()
"""Addresses that answered in this process (``from_env`` checks, ``start_ray`` then need not again)."""

_GCS_PROBE = """
import sys
from ray._raylet import GcsClient
try:
    GcsClient(address=sys.argv[1]).cluster_id
except Exception as err:
    print(str(err).splitlines()[0] if str(err) else type(err).__name__)
    sys.exit(1)
"""
"""Run in a child process: Ray's own GCS client asks for the cluster id (its C++ warnings stay in the
child's captured stderr, and a hang is ended by the timeout)."""


def ray_host_port(address: str) -> tuple[str, int]:
    """``("10.0.0.5", 6379)`` from ``HOST:PORT`` (or ``ray://HOST:PORT``, ``[v6]:PORT``); one sentence otherwise.

    >>> ray_host_port("ray://head:10001"), ray_host_port("[::1]:6379")
    (('head', 10001), ('::1', 6379))
    """
    host, _, port = address.removeprefix("ray://").rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise WorkbenchError(f"Ray address {address!r} is not HOST:PORT with a port in 1-65535 (e.g. 10.0.0.5:6379, or "
                             "auto for the cluster this machine joined).")
    return host, int(port)


def check_reachable(address: str, host: str, port: int, seconds: float = RAY_ANSWER_SECONDS) -> None:
    """A TCP connect to the address within ``seconds`` (in a thread, as a name lookup has no timeout of
    its own), then for a GCS address (not ``ray://``) the cluster id from its GCS within ``seconds`` more
    (``_GCS_PROBE``); one sentence when either fails. Nothing is started, so nothing is left behind."""
    import importlib.util
    import socket
    import subprocess

    if address in _ANSWERED:
        return
    outcome: list[str] = []

    def connect() -> None:
        try:
            socket.create_connection((host, port), timeout=seconds).close()
            outcome.append("")
        except socket.timeout:
            outcome.append(f"no answer within {seconds:g} s")
        except OSError as err:
            outcome.append(err.strerror or str(err))

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(seconds)
    why = outcome[0] if outcome else f"no answer within {seconds:g} s"
    if not why and not address.startswith("ray://") and importlib.util.find_spec("ray"):  # no Ray: _run_ray says so
        try:
            probe = subprocess.run([sys.executable, "-c", _GCS_PROBE, f"{host}:{port}"], capture_output=True, text=True,
                                   timeout=seconds + 15)  # + the child's import of Ray
            if probe.returncode:
                why = f"not a Ray cluster: {(probe.stdout.strip().splitlines() or ['no GCS there'])[-1]}"
        except subprocess.TimeoutExpired:
            why = f"its GCS gave no cluster id within {seconds:g} s"
    if why:
        raise WorkbenchError(f"The Ray cluster at {address} does not answer ({why}); start it (ray start --head) or "
                             "check --address.")
    _ANSWERED.add(address)


def start_ray(runner: Runner, gpu: bool = False) -> bool:
    """Join the cluster at ``runner.address``, or start a local Ray; False when Ray already runs here."""
    import ray

    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if runner.address:
        runner.check(reach=True)  # ray.init would wait minutes for an address that does not answer
        kwargs["address"] = runner.address
    else:  # a local Ray: its workers see what this process imports (tests, notebooks, scripts)
        kwargs["num_cpus"] = runner.width(gpu) if runner.workers else (os.cpu_count() or 1)
        path = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
        kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": path}}
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise WorkbenchError(f"Could not start or reach Ray ({str(err).splitlines()[0]}).") from err
    return True


def _run_on_ray(job: Job, root: str, results: dict, progress_queue, profile: bool = False) -> tuple[dict, dict]:
    import ray

    result, timing = execute(job, root, results, _throttled(job.name, lambda item: progress_queue.put_nowait(item)),
                             profile)
    return result, {**timing, "node": ray.get_runtime_context().get_node_id()}  # which node of the cluster

