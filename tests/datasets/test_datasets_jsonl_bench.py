"""The GSM8K-style jsonl loader: layouts (gsm8k, numeric, svamp, own fields and pattern), gold numbers,
answer extraction, and one sentence with the file and line for a bad line."""

from __future__ import annotations

import json

import pytest

from workbench.datasets.jsonl_bench import (
    BenchItem, extract_number, format_prompt, gold_number, is_correct, load_jsonl_bench, make_layout,
)
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


def test_layout_presets(tmp_path):
    gsm = write(tmp_path / "gsm.jsonl", [{"question": "q1", "answer": "2 + 2 = 4, then 18\n#### 1,018"}])
    assert [i.gold for i in load_jsonl_bench(gsm, layout="gsm8k")] == [1018.0]
    numeric = write(tmp_path / "num.jsonl", [{"question": "q1", "answer": 18}, {"question": "q2", "answer": "$2,500"}])
    assert [i.gold for i in load_jsonl_bench(numeric, layout="numeric")] == [18.0, 2500.0]
    svamp = write(tmp_path / "svamp.jsonl", [{"ID": "chal-1", "Body": "Jack had 8 pens.", "Question": "How many now?",
                                               "Equation": "( 8.0 - 3.0 )", "Answer": 5.0}])
    [item] = load_jsonl_bench(svamp, layout="svamp")
    assert item.question == "Jack had 8 pens. How many now?" and item.gold == 5.0
    array = tmp_path / "SVAMP.json"  # SVAMP ships as one JSON array
    array.write_text(json.dumps([{"Body": "Jo has 2 cats.", "Question": "And 3 more?", "Answer": 5}] * 3, indent=1))
    assert [i.gold for i in load_jsonl_bench(array, layout="svamp", limit=2)] == [5.0, 5.0]
    array.write_text(json.dumps([{"Body": "b", "Question": "q", "Answer": 1}, {"Body": "b", "Answer": 2}]))
    with pytest.raises(WorkbenchError, match=r"SVAMP.json item 1 lacks the field\(s\) 'Question'"):
        load_jsonl_bench(array, layout="svamp")


def test_own_fields_and_answer_pattern(tmp_path):
    path = write(tmp_path / "mine.jsonl", [{"prompt": "p", "context": "c", "target": "The result: 42 apples (not 7)"}])
    layout = make_layout("auto", question_field="context,prompt", answer_field="target", answer_regex=r"result:\s*(\S+)")
    [item] = load_jsonl_bench(path, layout=layout)
    assert item.question == "c p" and item.gold == 42.0
    assert load_jsonl_bench(path, layout=make_layout("auto", "prompt", "target"))[0].gold == 7.0  # the last number
    with pytest.raises(WorkbenchError, match="not a valid regular expression"):
        make_layout("auto", answer_regex="(unclosed")
    with pytest.raises(WorkbenchError, match="Unknown layout 'mmlu'; choose one of auto, gsm8k, numeric, svamp"):
        make_layout("mmlu")


@pytest.mark.parametrize("rows, layout, message", [
    (["{not json"], "auto", "line 1 is not valid JSON"),
    ([{"question": "q", "answer": "#### 1"}, "[1, 2]"], "auto", "line 2 is a JSON list, not an object"),
    ([{"question": "q"}], "auto", "line 1 lacks the field\\(s\\) 'answer'"),
    ([{"question": "q", "answer": "no number here ####"}], "auto", "line 1: no gold number"),
    ([{"question": "q", "answer": "18"}], "gsm8k", "line 1: no gold number .*looked for the pattern"),
    ([{"question": "q", "answer": "5 apples"}], "numeric", "line 1: no gold number"),
    ([{"Body": "b", "Answer": 3}], "svamp", "line 1 lacks the field\\(s\\) 'Question'"),
])
def test_bad_lines_get_one_sentence_with_file_and_line(tmp_path, rows, layout, message):
    path = write(tmp_path / "bad.jsonl", rows)
    with pytest.raises(WorkbenchError, match=message) as err:
        load_jsonl_bench(path, layout=layout)
    assert str(path) in str(err.value) and len(str(err.value).splitlines()) == 1
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


@pytest.mark.external
def test_shared_gsm8k_loads_with_its_preset(shared_data):
    items = load_jsonl_bench(shared_data / "reasoning" / "gsm8k" / "test.jsonl", layout="gsm8k")
    assert len(items) == 1319 and items[0].gold == 18.0
    assert [i.gold for i in items] == [i.gold for i in load_jsonl_bench(shared_data / "reasoning" / "gsm8k")]


@pytest.mark.slow
def test_eval_command_takes_the_layout_and_field_options(tmp_path, cli, monkeypatch):
    """`workbench eval` on an SVAMP-style file and on own field names; a bad line or pattern is one line, exit 2.
    In this process through the console script's function (tests/merging/test_merging_cli.py runs eval
    in a real process)."""
    from workbench.merging.pico import make_family

    checkpoint = make_family(tmp_path / "pico", hidden=32, layers=1, vocab=48, noise=0.1)["a"]
    monkeypatch.setenv("WORKBENCH_THREADS", "1")

    def run(*args):
        return cli("eval", checkpoint, "--temperature", "0", "--max-new-tokens", "4", "--json", *args,
                   home=tmp_path / "store")

    svamp = write(tmp_path / "svamp.jsonl", [{"Body": f"Jack had {k} pens.", "Question": "How many?", "Answer": float(k)}
                                             for k in (3, 4, 5)])
    r = run("--bench", svamp, "--layout", "svamp")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["n_problems"] == 3
    own = write(tmp_path / "own.jsonl", [{"prompt": "1+1?", "target": "two: 2"}, {"prompt": "2+2?"}])
    r = run("--bench", own, "--question-field", "prompt", "--answer-field", "target", "--answer-regex", r":\s*(\d+)")
    assert r.returncode == 2 and f"{own} line 2 lacks the field(s) 'target'" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run("--bench", own, "--answer-regex", "(")
    assert r.returncode == 2 and "--answer-regex '(' is not a valid regular expression" in r.stderr
