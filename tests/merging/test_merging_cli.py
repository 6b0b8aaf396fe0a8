"""`workbench merge` and `workbench eval` on pico checkpoints made here: one real process per command (the
console script as a user runs it), every other row in this process through the same entry point (the
``cli`` fixture: the real exit codes and stderr without an interpreter per row)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workbench.datasets.jsonl_bench import load_jsonl_bench
from workbench.lm import load_causal_lm
from workbench.merging.evaluate import Sampling, evaluate_jsonl
from workbench.merging.pico import make_family

pytestmark = pytest.mark.slow


def workbench(*args, home):
    """``workbench ARGS`` in a new process."""
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "workbench.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture
def cli(cli, monkeypatch):
    """conftest's in-process ``cli`` with one torch thread, as the real processes here run."""
    monkeypatch.setenv("WORKBENCH_THREADS", "1")
    return cli


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    return make_family(tmp_path_factory.mktemp("cli"), hidden=32, layers=2, vocab=48, noise=0.1)


@pytest.fixture
def bench_file(tmp_path):
    path = tmp_path / "mini.jsonl"
    rows = [{"question": "What is 2 plus 3?", "answer": "2+3=<<2+3=5>>5\n#### 5"},
            {"question": "Ten minus four?", "answer": "#### 6"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_merge_writes_a_loadable_checkpoint(family, tmp_path):
    r = workbench("merge", "--a", family["a"], "--b", family["b"], "--method", "slerp", "--strength", "0.25",
                  "--out", tmp_path / "merged", home=tmp_path)  # the real process
    assert r.returncode == 0, r.stderr
    assert "merged slerp (strength 0.25 = weight of --a)" in r.stdout
    model, _ = load_causal_lm(tmp_path / "merged")
    assert sum(p.numel() for p in model.parameters()) > 0


@pytest.mark.parametrize("extra, message", [
    (["--strength", "1.5"], "strength=1.5 is outside [0, 1]"),
    (["--method", "ties", "--density", "0.5"], "needs the shared base checkpoint; pass --base DIR"),
    (["--method", "blend"], "Unknown merge method 'blend'"),
])
def test_merge_errors_are_one_sentence(family, tmp_path, cli, extra, message):
    r = cli("merge", "--a", family["a"], "--b", family["b"], "--out", tmp_path / "o", *extra, home=tmp_path)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_merge_refuses_incompatible_checkpoints_and_existing_output(family, tmp_path, cli):
    other = make_family(tmp_path / "wide", hidden=48, layers=2, vocab=48)
    r = cli("merge", "--a", family["a"], "--b", other["a"], "--out", tmp_path / "o", home=tmp_path)
    assert r.returncode == 2 and "not one architecture" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    (tmp_path / "o").mkdir()
    r = cli("merge", "--a", family["a"], "--b", family["b"], "--out", tmp_path / "o", home=tmp_path)
    assert r.returncode == 2 and "already exists" in r.stderr


def test_eval_on_the_arithmetic_world_and_a_jsonl_benchmark(family, tmp_path, bench_file, cli):
    r = workbench("eval", family["a"], "--n", "12", home=tmp_path)  # the real process
    assert r.returncode == 0, r.stderr
    assert "accuracy" in r.stdout and "mean tokens" in r.stdout and "12 problems" in r.stdout
    out = tmp_path / "outputs.jsonl"
    r = cli("eval", family["a"], "--bench", bench_file, "--temperature", "0", "--max-new-tokens", "8", "--json",
            "--outputs", out, home=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["n_problems"] == 2 and 0 <= summary["accuracy"] <= 1 and summary["tokens"] <= 8
    assert len(out.read_text().splitlines()) == 2
    r = cli("eval", family["a"], "--bench", tmp_path / "nope.jsonl", home=tmp_path)
    assert r.returncode == 2 and "No benchmark file" in r.stderr


@pytest.mark.external
def test_real_gsm8k_file_loads_and_evaluates(shared_data, family):
    items = load_jsonl_bench(shared_data / "reasoning" / "gsm8k")
    assert len(items) == 1319 and items[0].gold == 18.0 and items[2].gold == 70000.0
    model, tok = load_causal_lm(family["a"])
    frame = evaluate_jsonl(model, tok, items[:4], Sampling(samples=2, temperature=0.6), max_new_tokens=6)
    assert len(frame) == 8 and set(frame["problem"]) == {0, 1, 2, 3}
    assert frame["tokens"].between(0, 6).all()
