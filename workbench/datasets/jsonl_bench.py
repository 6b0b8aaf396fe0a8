"""GSM8K-style jsonl reasoning benchmarks: load, prompt, score.

Format (one JSON object per line, as in openai/grade-school-math):
``{"question": "...", "answer": "worked solution ... #### 18"}`` — the gold answer is the number after
the last ``####``. Also accepted: an ``answer`` that is just a number, and ``problem``/``solution``
keys. Scoring is exact match on the final number after normalisation (commas, ``$``, trailing ``.``
removed; compared as floats).

>>> gold_number("She makes 9 * 2 = $18.\\n#### 1,018")
1018.0
>>> extract_number("... so the answer is 18."), extract_number("#### 7 apples"), extract_number("none")
(18.0, 7.0, None)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

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


def load_jsonl_bench(path: str | Path, limit: int | None = None) -> list[BenchItem]:
    """Read a GSM8K-style jsonl file (or a folder holding ``test.jsonl``); one clear error per problem."""
    path = Path(path).expanduser()
    if path.is_dir():
        candidates = [path / "test.jsonl", *sorted(path.glob("*.jsonl"))]
        path = next((p for p in candidates if p.exists()), path / "test.jsonl")
    if not path.exists():
        raise WorkbenchError(f"No benchmark file at {path}; pass a .jsonl file (or a folder with test.jsonl).")
    items: list[BenchItem] = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise WorkbenchError(f"{path} line {line_no} is not valid JSON ({err.msg}); fix or remove that line.") from err
            question = row.get("question", row.get("problem"))
            answer = row.get("answer", row.get("solution"))
            if question is None or answer is None:
                raise WorkbenchError(
                    f"{path} line {line_no} lacks a 'question' and an 'answer' field; each line must be "
                    '{"question": ..., "answer": "... #### <number>"}.'
                )
            gold = gold_number(answer)
            if gold is None:
                raise WorkbenchError(f"{path} line {line_no}: no gold number in the answer (expected '#### <number>').")
            items.append(BenchItem(len(items), str(question), str(answer), gold))
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
