"""GSM8K-style jsonl reasoning benchmarks: load, prompt, score.

One JSON object per line. Which fields hold the question and the answer, and where the gold number
sits in the answer, is a *layout* (``LAYOUTS``), each part overridable (``workbench eval
--question-field/--answer-field/--answer-regex``):

- ``gsm8k``    ``{"question": "...", "answer": "worked solution ... #### 18"}`` (openai/grade-school-math):
               the gold number follows the last ``####``;
- ``numeric``  ``{"question": "...", "answer": 18}``: the answer is the number itself;
- ``svamp``    ``{"Body": "...", "Question": "...", "Answer": 18.0}``: Body and Question joined;
- ``auto``     (default) ``question``/``answer`` or ``problem``/``solution``; the number after the last
               ``####``, else the answer's last number.

Scoring is exact match on the final number after normalisation (commas, ``$``, trailing ``.``
removed; compared as floats). A line that is not a JSON object, lacks a field or has no gold number
gets one sentence naming the file and the line.

>>> gold_number("She makes 9 * 2 = $18.\\n#### 1,018")
1018.0
>>> extract_number("... so the answer is 18."), extract_number("#### 7 apples"), extract_number("none")
(18.0, 7.0, None)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from workbench.datasets.text import decode_line, read_json
from workbench.errors import WorkbenchError

_NUMBER = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class BenchItem:
    id: int
    question: str
    solution: str
    gold: float


def _to_float(token: str) -> float | None:
    cleaned = token.replace(",", "").replace("$", "").rstrip(".")
    try:
        return float(cleaned)
    except ValueError:
        return None


def gold_number(answer: str) -> float | None:
    """The gold number of a GSM8K answer field (after ``####``, else the last number)."""
    text = str(answer)
    if "####" in text:
        text = text.rsplit("####", 1)[1]
        found = _NUMBER.findall(text)
        return _to_float(found[0]) if found else None
    found = _NUMBER.findall(text)
    return _to_float(found[-1]) if found else None


def extract_number(output: str) -> float | None:
    """A model's final answer: the number after the last ``####``, else after the last
    ``answer is``/``A :``, else the last number in the text; None when there is none (never raises)."""
    if not isinstance(output, str):
        return None
    text = output.rsplit("</think>", 1)[-1]
    for marker in ("####", "answer is", "Answer:", "A :", "A:"):
        if marker in text:
            found = _NUMBER.findall(text.rsplit(marker, 1)[1])
            if found:
                return _to_float(found[0])
    found = _NUMBER.findall(text)
    return _to_float(found[-1]) if found else None


def is_correct(item: BenchItem, output: str) -> bool:
    value = extract_number(output)
    return value is not None and abs(value - item.gold) < 1e-6 * max(1.0, abs(item.gold))


@dataclass(frozen=True)
class Layout:
    """Where a line keeps its question and its gold answer."""

    question: tuple[str, ...]
    """Field(s) of the question; several are joined with a space (SVAMP's Body + Question)."""
    answer: str
    """Field of the answer."""
    answer_regex: str = ""
    """Where the gold number sits in the answer: a regex whose first group (or whole match) holds it;
    empty = after the last ``####``, else the answer's last number."""
    fallback: tuple[tuple[str, ...], str] | None = None
    """Field names tried when ``question``/``answer`` are absent (``auto``: problem/solution)."""


LAYOUTS: dict[str, Layout] = {
    "auto": Layout(("question",), "answer", fallback=(("problem",), "solution")),
    "gsm8k": Layout(("question",), "answer", r"####\s*([^\n]*)$"),
    "numeric": Layout(("question",), "answer", r"\A\s*(\S+)\s*\Z"),
    "svamp": Layout(("Body", "Question"), "Answer", r"\A\s*(\S+)\s*\Z"),
}


def make_layout(layout: str = "auto", question_field: str | None = None, answer_field: str | None = None,
                answer_regex: str | None = None) -> Layout:
    """A preset with the given parts replaced (``question_field`` may list several fields: ``Body,Question``)."""
    if layout not in LAYOUTS:
        raise WorkbenchError(f"Unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}.")
    chosen = LAYOUTS[layout]
    if question_field:
        fields = tuple(f.strip() for f in question_field.split(",") if f.strip())
        if not fields:
            raise WorkbenchError("--question-field names no field; pass e.g. --question-field question.")
        chosen = replace(chosen, question=fields, fallback=None)
    if answer_field:
        chosen = replace(chosen, answer=answer_field.strip(), fallback=None)
    if answer_regex is not None:
        try:
            re.compile(answer_regex)
        except re.error as err:
            raise WorkbenchError(f"--answer-regex {answer_regex!r} is not a valid regular expression ({err}).") from err
        chosen = replace(chosen, answer_regex=answer_regex)
    return chosen


def _describe(layout: Layout) -> str:
    return f"question field(s) {'+'.join(layout.question)}, answer field {layout.answer}"


def _gold(answer, layout: Layout) -> float | None:
    if not layout.answer_regex:
        return gold_number(answer)
    match = re.search(layout.answer_regex, str(answer), flags=re.MULTILINE | re.DOTALL)
    if match is None:
        return None
    found = _NUMBER.findall(match.group(1) if match.re.groups else match.group(0))
    return _to_float(found[0]) if found else None


def parse_line(row, layout: Layout, path: Path, where: str) -> tuple[str, str, float]:
    """``(question, answer, gold)`` of one decoded JSON line (``where``: "line 3"); one sentence when it does
    not fit ``layout``."""
    if not isinstance(row, dict):
        raise WorkbenchError(f"{path} {where} is a JSON {type(row).__name__}, not an object with "
                             f"{_describe(layout)}.")
    question_fields, answer_field = layout.question, layout.answer
    if layout.fallback and not all(f in row for f in (*question_fields, answer_field)) \
            and all(f in row for f in (*layout.fallback[0], layout.fallback[1])):
        question_fields, answer_field = layout.fallback
    missing = [f for f in (*question_fields, answer_field) if f not in row or row[f] is None]
    if missing:
        raise WorkbenchError(f"{path} {where} lacks the field(s) {', '.join(map(repr, missing))} "
                             f"({_describe(layout)}); pick the layout or set --question-field / --answer-field.")
    question = " ".join(str(row[f]).strip() for f in question_fields)
    answer = str(row[answer_field])
    gold = _gold(answer, layout)
    if gold is None:
        pattern = f"the pattern {layout.answer_regex!r}" if layout.answer_regex else "'#### <number>' or any number"
        raise WorkbenchError(f"{path} {where}: no gold number in the answer {answer[-60:]!r} (looked for {pattern}); "
                             "pick another --layout or set --answer-regex.")
    return question, answer, gold


def _rows(path: Path):
    """``(where, decoded row)`` of a .jsonl file (one object per line) or a .json file (one array, as SVAMP.json)."""
    if path.suffix == ".json":
        rows = read_json(path, "JSON benchmark", list, "a list of problems")
        yield from ((f"item {k}", row) for k, row in enumerate(rows))
        return
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, 1):
            line = decode_line(raw, path, line_no, "jsonl benchmark")
            if not line.strip():
                continue
            try:
                yield f"line {line_no}", json.loads(line)
            except json.JSONDecodeError as err:
                raise WorkbenchError(f"{path} line {line_no} is not valid JSON ({err.msg}); fix or remove that line.") from err


def load_jsonl_bench(path: str | Path, limit: int | None = None, layout: str | Layout = "auto") -> list[BenchItem]:
    """Read a jsonl benchmark (or a folder holding ``test.jsonl`` / one ``.jsonl``; a ``.json`` array file
    too) laid out as ``layout`` (a ``LAYOUTS`` name or a ``make_layout`` result); one clear error per bad line."""
    layout = make_layout(layout) if isinstance(layout, str) else layout
    path = Path(path).expanduser()
    if path.is_dir():
        candidates = [path / "test.jsonl", *sorted(path.glob("*.jsonl"))]
        path = next((p for p in candidates if p.exists()), path / "test.jsonl")
    if not path.is_file():
        raise WorkbenchError(f"No benchmark file at {path}; pass a .jsonl file (or a folder with test.jsonl).")
    items: list[BenchItem] = []
    for where, row in _rows(path):
        items.append(BenchItem(len(items), *parse_line(row, layout, path, where)))
        if limit is not None and len(items) >= limit:
            break
    if not items:
        raise WorkbenchError(f"{path} holds no problems.")
    return items


def format_prompt(item: BenchItem, tokenizer=None) -> str:
    """The question in the model's chat template when it has one, else ``Question: ...\\nAnswer:``."""
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        messages = [{"role": "user", "content": item.question + "\nGive the final answer after '####'."}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return f"Question: {item.question}\nAnswer:"
