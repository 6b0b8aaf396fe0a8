"""The registry of methods (name -> the module that builds it) and the one build template.

Each method package has a ``pipeline`` module with:
- ``TITLE: str`` and ``Config`` (a ``MethodConfig`` subclass),
- ``CLAIMS: list[ClaimSpec]`` — the paper claims it measures (rows stay null until built),
- ``DATASETS: dict[str, str]`` — real datasets it can load (name -> one-line description),
- ``plan(config, seeds) -> list[Job]`` — its work as jobs for ``workbench.runner`` (seeds are jobs),
- ``write(run, config, seeds, results, folder)`` — turns the jobs' results (``results[name]``) and
  files (``folder / name``) into the run's artifacts, ``claims.json`` included.

The template (``build_many``) is the same for every method: find the run (a no-op when built) →
the seeds → stage the run folder → run every method's jobs through one runner → ``write`` →
publish. ``build_many`` runs the jobs of several methods in one pool (``workbench build all``).
A method whose package is not importable is simply reported as not available.
"""

from __future__ import annotations

import importlib
import json
import shutil
import time
import uuid
from contextlib import ExitStack
from types import ModuleType

from workbench.config import parse_overrides
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
    """The settings of ``method`` for ``profile`` (and the dataset the overrides name) with CLI-style
    ``key=value`` overrides applied."""
    return check(load(method).Config.for_profile(profile, **parse_overrides(overrides or [])))


def check(config):
    """``config`` after checking every setting's range and that its method can load its dataset: one
    sentence for the first problem, before any work starts (``build_many`` checks every config again)."""
    config.check()
    known = list(getattr(load(config.METHOD), "DATASETS", {}))
    if not known and (config.dataset != "synthetic" or config.data_path):
        raise WorkbenchError(f"Method {config.METHOD} has no real-data support (it builds on its generated world); "
                             "drop --dataset and --data-path.")
    if config.dataset not in ("synthetic", *known):
        choices = ["synthetic", *known]
        raise WorkbenchError(f"Unknown dataset {config.dataset!r} for {config.METHOD}; choose "
                             f"{', '.join(choices[:-1])} or {choices[-1]}.")
    if config.dataset == "synthetic" and config.data_path:
        raise WorkbenchError(f"--data-path is read only with a real --dataset ({', '.join(known)}); add --dataset "
                             "or drop --data-path.")
    if config.dataset != "synthetic" and not config.data_path:
        raise WorkbenchError(f"Dataset {config.dataset!r} needs --data-path (the folder or file holding it).")
    return config


def latest(store, method: str, profile: str, dataset: str = "synthetic"):
    """The run to show: the profile's default settings when built, else the newest run of that profile."""
    try:
        default = load(method).Config.for_profile(profile)
    except WorkbenchError:
        default = None
    return store.latest(method, profile, dataset, default=default)


def seeds_of(config) -> list[int]:
    """``config.seed`` first, then the extra ``config.seeds`` (each once)."""
    extra = getattr(config, "seeds", ())
    return [config.seed, *[s for s in dict.fromkeys(extra) if s != config.seed]]


def build(method: str, profile: str = "demo", overrides: list[str] | dict | None = None, store=None, progress=None,
          runner=None, fresh: bool = False):
    """Build (or find, when already built) one method's run; returns the finished ``Run``."""
    return build_many([make_config(method, profile, overrides)], store, progress, runner, fresh=fresh)[0]


def build_many(configs: list, store=None, progress=None, runner=None, cheapest_first: bool = False,
               status=None, fresh: bool = False) -> list:
    """Build several runs (one per config, any methods) with all their jobs in one runner.

    Every job's name is prefixed with its method (``glass/seed1/tiger``); the jobs work in one
    staging folder inside the store, removed at the end. Each run is written and published as soon
    as its own jobs are done, while the others' jobs go on (the app shows a method once it lands).
    A failing job fails the call: its run, and every run whose jobs were not all done, publishes
    nothing. Staging left by killed builds is removed first (never a live build's).

    ``cheapest_first`` starts the jobs of the config that would be done soonest on its own before the
    others' (the app's background build: the first page fills in soonest) — by ``Job.cost``, the longer
    of its longest chain of jobs and its total cost spread over the workers; by default the longest
    chain of jobs starts first (the whole call ends soonest). ``status(method, state, info)`` hears
    of each method's state: ``"building"`` with ``info`` = {jobs_done, jobs, share (of its jobs'
    cost done), message (its latest progress line)}, then ``"built"`` with {run: the run's folder}.

    Jobs found in the store's job cache are reused, and every job that finishes is kept there
    (``workbench.cache``): a killed build resumes where it stopped. ``fresh`` runs every job again.
    A runner that profiles its jobs (``Runner.profile_jobs``) runs every job and leaves the cache
    alone (a cached job has nothing to profile, and a profiled one's CPU seconds hold the profiler's
    own); each job's profile is kept beside its log (``logs/<job>.profile.json``).
    """
    from workbench.atomic import check_apart, mark_owner
    from workbench.cache import JobCache
    from workbench.runner import Job, Runner, check_graph, critical_path, run_jobs
    from workbench.progress import silent
    from workbench.runtime import StepTimer, resolve_device, set_threads
    from workbench.store import ArtifactStore

    store = store or ArtifactStore()
    for config in configs:
        check(config)
        check_apart(store.root, config.input_paths(), "The store")  # a build never writes into what it reads
    set_threads()
    progress = progress or silent
    status = status or (lambda method, state, detail: None)
    runner = runner or Runner.from_env()
    runs: list = [store.find(c.METHOD, c) for c in configs]
    for config, run in zip(configs, runs):
        if run is not None:
            status(config.METHOD, "built", {"run": str(run.path)})
    todo = [i for i, run in enumerate(runs) if run is None]
    if not todo:
        return runs
    store.clean_partial()
    device = resolve_device(configs[todo[0]].device).type
    jobs_root = store.root / f".jobs-{uuid.uuid4().hex[:8]}"
    plans: dict[int, list] = {}
    prefixes = {i: f"{configs[i].METHOD}-{configs[i].config_hash()}" for i in todo}
    for i in todo:
        prefix = prefixes[i]
        plans[i] = [Job(f"{prefix}/{j.name}", j.fn, j.spec, tuple(f"{prefix}/{d}" for d in j.deps), j.threads,
                        j.gpu_share, j.cost) for j in load(configs[i].METHOD).plan(configs[i], seeds_of(configs[i]))]
    owner = {job.name: i for i in todo for job in plans[i]}
    total = {i: sum(job.cost for job in plans[i]) for i in todo}
    finished = {i: [] for i in todo}
    width = runner.width(device == "cuda")
    alone = {i: max(max(critical_path(check_graph(plans[i])).values()), total[i] / width) for i in todo}
    soonest = sorted(todo, key=lambda i: alone[i]) if cheapest_first else []
    rank = {job.name: soonest.index(i) for i in soonest for job in plans[i]}
    last = [0.0]

    def state(i: int, message: str = "") -> dict:
        share = sum(job.cost for job in plans[i] if job.name in finished[i]) / max(total[i], 1e-9)
        return {"jobs_done": len(finished[i]), "jobs": len(plans[i]), "share": round(share, 4), "message": message}

    def jobs_progress(message: str, fraction: float) -> None:
        last[0] = 0.95 * fraction
        progress(message, last[0])
        for i in todo:  # the runner's lines start with the job's name, which starts with its run's prefix
            if message.startswith(prefixes[i] + "/"):
                status(configs[i].METHOD, "building", state(i, message[len(prefixes[i]) + 1:]))

    start = time.perf_counter()
    with ExitStack() as stack:
        writers = {i: stack.enter_context(store.create(configs[i].METHOD, configs[i])) for i in todo}
        stack.push(lambda *exc: _discard_jobs(jobs_root, failed=exc[0] is not None))
        jobs_root.mkdir(parents=True)
        mark_owner(jobs_root)  # pid + host: the next build tells a killed build's folder from a live one's
        for i in todo:
            status(configs[i].METHOD, "building", state(i, "waiting for a worker"))

        def publish(i: int, results) -> None:
            config, run, prefix = configs[i], writers[i], prefixes[i]
            mine = {j.name[len(prefix) + 1:]: results[j.name] for j in plans[i]}
            timer = StepTimer()
            with timer.step("write"):
                progress(f"{config.METHOD}: writing artifacts", last[0])
                load(config.METHOD).write(run, config, seeds_of(config), mine, jobs_root / prefix)
            job_times = {j.name[len(prefix) + 1:]: results.timings[j.name] for j in plans[i]}
            _keep_logs(jobs_root / prefix, run.path / "logs", mine)
            run.write_json("jobs", job_times)
            timings = {"jobs (wall, until this run's last job)": {"seconds": round(time.perf_counter() - start, 2)},
                       **timer.as_dict(), **{f"job {name}": t for name, t in job_times.items()}}
            runs[i] = run.finish(timings, seeds=seeds_of(config), device=device,
                                 runner={"executor": runner.executor, "workers": runner.workers})
            status(config.METHOD, "built", {"run": str(runs[i].path)})

        def on_done(name: str, results) -> None:
            i = owner[name]
            finished[i].append(name)
            status(configs[i].METHOD, "building", state(i, f"{name[len(prefixes[i]) + 1:]}: done"))
            if len(finished[i]) == len(plans[i]):
                publish(i, results)

        run_jobs([j for i in todo for j in plans[i]], jobs_root, runner, jobs_progress, device=device, rank=rank,
                 on_done=on_done, cache=None if runner.profile_jobs else JobCache.of(store, fresh))
    progress("done", 1.0)
    return runs


def _discard_jobs(jobs_root, failed: bool) -> None:
    """Remove the jobs' working folder; after a failure keep only the jobs' logs there, so the path
    the error message names still opens, and mark it released (the next build's
    ``ArtifactStore.clean_partial`` removes it)."""
    from workbench.atomic import OWNER, release

    if not failed or not jobs_root.exists():
        shutil.rmtree(jobs_root, ignore_errors=True)
        return
    for path in sorted(jobs_root.rglob("*"), reverse=True):
        if path.is_file() and path.name not in ("log.txt", OWNER):
            path.unlink(missing_ok=True)
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    release(jobs_root)


def _keep_logs(root, target, results: dict) -> None:
    """Copy each job's non-empty log into the run folder (``logs/<job>.txt``) for later reading, and
    its profile when it was profiled (``logs/<job>.profile.json``, ``workbench.profiling``)."""
    for name in results:
        for source, suffix in (("log.txt", ".txt"), ("profile.json", ".profile.json")):
            path = root / name / source
            if path.exists() and path.stat().st_size:
                out = target / f"{name.replace('/', '__')}{suffix}"
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, out)


def describe_jobs(config) -> str:
    """The jobs of a config, one per line (``workbench build --show-jobs``)."""
    jobs = load(config.METHOD).plan(config, seeds_of(config))
    return "\n".join(json.dumps({"name": j.name, "deps": list(j.deps), "threads": j.threads, "cost": j.cost}) for j in jobs)
