"""Evaluate a causal LM: accuracy and generated tokens, several samples per problem.

The protocol follows the paper: sampling at temperature 0.6 and top-p 0.95, several samples per
problem, accuracy = mean correctness, tokens = mean length of the whole response (thinking part
included, end-of-sequence excluded). One row per (problem, sample), so intervals and paired tests
over problems come free (``workbench.merging.analysis``).

Generation dominates the cost, so prompts are grouped by difficulty (similar lengths finish together
and a batch stops as soon as all of its outputs ended), batched wide, and decoded with the KV cache
(the LM kit's ``generate``). Each group gets a token budget that fits its longest sensible thinking
output; a merged model that loops past it is cut off and scored wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from workbench.errors import WorkbenchError

from workbench.lm import generate
from workbench.merging import world
from workbench.progress import Progress, scaled, silent


@dataclass(frozen=True)
class Sampling:
    """How outputs are drawn."""

    samples: int = 4
    """Samples per problem (the paper averages several)."""
    temperature: float = 0.6
    top_p: float = 0.95
    batch_size: int = 1024
    """Sequences decoded at once (prompts x samples); wide batches amortise the per-step overhead."""
    max_new_tokens: int = 0
    """Token budget per output; 0 = sized per difficulty group by ``token_budget``."""
    budget_rechecks: int = world.BUDGET_RECHECKS
    """Re-check lines that budget has room for (``world.Overthinking.budget_rechecks``: fewer as the
    overthinking dial rises, so the longest thinking is cut off)."""


def token_budget(problems: Sequence[world.Problem], extra_steps: int = world.BUDGET_RECHECKS) -> int:
    """Room for the longest full scratchpad among ``problems`` plus ``extra_steps`` re-checks
    (the thinking child is trained with at most a few) and the answer.

    >>> token_budget([world.Problem(0, ("3", "+", "4"))])
    50
    """
    longest = max(len(world.thinking_completion(p, 0).split()) for p in problems)
    step = max(len(world.step_words(s).split()) for p in problems for s in world.solution_steps(p.tokens))
    return longest + extra_steps * (step + 1) + 4


def evaluate_arithmetic(
    model,
    tokenizer,
    problems: Sequence[world.Problem],
    sampling: Sampling = Sampling(),
    seed: int = 0,
    progress: Progress | None = None,
    keep_text: bool = True,
) -> pd.DataFrame:
    """One row per (problem, sample): ``problem, sample, n_ops, correct, tokens, thinking, rechecks,
    answered`` (+ ``text`` when ``keep_text``)."""
    progress = progress or silent
    groups: dict[int, list[world.Problem]] = {}
    for p in problems:
        groups.setdefault(p.n_ops, []).append(p)
    rows = []
    done, total = 0, max(len(problems), 1)
    for n_ops in sorted(groups):
        group = groups[n_ops]
        budget = sampling.max_new_tokens or token_budget(group, sampling.budget_rechecks)
        out = generate(
            model, tokenizer, [world.prompt(p) for p in group], max_new_tokens=budget, do_sample=True,
            temperature=sampling.temperature, top_p=sampling.top_p, num_return_sequences=sampling.samples,
            batch_size=max(1, sampling.batch_size // sampling.samples), seed=seed * 100 + n_ops,
            progress=scaled(progress, done / total, (done + len(group)) / total),
        )
        for i, (text, n_tok) in enumerate(zip(out.texts, out.n_tokens)):
            p = group[i // sampling.samples]
            answer = world.extract_answer(text)
            row = {
                "problem": p.id, "sample": i % sampling.samples, "n_ops": n_ops,
                "correct": answer == p.answer, "tokens": n_tok, "thinking": world.is_thinking(text),
                "rechecks": world.count_rechecks(text), "answered": answer is not None,
            }
            if keep_text:
                row["text"] = text
            rows.append(row)
        done += len(group)
        progress(f"evaluated {done}/{len(problems)} problems", done / total)
    return pd.DataFrame(rows)


def summarize(frame: pd.DataFrame) -> dict[str, float]:
    """Headline numbers of one evaluation frame."""
    return {
        "accuracy": float(frame["correct"].mean()),
        "tokens": float(frame["tokens"].mean()),
        "thinking_share": float(frame["thinking"].mean()) if "thinking" in frame else float("nan"),
        "rechecks": float(frame["rechecks"].mean()) if "rechecks" in frame else float("nan"),
        "answered": float(frame["answered"].mean()),
        "n_problems": int(frame["problem"].nunique()),
        "n_outputs": int(len(frame)),
    }


def overthinking_profile(frame: pd.DataFrame, problems: Sequence[world.Problem], easy_ops: int = 2) -> dict[str, float]:
    """The overthinking dial's planted effects, measured on one model's outputs (a frame with ``text``):
    accuracy, mean tokens, and why the wrong outputs are wrong (``world.error_kind``, the planted
    truth): the share of errors that drifted after a correct intermediate answer, that the budget cut
    off, and the rest; plus tokens and accuracy on the easy problems (≤ ``easy_ops`` operations).

    >>> p = world.Problem(0, ("3", "+", "4"))
    >>> texts = [world.thinking_completion(p, 2), world.thinking_completion(p, 2, drift_at=0), "A : 1"]
    >>> frame = pd.DataFrame({"problem": 0, "n_ops": 1, "text": texts, "tokens": [20, 20, 3],
    ...                       "correct": [world.is_correct(p, t) for t in texts]})
    >>> prof = overthinking_profile(frame, [p])
    >>> prof["errors"], prof["drift_share"], prof["other_share"], round(prof["accuracy"], 3)
    (2, 0.5, 0.5, 0.333)
    """
    by_id = {p.id: p for p in problems}
    kinds = [world.error_kind(by_id[i], t) for i, t in zip(frame["problem"], frame["text"])]
    errors = [k for k in kinds if k is not None]
    share = {f"{k}_share": (errors.count(k) / len(errors) if errors else float("nan")) for k in world.ERROR_KINDS}
    easy = frame[frame["n_ops"] <= easy_ops]
    return {
        "accuracy": float(frame["correct"].mean()), "tokens": float(frame["tokens"].mean()),
        "errors": len(errors), **share,
        "easy_tokens": float(easy["tokens"].mean()) if len(easy) else float("nan"),
        "easy_accuracy": float(easy["correct"].mean()) if len(easy) else float("nan"),
        "n_outputs": int(len(frame)),
    }


def evaluate_jsonl(
    model,
    tokenizer,
    items: Sequence,
    sampling: Sampling = Sampling(samples=1),
    max_new_tokens: int = 512,
    seed: int = 0,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """The same protocol on a GSM8K-style benchmark (``workbench.datasets.jsonl_bench`` items):
    one row per (problem, sample) with ``correct``, ``tokens``, ``thinking`` and the ``text``.
    ``temperature=0`` decodes greedily."""
    from workbench.datasets import jsonl_bench

    prompts = [jsonl_bench.format_prompt(item, tokenizer) for item in items]
    greedy = sampling.temperature <= 0
    out = generate(
        model, tokenizer, prompts, max_new_tokens=max_new_tokens, do_sample=not greedy,
        temperature=max(sampling.temperature, 1e-5), top_p=sampling.top_p,
        num_return_sequences=1 if greedy else sampling.samples,
        batch_size=max(1, sampling.batch_size // max(sampling.samples, 1)), seed=seed, progress=progress,
    )
    per = 1 if greedy else sampling.samples
    rows = []
    for i, (text, n_tok) in enumerate(zip(out.texts, out.n_tokens)):
        item = items[i // per]
        value = jsonl_bench.extract_number(text)
        rows.append({
            "problem": item.id, "sample": i % per, "correct": jsonl_bench.is_correct(item, text), "tokens": n_tok,
            "thinking": "<think>" in text or "</think>" in text, "rechecks": 0, "answered": value is not None,
            "gold": item.gold, "text": text,
        })
    return pd.DataFrame(rows)


def evaluate_benchmark(
    model, tokenizer, bench: str = "arithmetic", n: int = 200, samples: int = 1, temperature: float = 0.6,
    top_p: float = 0.95, max_new_tokens: int = 512, seed: int = 0, progress: Progress | None = None,
    layout="auto",
) -> tuple[dict, pd.DataFrame]:
    """Evaluate one model on ``bench`` (``"arithmetic"`` or a GSM8K-style jsonl path read with ``layout``,
    a ``jsonl_bench.LAYOUTS`` name or ``make_layout`` result); returns the summary (accuracy with a 95%
    bootstrap interval over problems, tokens, thinking share) and the rows."""
    from workbench.metrics import bootstrap_ci

    sampling = Sampling(samples=samples, temperature=temperature, top_p=top_p, batch_size=256)
    if bench == "arithmetic":
        if temperature <= 0:
            raise WorkbenchError("The arithmetic world is evaluated by sampling; use --temperature > 0 (e.g. 0.6).")
        frame = evaluate_arithmetic(model, tokenizer, world.make_problems(n, seed * 100 + 9), sampling, seed=seed,
                                    progress=progress)
        name = "arithmetic (1-6 ops)"
    else:
        from workbench.datasets.jsonl_bench import load_jsonl_bench

        items = load_jsonl_bench(bench, limit=n, layout=layout)
        frame = evaluate_jsonl(model, tokenizer, items, sampling, max_new_tokens=max_new_tokens, seed=seed,
                               progress=progress)
        name = str(bench)
    per_problem = frame.groupby("problem")["correct"].mean().to_numpy()
    low, high = bootstrap_ci(per_problem, seed=seed)
    summary = {"bench": name, **summarize(frame), "accuracy_low": low, "accuracy_high": high,
               "samples": samples, "temperature": temperature, "top_p": top_p}
    return summary, frame
