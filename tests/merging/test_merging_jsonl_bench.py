"""The GSM8K-style jsonl loader: gold numbers, answer extraction, clear errors."""

from __future__ import annotations

import json

import pytest

from workbench.datasets.jsonl_bench import BenchItem, extract_number, format_prompt, gold_number, is_correct, load_jsonl_bench
from workbench.errors import WorkbenchError


def write(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_loads_gsm8k_format_with_commas_and_limits(tmp_path):
    path = write(tmp_path / "t.jsonl", [
        {"question": "q1", "answer": "a <<1+1=2>>2\n#### 1,200"},
        {"question": "q2", "answer": "#### -3.5"},
        {"problem": "q3", "solution": "so 4"},
    ])
    items = load_jsonl_bench(path)
    assert [i.gold for i in items] == [1200.0, -3.5, 4.0]
    assert len(load_jsonl_bench(tmp_path, limit=2)) == 2  # a folder with one .jsonl works too


@pytest.mark.parametrize("rows, message", [
    (["{not json"], "line 1 is not valid JSON"),
    ([{"question": "q"}], "lacks a 'question' and an 'answer'"),
    ([{"question": "q", "answer": "no number here ####"}], "no gold number"),
])
def test_bad_files_get_one_clear_error(tmp_path, rows, message):
    with pytest.raises(WorkbenchError, match=message):
        load_jsonl_bench(write(tmp_path / "bad.jsonl", rows))
    with pytest.raises(WorkbenchError, match="No benchmark file"):
        load_jsonl_bench(tmp_path / "absent.jsonl")


def test_answer_extraction_is_tolerant():
    item = BenchItem(0, "q", "#### 42", 42.0)
    for text in ["#### 42", "The answer is $42.", "<think>maybe 7</think> so 42", "A: 42", "42.0"]:
        assert is_correct(item, text), text
    for text in ["", "no idea", "#### 41", None]:
        assert not is_correct(item, text)
    assert extract_number("1,000 and then #### 2,500") == 2500.0
    assert gold_number("#### 18") == 18.0


def test_prompt_uses_the_chat_template_when_there_is_one():
    item = BenchItem(0, "How many?", "#### 1", 1.0)
    assert format_prompt(item) == "Question: How many?\nAnswer:"

    class Chat:
        chat_template = "x"

        def apply_chat_template(self, messages, tokenize, add_generation_prompt):
            return "<user>" + messages[0]["content"] + "<assistant>"

    assert format_prompt(item, Chat()).startswith("<user>How many?")
