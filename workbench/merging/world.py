"""The arithmetic world: seeded problems with an exact verifier, and the two answer styles.

A problem is an expression over single-digit operands with 1-6 operations (``+``, ``-``, ``*``;
multiplication binds first, two ``*`` never follow each other, and every intermediate value lies in
0..``max_value``: 0..9 by default, so each step is a one-digit fact). The answer is never computable
from the last operation alone: a direct answer must compose every step in one forward pass, which a
tiny model manages for one or two operations and not for six — the scratchpad manages all.
Its difficulty is the number of operations. Text is word-level: every digit, operator and marker is
one token, so ``12`` is written ``1 2`` and ``-6`` is written ``- 6``.

Two answer styles share one prompt:

- direct:   ``Q : 3 + 2 * 3 = ?`` -> ``A : 9``
- thinking: ``Q : 3 + 2 * 3 = ?`` -> ``<think> 2 * 3 = 6 ; 3 + 6 = 9 ; check 3 + 6 = 9 ; </think> A : 9``

The thinking style works one operation per step (products first, then left to right) and may end
with redundant ``check`` lines that restate the final step. Only the thinking child is trained on
those re-checks (the shared base never sees them), so they are overthinking a merge can shave off.

``extract_answer`` reads the number after the last ``A :`` and returns None for anything malformed;
``is_correct`` is the exact verifier (a malformed output is wrong, never an error).

>>> p = Problem(id=0, tokens=("3", "+", "2", "*", "3"))
>>> p.answer, p.n_ops, prompt(p)
(9, 2, 'Q : 3 + 2 * 3 = ?')
>>> direct_completion(p)
'A : 9'
>>> thinking_completion(p, rechecks=1)
'<think> 2 * 3 = 6 ; 3 + 6 = 9 ; check 3 + 6 = 9 ; </think> A : 9'
>>> extract_answer('<think> 4 * 5 = 2 0 ; </think> A : 2 3'), extract_answer('A : 2 x'), extract_answer('')
(23, None, None)
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

OPS = ("+", "-", "*")
THINK_OPEN, THINK_CLOSE, CHECK, ANSWER = "<think>", "</think>", "check", "A"
VOCAB = (*"0123456789", *OPS, "=", "?", "Q", ":", ANSWER, ";", THINK_OPEN, THINK_CLOSE, CHECK)
"""Every word the world writes (the tokenizer adds its four specials in front)."""
MAX_OPS = 6
MAX_VALUE = 9
"""Largest intermediate value by default (with no negatives: every number is one digit)."""


@dataclass(frozen=True)
class Problem:
    """One expression, as a tuple of single-character tokens (digits and operators alternating)."""

    id: int
    tokens: tuple[str, ...]

    @property
    def n_ops(self) -> int:
        """The difficulty: number of operations."""
        return len(self.tokens) // 2

    @property
    def answer(self) -> int:
        return evaluate(self.tokens)

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


# ---- generation -----------------------------------------------------------------------------------
def random_expression(n_ops: int, rng: random.Random) -> tuple[str, ...]:
    """An expression with ``n_ops`` operations over digits 0-9; never two ``*`` in a row."""
    tokens = [str(rng.randrange(10))]
    previous = ""
    for _ in range(n_ops):
        op = rng.choice(("+", "-") if previous == "*" else OPS)
        tokens += [op, str(rng.randrange(10))]
        previous = op
    return tuple(tokens)


def make_problems(
    n: int, seed: int, difficulties: Sequence[int] = range(1, MAX_OPS + 1), max_value: int = MAX_VALUE,
) -> list[Problem]:
    """``n`` seeded problems, difficulties cycling through ``difficulties`` (balanced counts).

    Every intermediate value lies in 0..``max_value`` (expressions that leave that range are redrawn);
    with the default 9 every scratchpad step is a one-digit fact a tiny model learns in a CPU-minute.

    >>> [p.n_ops for p in make_problems(4, seed=0, difficulties=(1, 3))]
    [1, 3, 1, 3]
    """
    rng = random.Random(seed)
    levels = list(difficulties)
    problems = []
    for i in range(n):
        while True:
            tokens = random_expression(levels[i % len(levels)], rng)
            if all(0 <= step[3] <= max_value for step in solution_steps(tokens)):
                break
        problems.append(Problem(i, tokens))
    return problems


# ---- exact arithmetic -----------------------------------------------------------------------------
def solution_steps(tokens: Sequence[str]) -> list[tuple[int, str, int, int]]:
    """The reduction the thinking style writes: ``(left, op, right, result)`` per operation.

    Products first (left to right), then additions and subtractions left to right.

    >>> solution_steps(("3", "+", "4", "*", "5", "-", "2"))
    [(4, '*', 5, 20), (3, '+', 20, 23), (23, '-', 2, 21)]
    """
    values = [int(t) for t in tokens[0::2]]
    ops = list(tokens[1::2])
    steps: list[tuple[int, str, int, int]] = []
    terms, signs = [values[0]], []
    for op, value in zip(ops, values[1:]):
        if op == "*":
            product = terms[-1] * value
            steps.append((terms[-1], "*", value, product))
            terms[-1] = product
        else:
            terms.append(value)
            signs.append(op)
    total = terms[0]
    for op, term in zip(signs, terms[1:]):
        result = total + term if op == "+" else total - term
        steps.append((total, op, term, result))
        total = result
    return steps


def evaluate(tokens: Sequence[str]) -> int:
    """Exact value of an expression (``*`` before ``+``/``-``)."""
    steps = solution_steps(tokens)
    return steps[-1][3] if steps else int(tokens[0])


# ---- text -----------------------------------------------------------------------------------------
def number_words(value: int) -> str:
    """``-12`` -> ``'- 1 2'`` (one token per digit, a leading ``-`` for negatives)."""
    digits = " ".join(str(abs(value)))
    return f"- {digits}" if value < 0 else digits


def prompt(problem: Problem) -> str:
    return f"Q : {problem.text} = ?"


def direct_completion(problem: Problem) -> str:
    return f"{ANSWER} : {number_words(problem.answer)}"


def step_words(step: tuple[int, str, int, int]) -> str:
    left, op, right, result = step
    return f"{number_words(left)} {op} {number_words(right)} = {number_words(result)} ;"


def thinking_completion(problem: Problem, rechecks: int = 0, rng: random.Random | None = None) -> str:
    """Step-by-step scratchpad, then ``rechecks`` redundant ``check`` lines, then the answer.

    A re-check restates the final step, so it costs tokens and changes nothing else: pure
    overthinking, and the line before ``</think>`` always carries the answer. (``rng`` is unused;
    kept so callers can pass one stream for every random choice of a training example.)
    """
    steps = solution_steps(problem.tokens)
    words = [THINK_OPEN, *(step_words(s) for s in steps)]
    words += [f"{CHECK} {step_words(steps[-1])}"] * rechecks
    words += [THINK_CLOSE, direct_completion(problem)]
    return " ".join(words)


# ---- reading outputs ------------------------------------------------------------------------------
_ANSWER_RE = re.compile(r"(?:^|\s)A\s*:\s*(-?)\s*(\d(?:\s*\d)*)\s*$")


def extract_answer(text: str) -> int | None:
    """The integer after the last ``A :`` that ends the output; None when missing or malformed.

    Never raises. Digits may be space-separated (our tokenizer) or written together (a real model).

    >>> extract_answer('A : - 4 2'), extract_answer('A: 17'), extract_answer('A : 4 2 ;'), extract_answer(None)
    (-42, 17, None, None)
    """
    if not isinstance(text, str):
        return None
    match = _ANSWER_RE.search(text.rsplit(THINK_CLOSE, 1)[-1])
    if not match:
        return None
    return int(match.group(1) + re.sub(r"\s", "", match.group(2)))


def is_correct(problem: Problem, text: str) -> bool:
    """The exact verifier: the extracted answer equals the true value."""
    return extract_answer(text) == problem.answer


def is_thinking(text: str) -> bool:
    """Whether an output opened a thinking block."""
    return isinstance(text, str) and text.lstrip().startswith(THINK_OPEN)


def count_rechecks(text: str) -> int:
    """Number of redundant ``check`` steps in an output."""
    return text.split().count(CHECK) if isinstance(text, str) else 0
