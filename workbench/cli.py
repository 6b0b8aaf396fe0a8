"""The ``workbench`` command line: doctor, build, claims, report, merge, eval, app.

Every user-fixable problem prints one sentence on stderr and exits with status 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from workbench import methods
from workbench.config import PROFILES
from workbench.errors import WorkbenchError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.splitlines()[0])

ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help=f"One of {', '.join(PROFILES)}.")]
StoreOpt = Annotated[
    Optional[Path], typer.Option("--store", help="Artifact folder (default: $WORKBENCH_HOME or data/artifacts).")
]
RecipeProfileOpt = Annotated[Optional[str], typer.Option(
    "--profile", "-p", help=f"One of {', '.join(PROFILES)} (default: the recipe's, else demo).")]
RecipeOpt = Annotated[Optional[str], typer.Option(
    help="A recipe: a name in recipes/ (e.g. beauty-tiger) or a .toml file; --set and the other options override it.")]


def _store(path: Path | None):
    from workbench.store import ArtifactStore

    store = ArtifactStore(path)
    if store.root.exists() and not store.root.is_dir():
        raise WorkbenchError(f"The store {store.root} is not a folder; pass a folder to --store (or WORKBENCH_HOME).")
    return store


@app.command()
def doctor(
    store: StoreOpt = None,
    verify: Annotated[bool, typer.Option("--verify", help="Also re-hash every artifact against its recorded SHA-256.")] = False,
) -> None:
    """Versions, device, threads, which artifacts exist, damaged runs and stale staging folders.

    Exits with status 1 when a run is damaged. Without --verify a run is checked cheaply (its manifest
    parses, its files exist with their recorded sizes)."""
    import platform

    import torch

    from workbench.runtime import resolve_device, set_threads
    from workbench.store import versions

    s = _store(store)
    info = versions()
    typer.echo(f"python {info['python']}  torch {info['torch']}  transformers {info['transformers']}  "
               f"workbench {info['workbench']}  commit {info['commit'] or '-'}")
    typer.echo(f"platform {platform.platform()}")
    typer.echo(f"device auto -> {resolve_device('auto')}  (cuda available: {torch.cuda.is_available()})")
    typer.echo(f"threads {set_threads()}  cores {os.cpu_count()}")
    typer.echo(f"HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', '')!s}")
    typer.echo(f"artifacts {s.root}")
    for name in methods.METHODS:
        try:
            methods.load(name)
            state = "available"
        except WorkbenchError as err:
            state = f"not available ({err})"
        typer.echo(f"method {name:<8} {state}")
    damaged = s.damaged(verify=verify)
    runs = [run for run in s.runs() if run.path not in {item.path for item in damaged}]
    if not runs and not damaged:
        typer.echo("built: nothing yet (run `workbench build all --profile demo`)")
    for run in runs:
        m = run.manifest
        typer.echo(f"built: {m['method']:<8} {run.profile:<5} {run.dataset:<12} {m.get('config_hash', '-')}  "
                   f"{m.get('build_seconds', 0):7.1f}s  {m.get('created', '')}")
    for item in damaged:
        typer.echo(f"damaged: {item.sentence}")
    for item in s.staging():
        state = "stale, the next build removes it" if item.stale else "in use"
        typer.echo(f"staging ({state}): {item.describe()}")
    _list_cached_jobs(s)
    if damaged:
        raise typer.Exit(1)


def _list_cached_jobs(s) -> None:
    """The job cache (``workbench.cache``): one line per cached job, largest first, and the total."""
    from workbench.cache import JobCache

    cache = JobCache.of(s)
    entries = cache.entries()
    typer.echo(f"job cache {cache.root}: {len(entries)} jobs, {sum(e.size for e in entries) / 1e6:.1f} MB")
    for e in entries:
        typer.echo(f"cached: {e.name}  {e.size / 1e6:.1f} MB  {e.cpu_seconds:.0f} CPU s  {e.created}  ({e.fn}, key {e.key[:12]})")


@app.command()
def build(
    method: Annotated[Optional[str], typer.Argument(help=f"{' | '.join(methods.METHODS)} | all (or --recipe)")] = None,
    profile: RecipeProfileOpt = None,
    recipe: RecipeOpt = None,
    setting: Annotated[list[str], typer.Option("--set", help="Override a setting: --set key=value (repeatable).")] = [],
    dataset: Annotated[Optional[str], typer.Option(help="A real dataset name instead of the synthetic world.")] = None,
    data_path: Annotated[Optional[Path], typer.Option(help="Where that dataset lies.")] = None,
    store: StoreOpt = None,
    show_settings: Annotated[bool, typer.Option("--show-settings", help="Print the settings and exit.")] = False,
    show_jobs: Annotated[bool, typer.Option("--show-jobs", help="Print the jobs the build would run and exit.")] = False,
    workers: Annotated[Optional[int], typer.Option(
        help="Jobs at once (local: worker processes, default the cores; 1 runs them in this process).")] = None,
    executor: Annotated[Optional[str], typer.Option(help="local (default) or ray.")] = None,
    address: Annotated[Optional[str], typer.Option(
        help="Ray only: 'auto' or HOST:PORT of a running cluster (default: start a local Ray).")] = None,
    fresh: Annotated[bool, typer.Option(
        "--fresh", help="Run every job again instead of reusing the job cache (and refresh the cache).")] = False,
    profile_jobs: Annotated[bool, typer.Option(
        "--profile-jobs", help="Run every job under cProfile (not from the job cache): where its CPU went, beside its "
                               "log (logs/<job>.profile.json); same numbers. Also WORKBENCH_PROFILE_JOBS=1.")] = False,
) -> None:
    """Build a method's artifacts (a no-op when the same settings are already built).

    Every method's work runs as jobs (seeds x systems / variants / sweep chunks) through one runner;
    `build all` puts the jobs of all methods in one pool. --workers and --executor change how fast,
    never the numbers. A job already run with the same inputs and code comes from the store's job
    cache, so a killed build resumes where it stopped (`workbench doctor` lists the cache)."""
    from workbench.runner import Runner
    from workbench.progress import tqdm_progress

    if recipe:  # the recipe's method, profile and settings, under this command line's (recipes.py)
        from workbench import recipes

        method, profile, overrides = recipes.build_options(recipes.load(recipe, check=True), method, profile, dataset,
                                                           data_path, setting)
    else:
        overrides = [*setting, *([f"dataset={dataset}"] if dataset else []), *([f"data_path={data_path}"] if data_path else [])]
    if method is None:
        raise WorkbenchError(f"Name a method to build ({' | '.join(methods.METHODS)} | all) or a --recipe.")
    profile = profile or "demo"
    if profile not in PROFILES:
        raise WorkbenchError(f"Unknown profile {profile!r}; choose one of {', '.join(PROFILES)}.")
    names = methods.available() if method == "all" else [method]
    if method == "all" and not names:
        raise WorkbenchError("No method is available to build yet.")
    runner = Runner.from_env(executor, workers, address, profile_jobs or None)
    s = _store(store)
    configs = []
    for name in names:
        config = methods.make_config(name, profile, overrides)
        if show_settings:
            docs = type(config).field_docs()
            for key, value in config.to_dict().items():
                typer.echo(f"{name}.{key} = {value!r}    # {docs.get(key, '')}")
            continue
        if show_jobs:
            typer.echo(methods.describe_jobs(config))
            continue
        existing = s.find(name, config)
        if existing:
            typer.echo(f"{name}: already built at {existing.path} (same settings) — nothing to do.")
            continue
        configs.append(config)
    if not configs:
        return
    label = ", ".join(c.METHOD for c in configs)
    with tqdm_progress(f"{label} ({profile})") as bar:
        runs = methods.build_many(configs, s, progress=bar, runner=runner, fresh=fresh)
    for run in runs:
        typer.echo(f"{run.method}: built in {run.manifest.get('build_seconds', 0):.0f}s -> {run.path}")


@app.command()
def claims(
    profile: ProfileOpt = "demo",
    as_json: Annotated[bool, typer.Option("--json", help="Print {profile, claims:[...]} as JSON.")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="Each claim's comparison in full, in words and numbers.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="A markdown table of the comparisons (for a README or an issue).")] = False,
    store: StoreOpt = None,
) -> None:
    """The paper-claims report: each claim, what is compared, the numbers, reproduced or not."""
    from workbench import claims as claim_rows
    from workbench import report

    if profile not in PROFILES:
        raise WorkbenchError(f"Unknown profile {profile!r}; choose one of {', '.join(PROFILES)}.")
    if sum([as_json, wide, markdown]) > 1:
        raise WorkbenchError("Choose one of --json, --wide and --markdown.")
    rows = report.collect(_store(store), profile)
    reference = report.reference_verdicts(profile)
    ref = report.load_reference(profile) if reference else None
    lead = bool(ref) and report.at_stable_budget(ref)  # the reference at the stable budget leads, your run beside it
    if as_json:
        typer.echo(json.dumps({"profile": profile, "claims": [{**r.to_dict(), "sentence": r.sentence} for r in rows],
                               "reference": [{**r.to_dict(), "sentence": r.sentence} for r in reference.values()],
                               **({"reference_at_stable_budget": lead, "reference_headline": report.reference_headline(ref)}
                                  if ref else {})}, indent=2))
    else:
        if ref:
            typer.echo(report.reference_headline(ref) + "\n")
        typer.echo(claim_rows.as_table(rows, reference, style="wide" if wide else "markdown" if markdown else "table",
                                       lead=lead))


@app.command()
def report(
    profile: ProfileOpt = "demo",
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path("report.html"),
    store: StoreOpt = None,
) -> None:
    """A shareable report: one self-contained HTML file with the claims, each method's key figure, data
    card and settings, and the versions (opens in any browser, no server)."""
    from workbench import report as reports
    from workbench.atomic import check_apart, check_file_target

    if profile not in PROFILES:
        raise WorkbenchError(f"Unknown profile {profile!r}; choose one of {', '.join(PROFILES)}.")
    s = _store(store)
    check_apart(out, {"store": s.root})
    check_file_target(out, probe=True)
    target = reports.write_html(out, s, profile)
    typer.echo(f"report of profile {profile} ({target.stat().st_size / 1e6:.1f} MB) -> {target}")


@app.command()
def reference(
    profile: RecipeProfileOpt = None,
    seeds: Annotated[Optional[int], typer.Option(help="Seeds 0..N-1 of every method (default 3).")] = None,
    recipe: RecipeOpt = None,
    setting: Annotated[list[str], typer.Option("--set", help="The budget: METHOD.key=value, e.g. --set glass.steps=2400 (repeatable).")] = [],
    workers: Annotated[Optional[int], typer.Option(help="Jobs at once (default: the cores).")] = None,
    executor: Annotated[Optional[str], typer.Option(help="local (default) or ray.")] = None,
    address: Annotated[Optional[str], typer.Option(help="Ray only: auto or HOST:PORT.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Where to write the JSON (default: workbench/reference/).")] = None,
    store: StoreOpt = None,
) -> None:
    """Build every method with seeds 0..N-1 through the runner and write the reference claims JSON."""
    from workbench import report
    from workbench.runner import Runner
    from workbench.progress import tqdm_progress
    from workbench.atomic import check_file_target
    from workbench.store import atomic_write_text, to_json

    if recipe:
        from workbench import recipes

        profile, seeds, setting = recipes.reference_options(recipes.load(recipe, check=True), profile, seeds, setting)
    profile, seeds = profile or "demo", 3 if seeds is None else seeds
    if profile not in PROFILES:
        raise WorkbenchError(f"Unknown profile {profile!r}; choose one of {', '.join(PROFILES)}.")
    if seeds < 1:
        raise WorkbenchError("--seeds must be at least 1.")
    runner = Runner.from_env(executor, workers, address)
    planned = {"budgets": report.planned_budgets(report.reference_configs(profile, seeds, overrides=list(setting)))}
    target = out or report.reference_path(profile, seeds, stable=report.at_stable_budget(planned))
    check_file_target(target, probe=True)  # refused now, not after hours of builds
    with tqdm_progress(f"reference {profile} x {seeds} seeds") as bar:
        doc = report.build_reference(profile, seeds, _store(store), runner, bar, overrides=list(setting))
    atomic_write_text(target, to_json(doc))
    typer.echo(f"reference claims of {len(doc['claims'])} rows in {doc['wall_seconds']:.0f}s -> {target}")


@app.command("merge")
def merge_cmd(
    a: Annotated[Path, typer.Option("--a", help="First checkpoint folder (strength = its weight).")],
    b: Annotated[Path, typer.Option("--b", help="Second checkpoint folder (weight 1 - strength).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the merged checkpoint (must not exist).")],
    base: Annotated[Optional[Path], typer.Option("--base", help="Shared base checkpoint (task arithmetic, TIES, DARE).")] = None,
    method: Annotated[str, typer.Option(help="linear | slerp | task_arithmetic | ties | dare_linear | dare_ties | magnitude_prune")] = "linear",
    strength: Annotated[float, typer.Option(help="Weight of --a in [0, 1]: 1 gives a, 0 gives b.")] = 0.5,
    density: Annotated[float, typer.Option(help="Share of task-vector entries kept (TIES, DARE, magnitude_prune).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of DARE's random masks.")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out if it exists.")] = False,
) -> None:
    """Merge two local HF checkpoints of one architecture, tensor by tensor, into a loadable checkpoint."""
    import time

    from workbench.merging.checkpoints import merge_checkpoints
    from workbench.progress import tqdm_progress
    from workbench.runtime import set_threads

    set_threads()  # the merged weights are the same for any thread count (tests/merging)

    start = time.perf_counter()
    with tqdm_progress(f"{method} merge") as bar:
        path = merge_checkpoints(a, b, out, base, method=method, strength=strength, density=density, seed=seed,
                                 overwrite=overwrite, progress=bar)
    typer.echo(f"merged {method} (strength {strength:g} = weight of --a) in {time.perf_counter() - start:.1f}s -> {path}")


@app.command("eval")
def eval_cmd(
    checkpoint: Annotated[Path, typer.Argument(help="A local checkpoint folder (config.json, safetensors, tokenizer).")],
    bench: Annotated[str, typer.Option(help="'arithmetic' (the generated world), a GSM8K-style .jsonl file/folder, or a .json array (SVAMP.json).")] = "arithmetic",
    n: Annotated[int, typer.Option(help="Problems to evaluate (the first n of the file; balanced 1-6 ops for arithmetic).")] = 200,
    samples: Annotated[int, typer.Option(help="Samples per problem.")] = 1,
    temperature: Annotated[float, typer.Option(help="Sampling temperature (0 = greedy).")] = 0.6,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling mass.")] = 0.95,
    max_new_tokens: Annotated[int, typer.Option(help="Token budget per answer on a jsonl benchmark.")] = 512,
    seed: Annotated[int, typer.Option(help="Seed of the problems and of sampling.")] = 0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    outputs: Annotated[Optional[Path], typer.Option(help="Also write every output to this .jsonl file.")] = None,
    layout: Annotated[str, typer.Option(
        help="jsonl layout: auto (question/answer or problem/solution), gsm8k ('#### n'), numeric (the answer is "
             "a number), svamp (Body + Question, Answer).")] = "auto",
    question_field: Annotated[Optional[str], typer.Option(
        help="jsonl field(s) of the question, comma-separated to join several (e.g. Body,Question).")] = None,
    answer_field: Annotated[Optional[str], typer.Option(help="jsonl field of the gold answer.")] = None,
    answer_regex: Annotated[Optional[str], typer.Option(
        help="Regex finding the gold number in the answer (its first group, or the whole match).")] = None,
) -> None:
    """Evaluate any local checkpoint: accuracy (with a 95% interval) and mean generated tokens."""
    from workbench.datasets.jsonl_bench import load_jsonl_bench, make_layout
    from workbench.lm.checkpoint import load_causal_lm
    from workbench.merging.evaluate import evaluate_benchmark
    from workbench.runtime import resolve_device, set_threads

    set_threads()
    if n < 1 or samples < 1:
        raise WorkbenchError("--n and --samples must be at least 1.")
    if outputs is not None:  # refused before the model loads: never into or over an input, never over a non-file
        from workbench.atomic import check_apart, check_file_target

        check_apart(outputs, {"checkpoint": checkpoint, "--bench": bench if bench != "arithmetic" else None}, "--outputs")
        check_file_target(outputs, probe=True)
    fields = make_layout(layout, question_field, answer_field, answer_regex)  # a bad option fails before the model loads
    if bench == "arithmetic" and (layout != "auto" or question_field or answer_field or answer_regex is not None):
        raise WorkbenchError("--layout, --question-field, --answer-field and --answer-regex apply to a jsonl --bench only.")
    if bench != "arithmetic":
        load_jsonl_bench(bench, limit=n, layout=fields)  # a bad file or line fails before the model loads
    model, tokenizer = load_causal_lm(checkpoint, device=str(resolve_device(device)))
    summary, frame = evaluate_benchmark(model, tokenizer, bench, n=n, samples=samples, temperature=temperature,
                                        top_p=top_p, max_new_tokens=max_new_tokens, seed=seed, layout=fields)
    if outputs is not None:
        from workbench.store import atomic_write_text

        atomic_write_text(outputs, frame.to_json(orient="records", lines=True))
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(f"{checkpoint}: {summary['bench']}  accuracy {summary['accuracy']:.3f} "
                   f"[{summary['accuracy_low']:.3f}, {summary['accuracy_high']:.3f}]  mean tokens {summary['tokens']:.1f}  "
                   f"thinking {summary['thinking_share']:.0%}  ({summary['n_problems']} problems x {samples} samples)")


@app.command("app")
def serve(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to bind (127.0.0.1 keeps it local).")] = "127.0.0.1",
    build: Annotated[Optional[str], typer.Option(
        "--build", help="Also build this profile's missing methods in the background (cheapest first; each page "
                        "fills in as its method lands). Ctrl+C stops both.")] = None,
    store: StoreOpt = None,
) -> None:
    """Serve the Streamlit app (http://127.0.0.1:8501 by default)."""
    from workbench import background
    from workbench.store import PROJECT_ROOT

    script = PROJECT_ROOT / "app" / "streamlit_app.py"
    if not script.exists():
        raise WorkbenchError(f"The app is not next to this install ({script} is missing); run from a project checkout.")
    if build is not None and build not in PROFILES:
        raise WorkbenchError(f"Unknown profile {build!r} for --build; choose one of {', '.join(PROFILES)}.")
    root = _store(store).root
    env = {**os.environ, "WORKBENCH_HOME": str(root)}  # the app reads the store the build writes
    started = build is not None and background.start(root, build) == "started"
    if build is not None:
        typer.echo(f"{'Building' if started else 'Joined the build of'} the {build} artifacts in the background "
                   f"(log: {root / background.LOG})")
    typer.echo(f"Serving the workbench on http://{host}:{port}  (Ctrl+C stops it)")
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.address", host,
           "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer"]
    # a stop of the app (Ctrl+C, SIGTERM) stops the build it started at once, beside the server
    code = _serve_child(cmd, env, on_stop=(lambda: background.stop(root, timeout=0)) if started else None)
    if started and not background.stop(root, timeout=60):  # the build we started ends with the app
        typer.echo(f"The background build in {root} is still stopping.", err=True)
    raise typer.Exit(code)


def _serve_child(cmd: list[str], env: dict | None = None, on_stop=None) -> int:
    """Run the server as a child and stop it with this command: SIGTERM/SIGINT/SIGHUP are passed on and
    waited for, and on Linux the child also gets SIGTERM if this process dies without a word (kill -9)."""
    import signal

    from workbench.runtime import die_with_parent

    proc = subprocess.Popen(cmd, preexec_fn=die_with_parent(signal.SIGTERM), env=env)
    forwarded: list[int] = []

    def forward(signum, _frame) -> None:
        forwarded.append(signum)
        proc.send_signal(signum)
        if on_stop is not None and len(forwarded) == 1:
            on_stop()

    stops = [signal.SIGTERM, signal.SIGINT] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {sig: signal.signal(sig, forward) for sig in stops}
    try:
        code = proc.wait()
    finally:
        if proc.poll() is None:  # this command is failing for another reason: do not leave the server
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # stopped by a signal we passed on: a normal stop; killed by another signal: 128 + its number
    return 0 if code < 0 and -code in forwarded else (128 - code if code < 0 else code)


def main() -> None:
    """Entry point: run the CLI, turning WorkbenchError into one line on stderr (exit 2)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        code = app(standalone_mode=False, prog_name="workbench")  # click returns a typer.Exit's code here instead of raising it
    except WorkbenchError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except typer.Abort:
        sys.exit(1)
    except PermissionError as err:  # a read-only store, --out or checkpoint folder
        typer.echo(f"error: permission denied at {err.filename or 'a file'}; make it (or its folder) writable or "
                   "choose another folder (--store, --out or WORKBENCH_HOME).", err=True)
        sys.exit(2)
    except OSError as err:  # a write or read the system refused (disk full, read-only file system, I/O error)
        where = f" at {err.filename}" if err.filename else ""
        typer.echo(f"error: {err.strerror or type(err).__name__}{where}; check that path or choose another "
                   "(--store, --out or WORKBENCH_HOME).", err=True)
        sys.exit(2)
    except Exception as err:
        if not (hasattr(err, "format_message") and hasattr(err, "exit_code")):
            raise
        # a usage error (unknown command or option, bad value, missing argument) from typer's click:
        # one line and exit 2, like every other bad input, instead of click's usage box
        ctx = getattr(err, "ctx", None)
        where = ctx.command_path if ctx is not None else "workbench"
        message = " ".join(err.format_message().split())
        typer.echo(f"error: {message} (see `{where} --help`)", err=True)
        sys.exit(2)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
