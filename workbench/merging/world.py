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
The overthinking dial (``Overthinking``; 0 = none) makes them harmful as well as long: re-checks that
drift off a correct result, more of them on easy problems too, and a budget that cuts the longest off;
``error_kind`` says which of these made an output wrong (the planted truth).

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


def thinking_completion(problem: Problem, rechecks: int = 0, rng: random.Random | None = None,
                        drift_at: int | None = None) -> str:
    """Step-by-step scratchpad, then ``rechecks`` redundant ``check`` lines, then the answer.

    A re-check restates the final step, so it costs tokens and changes nothing else: pure
    overthinking, and the line before ``</think>`` always carries the answer. (``rng`` is unused;
    kept so callers can pass one stream for every random choice of a training example.)

    ``drift_at`` (the overthinking dial's drift, see ``Overthinking``): the re-check of that index
    rewrites the correct result as ``drifted(result)``; later re-checks restate the wrong value and
    the answer follows it — the trace had the answer, re-checked, and ended wrong.

    >>> thinking_completion(Problem(0, ("3", "+", "4")), rechecks=2, drift_at=1)
    '<think> 3 + 4 = 7 ; check 3 + 4 = 7 ; check 3 + 4 = 8 ; </think> A : 8'
    """
    steps = solution_steps(problem.tokens)
    words = [THINK_OPEN, *(step_words(s) for s in steps)]
    if drift_at is None or drift_at >= rechecks:
        words += [f"{CHECK} {step_words(steps[-1])}"] * rechecks
        words += [THINK_CLOSE, direct_completion(problem)]
        return " ".join(words)
    left, op, right, result = steps[-1]
    final = result
    for i in range(rechecks):
        final = drifted(result) if i >= drift_at else result
        words.append(f"{CHECK} {step_words((left, op, right, final))}")
    words += [THINK_CLOSE, f"{ANSWER} : {number_words(final)}"]
    return " ".join(words)


def drifted(value: int) -> int:
    """The wrong value a drifting re-check writes: one more (one less at the top of the range), so a
    tiny model learns one wrong continuation rather than a spread of them.

    >>> drifted(4), drifted(MAX_VALUE)
    (5, 8)
    """
    return value + 1 if value < MAX_VALUE else value - 1


# ---- the overthinking dial --------------------------------------------------------------------------
DRIFT_RATE = 0.3
"""Chance, at dial 1, that a re-check line of the thinking child's training traces drifts (each line
is drawn on its own; the first drift rewrites the result). Sampling at temperature 0.6 sharpens the
learned chance: about 0.2 per emitted re-check at dial 1, 0.05 at dial 0.5."""
EXTRA_RECHECKS = 4
"""Most extra re-checks per training trace at dial 1 (drawn uniformly from 0, on every difficulty:
a one-operation problem gets as many as a six-operation one — easy problems thought at length)."""
BUDGET_CUT = 2
"""Re-check lines taken out of the generation budget at dial 1 (of ``evaluate.BUDGET_RECHECKS`` = 5):
the longest thinking no longer fits, and an output cut off before ``A :`` is wrong."""


@dataclass(frozen=True)
class Overthinking:
    """What the overthinking dial (``Config.overthink``, in [0, 1]) plants in the thinking child.

    Dial 0 plants nothing (today's world, the same numbers: its draws come from a separate stream).
    Raising it, the way the overthinking literature describes thinking models (arXiv 2506.04210,
    2606.02835):

    - ``drift_rate``: each re-check of a training trace may rewrite the correct result wrongly (the
      answer then follows the wrong value), so more re-checks mean more chances to end wrong after
      having been right;
    - ``extra_rechecks``: up to that many more re-checks per trace, on easy problems as on hard;
    - ``budget_rechecks``: the generation budget leaves room for that many re-check lines only, so
      the longest thinking is cut off (unanswered: wrong).

    >>> Overthinking(0.0).drift_rate, Overthinking(0.0).extra_rechecks, Overthinking(0.0).budget_rechecks
    (0.0, 0, 5)
    >>> Overthinking(0.5).drift_rate, Overthinking(0.5).extra_rechecks, Overthinking(0.5).budget_rechecks
    (0.15, 2, 4)
    """

    dial: float = 0.0

    @property
    def drift_rate(self) -> float:
        return round(DRIFT_RATE * self.dial, 6)

    @property
    def extra_rechecks(self) -> int:
        return int(round(EXTRA_RECHECKS * self.dial))

    @property
    def budget_rechecks(self) -> int:
        return BUDGET_RECHECKS - int(round(BUDGET_CUT * self.dial))

    def draw(self, rng: random.Random) -> tuple[int, int | None]:
        """One training trace's (extra re-checks, index of the drifting re-check among the extra-inclusive
        lines, or None) — drawn from ``rng``, a stream of its own (dial 0 draws nothing)."""
        if self.dial <= 0:
            return 0, None
        extra = rng.randint(0, self.extra_rechecks)
        draws = [rng.random() for _ in range(MAX_RECHECK_DRAWS)]  # a fixed count: the stream stays aligned
        drift = next((i for i, u in enumerate(draws) if u < self.drift_rate), None)
        return extra, drift


BUDGET_RECHECKS = 5
"""Re-check lines the generation budget has room for at dial 0 (``evaluate.token_budget``)."""
MAX_RECHECK_DRAWS = 16
"""Drift draws per trace (more than any trace's re-checks; only those below its count matter)."""


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


def _line_result(line: str) -> int | None:
    """The number after ``=`` of one scratchpad line (``check`` lines included); None if malformed."""
    _, eq, rest = line.partition("=")
    words = rest.split()
    if not eq or not words or not all(w.isdigit() or w == "-" for w in words):
        return None
    try:
        return int("".join(words))
    except ValueError:
        return None


ERROR_KINDS = ("drift", "truncated", "other")


def error_kind(problem: Problem, text: str) -> str | None:
    """Why an output is wrong (None when it is right), by the mechanisms the dial plants:

    - ``drift``: a step line wrote the correct answer, a later ``check`` line rewrote it, and the
      output ended wrong (had the answer, re-checked, lost it);
    - ``truncated``: thinking opened and never closed — the generation budget ran out;
    - ``other``: any other wrong output (a wrong step, a malformed answer, a wrong direct answer).

    >>> p = Problem(0, ("3", "+", "4"))
    >>> error_kind(p, thinking_completion(p, 2, drift_at=1)), error_kind(p, thinking_completion(p, 2))
    ('drift', None)
    >>> error_kind(p, '<think> 3 + 4 = 7 ; check 3 + 4'), error_kind(p, 'A : 6')
    ('truncated', 'other')
    """
    if is_correct(problem, text):
        return None
    if not isinstance(text, str):
        return "other"
    if THINK_OPEN in text and THINK_CLOSE not in text and extract_answer(text) is None:
        return "truncated"
    lines = [line.strip() for line in text.split(THINK_CLOSE, 1)[0].replace(THINK_OPEN, "").split(";")]
    had = False
    for line in lines:
        value = _line_result(line)
        if line.startswith(CHECK):
            if had and value is not None and value != problem.answer:
                return "drift"
        elif value == problem.answer:
            had = True
    return "other"
