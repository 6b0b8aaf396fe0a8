"""Where a job's CPU goes: a job run under ``cProfile`` and its profile summed up in one small JSON.

``workbench build --profile-jobs`` (or ``WORKBENCH_PROFILE_JOBS=1``) runs every job under the profiler
(``workbench.runner``), writes this summary as ``profile.json`` beside the job's ``log.txt``, and the
build keeps it in the run as ``logs/<job>.profile.json``. The profiler changes no number (it only
watches calls); it costs CPU time of its own, most where Python makes many small calls, so the
job's CPU seconds in ``jobs.json`` are marked ``profiled`` and read as an upper bound.

The summary holds the functions with the most cumulative and the most own time, and the job's time
split into **phases**: training steps (forward and loss, backward, optimizer, and the trainer's own
per-step work around them), evaluation, generation (sampling and beam search), data preparation,
imports, and other. A phase is decided by the innermost *phase root* on the call stack (``ROOTS``:
``backward`` inside a training step is backward, a ``generate`` inside GRPO's step is generation).
``cProfile`` keeps calls per (caller, callee) pair, not whole stacks, so a function's own time is
shared among its callers' phases in proportion to the time spent in it from each (the assumption
gprof makes): exact for a function that only one phase calls, an estimate for one that several do
(a torch kernel called by both training and evaluation).
"""

from __future__ import annotations

import cProfile
import fnmatch
import pstats
import re
from contextlib import contextmanager

PHASES = ("train_forward", "train_backward", "train_optimizer", "train_loop", "evaluation", "generation", "data",
          "import", "other")
"""The phases of a summary, in the order tables show them. ``train_forward``: a training step's forward
pass and loss (GRPO's rewards too); ``train_loop``: the trainer's own work around its steps (batches,
collation, callbacks, logging, setup); ``other``: whatever no root claims (job code, saving, loading)."""

ROOTS: tuple[tuple[str, str], ...] = (
    # training steps
    ("train_backward", "*/torch/_tensor.py:backward"),
    ("train_backward", "*/torch/autograd/__init__.py:backward"),
    ("train_backward", "*/accelerate/accelerator.py:backward"),
    ("train_optimizer", "*/torch/optim/*:*"),
    ("train_optimizer", "*/torch/nn/utils/clip_grad.py:*"),
    ("train_optimizer", "*/accelerate/optimizer.py:*"),
    ("train_optimizer", "*/accelerate/scheduler.py:*"),
    ("train_forward", "*/transformers/trainer.py:compute_loss"),
    ("train_forward", "*/trl/trainer/*:compute_loss"),
    ("train_forward", "*/workbench/lm/sft.py:compute_loss"),
    ("train_forward", "*/workbench/glass/training.py:loss_fn"),
    ("train_loop", "*/workbench/lm/sft.py:train_sft"),
    ("train_loop", "*/workbench/needs/training.py:train_grpo"),
    ("train_loop", "*/workbench/glass/training.py:train_model"),
    # sampling and beam search (inside evaluation or inside GRPO's step alike)
    ("generation", "*/transformers/generation/utils.py:generate"),
    ("generation", "*/workbench/lm/generate.py:generate"),
    ("generation", "*/workbench/glass/decode.py:beam_search"),
    # evaluation: scoring, ranking and the statistics over it
    ("evaluation", "*/workbench/*/evaluate.py:*"),
    ("evaluation", "*/workbench/*/baselines.py:*"),
    ("evaluation", "*/workbench/*/analysis.py:*"),
    ("evaluation", "*/workbench/*/claims.py:*"),
    ("evaluation", "*/workbench/needs/inference.py:*"),
    ("evaluation", "*/workbench/glass/systems.py:evaluate_sid_model"),
    ("evaluation", "*/workbench/glass/training.py:check"),
    ("evaluation", "*/workbench/merging/sweep.py:evaluate_*"),
    # data preparation: worlds, real data, tokenizers, cases, training pairs
    ("data", "*/workbench/*/world.py:*"),
    ("data", "*/workbench/*/real.py:*"),
    ("data", "*/workbench/*/data.py:*"),
    ("data", "*/workbench/*/prepare.py:*"),
    ("data", "*/workbench/*/semantic_ids.py:*"),
    ("data", "*/workbench/*/features.py:*"),
    ("data", "*/workbench/needs/clustering.py:*"),
    ("data", "*/workbench/lm/tokenizer.py:*"),
    ("data", "*/workbench/lm/sft.py:prepare_pairs"),
    ("data", "*/workbench/merging/parents.py:*_pairs"),
    # a worker's first imports of torch, transformers, TRL (once per process)
    ("import", "<frozen importlib._bootstrap>:_find_and_load"),
    ("import", "<frozen importlib._bootstrap>:_handle_fromlist"),
)
"""(phase, ``path:function`` pattern) pairs; the first pattern a function matches decides its phase.
Paths are the source files' (``/`` separated; ``*`` matches across folders)."""

TOP = 20
"""Functions listed by cumulative and by own time."""

Func = tuple[str, int, str]  # cProfile's (file, line, function)


def _label(func: Func) -> str:
    """``torch/optim/adamw.py:89(step)`` — the file from its package on, or a built-in's name."""
    path, line, name = func
    if path == "~":
        return name
    path = path.replace("\\", "/")
    short = re.split(r"(?:/lib/python3\.\d+)?/(?:site|dist)-packages/|/lib/python3\.\d+/", path)[-1]
    if short == path:  # not an installed package: from the project's own folders on
        short = re.sub(r"^.*/(workbench|tests|benchmarks)/", r"\1/", path)
    return f"{short}:{line}({name})"


def root_phase(func: Func) -> str | None:
    """The phase ``func`` starts, if it is a phase root (``ROOTS``).

    >>> root_phase(("/x/site-packages/torch/optim/adamw.py", 10, "step")), root_phase(("/x/y.py", 1, "f"))
    ('train_optimizer', None)
    """
    key = f"{func[0].replace(chr(92), '/')}:{func[2]}"
    return next((phase for phase, pattern in ROOTS if fnmatch.fnmatchcase(key, pattern)), None)


def phase_seconds(stats: dict) -> dict[str, float]:
    """Own time summed per phase over every function of ``pstats.Stats(...).stats`` (module doc).

    Each function's share of each phase is its callers' shares weighted by the time spent in it from
    each caller; a root's is its own phase; a function nobody profiled called is ``other``. Solved by
    sweeps in order of cumulative time (callers first, mostly) until no share moves (recursion needs
    more than one sweep).
    """
    roots = {f: root_phase(f) for f in stats}
    share: dict[Func, dict[str, float]] = {f: {roots[f] or "other": 1.0} for f in stats}
    order = sorted((f for f in stats if roots[f] is None and stats[f][4]), key=lambda f: -stats[f][3])
    for _ in range(50):
        moved = 0.0
        for f in order:
            callers = stats[f][4]
            weights = {c: edge[3] or edge[1] for c, edge in callers.items() if c in share}
            total = sum(weights.values())
            if not total:
                continue
            mix: dict[str, float] = {}
            for c, w in weights.items():
                for phase, s in share[c].items():
                    mix[phase] = mix.get(phase, 0.0) + s * w / total
            moved = max(moved, *(abs(mix.get(p, 0.0) - share[f].get(p, 0.0)) for p in {*mix, *share[f]}))
            share[f] = mix
        if moved < 1e-9:
            break
    seconds = dict.fromkeys(PHASES, 0.0)
    for f, (_, _, own, _, _) in stats.items():
        for phase, s in share[f].items():
            seconds[phase] += own * s
    return seconds


def summarize(profile: cProfile.Profile, top: int = TOP) -> dict:
    """The JSON summary of one profiled job: total, phases (seconds and share), top functions."""
    stats = pstats.Stats(profile).stats
    phases = phase_seconds(stats)
    total = sum(phases.values())

    def rows(key: int) -> list[dict]:
        best = sorted(stats, key=lambda f: -stats[f][key])[:top]
        return [{"function": _label(f), "calls": stats[f][1], "own_s": round(stats[f][2], 3),
                 "cumulative_s": round(stats[f][3], 3), "phase": root_phase(f),
                 "callers": [[_label(c), round(edge[3], 3)]  # who spent that time in it, most first
                             for c, edge in sorted(stats[f][4].items(), key=lambda item: -item[1][3])[:3]]}
                for f in best]

    return {"timer": "wall", "profiled_cpu_seconds": round(total, 2),
            "phases": {p: {"seconds": round(s, 2), "share": round(s / total, 4) if total else 0.0}
                       for p, s in phases.items()},
            "top_cumulative": rows(3), "top_own": rows(2)}


@contextmanager
def profiled(summary: dict):
    """Run the body under ``cProfile`` and fill ``summary`` with its summary afterwards — also when the
    body raises, so a failed job's profile still says where it spent its time.

    The profiler's clock is its default (wall time, read without a system call); timed by the process's
    CPU clock, every call and return paid a system call: a smoke build's jobs took 2.8x their CPU
    seconds instead of ~1.5x. A one-thread job on a core of its own spends its wall time on the CPU."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        summary.update(summarize(profile))
