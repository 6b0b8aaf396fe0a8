"""Where a job's CPU goes: a job run under ``cProfile`` and its profile summed up in one small JSON.

``workbench build --profile-jobs`` (or ``WORKBENCH_PROFILE_JOBS=1``) runs every job under the profiler
(``workbench.runner``), writes this summary as ``profile.json`` beside the job's ``log.txt``, and the
build keeps it in the run as ``logs/<job>.profile.json``. The profiler changes no number (it only
watches calls); it costs CPU time of its own, most where Python makes many small calls, so the
job's CPU seconds in ``jobs.json`` are marked ``profiled`` and read as an upper bound.

The summary holds the functions with the most cumulative and the most own time, the job's time
split into **phases** — training steps (forward and loss, backward, optimizer, and the trainer's own
per-step work around them), evaluation, generation (sampling and beam search), data preparation,
imports, and other — and the time the garbage collector took. A phase is decided by the innermost
*phase root* on the call stack (``ROOTS``: ``backward`` inside a training step is backward, a
``generate`` inside GRPO's step is generation).
``cProfile`` keeps calls per (caller, callee) pair, not whole stacks, so a function's own time is
shared among its callers' phases in proportion to the time spent in it from each (the assumption
gprof makes): exact for a function that only one phase calls, an estimate for one that several do
(a torch kernel called by both training and evaluation).
"""

from __future__ import annotations

import cProfile
import fnmatch
import gc
import pstats
import re
import time
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
    ("train_forward", "*/workbench/glass/baselines.py:<lambda>"),  # SASRec's loss, handed to train_model
    ("train_forward", "*/trl/trainer/grpo_trainer.py:_generate_and_score_completions"),  # rewards, old log-probs
    ("train_loop", "*/workbench/lm/sft.py:train_sft"),
    ("train_loop", "*/workbench/needs/training.py:train_grpo"),
    ("train_loop", "*/workbench/glass/training.py:train_model"),
    # sampling and beam search (inside evaluation or inside GRPO's step alike)
    ("generation", "*/transformers/generation/utils.py:generate"),
    ("generation", "*/workbench/lm/generate.py:generate"),
    ("generation", "*/workbench/glass/decode.py:beam_search"),
    # evaluation: scoring, ranking and the statistics over it
    ("evaluation", "*/workbench/*/evaluate.py:*"),
    ("evaluation", "*/workbench/needs/baselines.py:*"),
    ("evaluation", "*/workbench/glass/baselines.py:*_ranking"),
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
PER_PHASE = 8
"""Functions listed in each phase, by the own time they spent in it."""

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


def phase_shares(stats: dict) -> dict[Func, dict[str, float]]:
    """Each function's own time as shares of phases, for every function of ``pstats.Stats(...).stats``
    (module doc): a root's is its own phase; any other's are its callers' shares weighted by the time
    spent in it from each caller; a function nobody profiled called is ``other``. Solved by sweeps in
    order of cumulative time (callers first, mostly) until no share moves (recursion needs more than one).
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
    return share


def phase_seconds(stats: dict, shares: dict | None = None) -> dict[str, float]:
    """Own time summed per phase (``phase_shares``)."""
    shares = shares or phase_shares(stats)
    seconds = dict.fromkeys(PHASES, 0.0)
    for f, (_, _, own, _, _) in stats.items():
        for phase, s in shares[f].items():
            seconds[phase] += own * s
    return seconds


def summarize(profile: cProfile.Profile, top: int = TOP, per_phase: int = PER_PHASE) -> dict:
    """The JSON summary of one profiled job: total, phases (seconds, share and the functions with the
    most own time in each), top functions."""
    stats = pstats.Stats(profile).stats
    shares = phase_shares(stats)
    phases = phase_seconds(stats, shares)
    total = sum(phases.values())

    def rows(key: int) -> list[dict]:
        best = sorted(stats, key=lambda f: -stats[f][key])[:top]
        return [{"function": _label(f), "calls": stats[f][1], "own_s": round(stats[f][2], 3),
                 "cumulative_s": round(stats[f][3], 3), "phase": root_phase(f),
                 "callers": [[_label(c), round(edge[3], 3)]  # who spent that time in it, most first
                             for c, edge in sorted(stats[f][4].items(), key=lambda item: -item[1][3])[:3]]}
                for f in best]

    def heaviest(phase: str) -> list[list]:
        own = sorted(((stats[f][2] * s.get(phase, 0.0), f) for f, s in shares.items() if s.get(phase)), reverse=True)
        return [[_label(f), round(seconds, 3)] for seconds, f in own[:per_phase] if seconds > 0]

    return {"timer": "wall", "profiled_seconds": round(total, 2),
            "phases": {p: {"seconds": round(s, 2), "share": round(s / total, 4) if total else 0.0,
                           "heaviest": heaviest(p)} for p, s in phases.items()},
            "top_cumulative": rows(3), "top_own": rows(2)}


class _GarbageClock:
    """Time in Python's garbage collector, per generation (``gc.callbacks``). cProfile cannot see it:
    a collection runs inside whichever call allocated last, so its time is in that call's own time
    (and phase); this says how much of the job it was."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            generation = min(int(info.get("generation", 2)), 2)
            self.seconds[generation] += time.perf_counter() - self._start
            self.collections[generation] += 1

    def as_dict(self) -> dict:
        return {"seconds": round(sum(self.seconds), 3), "collections": self.collections,
                "seconds_by_generation": [round(x, 3) for x in self.seconds]}


@contextmanager
def profiled(summary: dict):
    """Run the body under ``cProfile`` and fill ``summary`` with its summary afterwards — also when the
    body raises, so a failed job's profile still says where it spent its time.

    The profiler's clock is its default (wall time, read without a system call); timed by the process's
    CPU clock, every call and return paid a system call: a smoke build's jobs took 2.8x their CPU
    seconds instead of ~1.5x. A one-thread job on a core of its own spends its wall time on the CPU."""
    profile, garbage = cProfile.Profile(), _GarbageClock()
    gc.callbacks.append(garbage)
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        gc.callbacks.remove(garbage)
        summary.update({**summarize(profile), "garbage_collection": garbage.as_dict()})
