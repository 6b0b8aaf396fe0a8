"""Train and evaluate the language-model variants as independent jobs, side by side on a small CPU.

The six LM variants are six jobs: three trained from scratch (``clustered_sft``, ``flat``,
``raw_sft``) and three continuations of ``clustered_sft`` (``full`` = curriculum GRPO, ``rl_sparse``
= GRPO with the full-path reward only, ``sft_more`` = SFT for the same compute). Each job trains its
model, scores it on the test cases and returns the marked predictions and its curves.

Tiny models use two cores badly from one process; two single-thread worker processes use both
(``WORKBENCH_NEEDS_WORKERS``, default 2, capped by the cores; 1 runs the jobs in this process, which
CUDA always does). A worker is ``python -m workbench.needs.jobs <job folder>``: it reads its inputs
from parquet files, seeds itself and writes its results beside them, so the numbers do not depend on
how the jobs are scheduled. Continuations wait for ``clustered_sft``.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from workbench.lm import SFTSettings, TinyLMConfig
from workbench.needs import evaluate, inference, rewards, training
from workbench.needs.config import Config
from workbench.needs.prompts import Popularity
from workbench.needs.schema import NeedsData
from workbench.progress import Progress, silent
from workbench.runtime import StepTimer, resolve_device, seed_everything, set_threads

ORDER = ("clustered_sft", "flat", "raw_sft", "full", "rl_sparse", "sft_more")
STARTS_FROM = {"full": "clustered_sft", "rl_sparse": "clustered_sft", "sft_more": "clustered_sft"}
THIRD = 1 / 3
SCHEDULES = {
    # the curriculum: format and need from the start, then category, then the service
    "full": {"format": 0.0, "need_semantic": 0.0, "category": THIRD, "service": 2 * THIRD},
    "rl_sparse": {"full_path": 0.0},
}
TABLES = ("phrases", "categories", "merchants", "users", "records")
CASES = ("train_raw", "train_clustered", "test_raw", "test_clustered", "rl_cases")


def tiny_config(config: Config) -> TinyLMConfig:
    return TinyLMConfig(arch=config.arch, hidden=config.hidden, layers=config.layers, heads=config.heads,
                        intermediate=4 * config.hidden, max_len=160)


def needed(config: Config) -> list[str]:
    """LM jobs to run, in scheduling order (``clustered_sft`` whenever a continuation needs it)."""
    wanted = set(config.variants)
    if wanted & set(STARTS_FROM):
        wanted.add("clustered_sft")
    return [name for name in ORDER if name in wanted]


def workers(config: Config, jobs: int) -> int:
    if resolve_device(config.device).type == "cuda" or jobs <= 1:
        return 1
    return max(1, min(int(os.environ.get("WORKBENCH_NEEDS_WORKERS", "2")), os.cpu_count() or 1, jobs))


# ---- the work folder -------------------------------------------------------------------------------
def write_inputs(folder: Path, data: NeedsData, cases: dict[str, pd.DataFrame]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        getattr(data, name).to_parquet(folder / f"{name}.parquet", index=False)
    for name in CASES:
        cases[name].to_parquet(folder / f"{name}.parquet", index=False)


def read_data(folder: Path, name: str) -> NeedsData:
    return NeedsData(**{t: pd.read_parquet(folder / f"{t}.parquet") for t in TABLES}, name=name)


# ---- one job -----------------------------------------------------------------------------------------
def run_job(spec: dict, progress: Progress | None = None) -> dict:
    """Train one variant, score it on the test cases; returns marked predictions, curves, timings."""
    name, seed, folder = spec["name"], spec["seed"], Path(spec["folder"])
    set_threads(spec["threads"])
    progress = progress or silent
    config = Config._make(spec["config"])
    timer = StepTimer()
    data = read_data(folder, config.dataset)
    history = data.records[data.records["split"] != "test"]
    popularity = Popularity.from_records(history, data.merchants)
    cases = {c: pd.read_parquet(folder / f"{c}.parquet") for c in CASES}
    sft = SFTSettings(steps=config.sft_steps, batch_size=config.sft_batch, lr=config.sft_lr, warmup_steps=30,
                      max_length=160, log_every=10, seed=seed, device=config.device,
                      completion_only_loss=not config.prompt_loss)
    out: dict = {"name": name, "sft_curve": [], "rl_log": []}
    seed_everything(seed)
    train_share = 0.85
    with timer.step(f"train_{name}"):
        train_progress = lambda m, f: progress(m, train_share * f)  # noqa: E731
        if name in STARTS_FROM:
            model, tok = training.resume_model(folder / "models" / STARTS_FROM[name], config.base_checkpoint,
                                               config.lora_r, config.device)
            info = {"kind": "continued from " + STARTS_FROM[name]}
        else:
            model, tok, info = training.initial_model(tiny_config(config), data, config.base_checkpoint, config.lora_r,
                                                      seed, config.device)
        rl_cases = cases["rl_cases"]
        if name == "flat":
            out["sft_curve"] = training.curriculum_sft(model, tok, cases["train_clustered"], sft, (("services", 1.0),),
                                                       column="flat_completion", progress=train_progress, label="SFT flat")
            sequences = config.sft_steps * config.sft_batch
        elif name in ("raw_sft", "clustered_sft"):
            phases = training.CURRICULUM if config.curriculum else (("services", 1.0),)
            train = cases["train_raw"] if name == "raw_sft" else cases["train_clustered"]
            out["sft_curve"] = training.curriculum_sft(model, tok, train, sft, phases, progress=train_progress,
                                                       label=f"SFT {name}")
            sequences = config.sft_steps * config.sft_batch
        elif name == "sft_more":
            more = replace(sft, steps=config.rl_steps, batch_size=config.rl_prompts * config.rl_generations,
                           lr=config.sft_lr / 10, warmup_steps=0, scheduler="constant",
                           log_every=max(1, config.rl_steps // 20))
            out["sft_curve"] = training.curriculum_sft(model, tok, rl_cases, more, (("services", 1.0),),
                                                       progress=train_progress, label="SFT continued")
            sequences = config.rl_steps * config.rl_prompts * config.rl_generations
        else:
            vocab = rewards.RewardVocab(phrase_need=data.phrase_need,
                                        need_categories={n: set(c) for n, c in data.need_categories.items()},
                                        merchants=set(data.merchants["merchant"]))
            schedule = SCHEDULES[name]
            observe = tuple(r for r in rewards.REWARDS if r not in schedule)
            funcs, weights = rewards.reward_functions(vocab, schedule, observe=observe)
            grpo = training.GRPOSettings(steps=config.rl_steps, prompts_per_step=config.rl_prompts,
                                         generations=config.rl_generations, lr=config.rl_lr, beta=config.rl_beta,
                                         temperature=config.rl_temperature, seed=seed, device=config.device)
            out["rl_log"] = training.train_grpo(model, tok, rl_cases, funcs, grpo, weights=weights,
                                                progress=train_progress, label=f"GRPO {name}")
            sequences = config.rl_steps * config.rl_prompts * config.rl_generations
        out["compute"] = {"sequences": sequences, **info}
    if name in spec["save"]:
        model = training.save_model(model, tok, folder / "models" / name)
    with timer.step(f"eval_{name}"):
        report = lambda m, f: progress(f"{name}: {m}", train_share + (1 - train_share) * f)  # noqa: E731
        test = cases["test_raw"] if name == "raw_sft" else cases["test_clustered"]
        if name == "flat":
            preds = inference.predict_flat(model, tok, test, progress=report)
        else:
            preds = inference.predict_chains(model, tok, data, test, popularity, config.n_popular,
                                             beams=config.chain_beams, progress=report)
        out["marked"] = evaluate.mark_cases(test, preds, name)
    out["timings"] = timer.as_dict()
    progress(f"{name}: done", 1.0)
    return out


class _FileProgress:
    """Progress of a job in a worker process, as lines ``fraction<TAB>message`` the parent reads."""

    def __init__(self, path: Path):
        self.path, self.last = path, -1.0

    def __call__(self, message: str, fraction: float) -> None:
        if fraction - self.last >= 0.01 or fraction >= 1.0:
            self.last = fraction
            with open(self.path, "a") as fh:
                fh.write(f"{fraction:.4f}\t{message}\n")


def main(argv: list[str] | None = None) -> None:
    """Worker entry point: ``python -m workbench.needs.jobs <job folder>`` runs the job in
    ``<job folder>/spec.json`` and writes ``marked.parquet`` and ``result.json`` beside it."""
    import json
    import sys

    job = Path((argv or sys.argv[1:])[0])
    spec = json.loads((job / "spec.json").read_text())
    result = run_job(spec, _FileProgress(job / "progress.txt"))
    result.pop("marked").to_parquet(job / "marked.parquet", index=False)
    (job / "result.json").write_text(json.dumps(result, default=float))


# ---- all jobs ------------------------------------------------------------------------------------------
COST = {"clustered_sft": 1.0, "flat": 1.0, "raw_sft": 1.0, "full": 0.45, "rl_sparse": 0.45, "sft_more": 0.2}
"""Rough relative run time of each job, to turn job progress into one progress bar."""


def run_lm_jobs(config: Config, seed: int, folder: Path, progress: Progress | None = None) -> dict[str, dict]:
    """Run every needed LM job, two worker processes at a time when possible; results by variant name."""
    progress = progress or silent
    names = needed(config)
    if not names:
        return {}
    n_workers = workers(config, len(names))
    threads = max(1, set_threads() // n_workers)
    save = {"full"} | ({"clustered_sft"} if any(n in STARTS_FROM for n in names) else set())
    specs = {n: {"name": n, "seed": seed, "folder": str(folder), "config": config.to_dict(), "threads": threads,
                 "save": sorted(save)} for n in names}
    done_share = {n: 0.0 for n in names}
    total = sum(COST[n] for n in names)

    def report(name: str, message: str, fraction: float) -> None:
        done_share[name] = fraction
        progress(message, sum(COST[n] * done_share[n] for n in names) / total)

    if n_workers == 1:
        return {name: run_job(specs[name], lambda m, f, name=name: report(name, m, f)) for name in names}
    return _run_in_processes(specs, names, n_workers, folder, report)


def _run_in_processes(specs: dict, names: list[str], n_workers: int, folder: Path, report) -> dict[str, dict]:
    """Each job in its own ``python -m workbench.needs.jobs`` process (no pickling, no re-import of the
    caller's script); the parent schedules, reads progress files and collects the results."""
    import json
    import subprocess
    import sys

    from workbench.errors import WorkbenchError

    results: dict[str, dict] = {}
    pending, running = list(names), {}
    try:
        while pending or running:
            for name in [n for n in pending if STARTS_FROM.get(n) is None or STARTS_FROM[n] in results]:
                if len(running) >= n_workers:
                    break
                job = folder / "jobs" / name
                job.mkdir(parents=True, exist_ok=True)
                (job / "spec.json").write_text(json.dumps(specs[name], default=list))
                log = open(job / "stderr.txt", "w")
                running[name] = (subprocess.Popen([sys.executable, "-m", "workbench.needs.jobs", str(job)],
                                                  stdout=subprocess.DEVNULL, stderr=log), log)
                pending.remove(name)
            time.sleep(0.5)
            for name, (proc, log) in list(running.items()):
                lines = (folder / "jobs" / name / "progress.txt").read_text().splitlines() \
                    if (folder / "jobs" / name / "progress.txt").exists() else []
                if lines:
                    fraction, message = lines[-1].split("\t", 1)
                    report(name, message, float(fraction))
                if proc.poll() is None:
                    continue
                log.close()
                del running[name]
                job = folder / "jobs" / name
                if proc.returncode != 0:
                    tail = (job / "stderr.txt").read_text().strip().splitlines()[-1:] or ["no output"]
                    raise WorkbenchError(f"Training the {name} variant failed ({tail[0]}); "
                                         f"see {job / 'stderr.txt'} or set WORKBENCH_NEEDS_WORKERS=1.")
                result = json.loads((job / "result.json").read_text())
                result["marked"] = pd.read_parquet(job / "marked.parquet")
                results[name] = result
    finally:
        for proc, log in running.values():
            proc.kill()
            log.close()
    return results


if __name__ == "__main__":
    main()
