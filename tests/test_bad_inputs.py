"""Hostile inputs against the real CLI entry point: every one gets one sentence and exit code 2.

One row per case (issue 11): crafted checkpoint indexes and symlinks for ``workbench merge``,
damaged weights for ``merge`` and ``eval``, a pickle payload, a read-only store folder, settings out
of range, datasets a method cannot load, and command-line usage errors. Every row asserts the same
things: exit code 2, exactly one line on stderr naming the problem, no traceback, and nothing new
or changed anywhere under the test's folder (the store, ``--out`` and the traversal's victim all
live there). Loader-level bad data (Beauty, Foursquare, MovieLens, jsonl files) is tested in
``tests/datasets/``.

The rows run in this process through ``workbench.cli.main`` (the console script's function), so
exit codes and stderr are the real ones and the table stays fast.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbench.merging.pico import make_family


@dataclass(frozen=True)
class Case:
    id: str
    prepare: Callable[[Path, dict[str, Path]], list[str]]
    """Writes the case's inputs under the folder and returns the command line (without ``workbench``)."""
    needles: tuple[str, ...]
    """Words the one line on stderr must contain (case-insensitive): the problem, named."""


# ---- inputs -----------------------------------------------------------------------------------------
def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _merge_args(a: Path, b: Path, out: Path, *extra: str) -> list[str]:
    return ["merge", "--a", str(a), "--b", str(b), "--out", str(out), *extra]


def _index(a: Path, file_name: str) -> None:
    """A shard index that sends every tensor of ``a`` to ``file_name``."""
    from safetensors import safe_open

    with safe_open(str(a / "model.safetensors"), framework="pt") as fh:
        keys = list(fh.keys())
    (a / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": {k: file_name for k in keys}}))


def index_traversal(tmp: Path, fam: dict[str, Path]) -> list[str]:
    a = _copy(fam["a"], tmp / "ckpt" / "a")
    (tmp / "victim").mkdir()
    shutil.copy(fam["a"] / "model.safetensors", tmp / "victim" / "model.safetensors")  # readable, so a merge runs
    _index(a, "../../victim/model.safetensors")  # relative to the output's staging folder: tmp/victim
    return _merge_args(a, fam["b"], tmp / "out" / "merged")


def index_absolute(tmp: Path, fam: dict[str, Path]) -> list[str]:
    a = _copy(fam["a"], tmp / "a")
    (tmp / "victim").mkdir()
    shutil.copy(fam["a"] / "model.safetensors", tmp / "victim" / "model.safetensors")
    _index(a, str(tmp / "victim" / "model.safetensors"))
    return _merge_args(a, fam["b"], tmp / "out")


def symlink_out(tmp: Path, fam: dict[str, Path]) -> list[str]:
    a = _copy(fam["a"], tmp / "a")
    (tmp / "secret.txt").write_text("not part of any checkpoint\n")
    (a / "notes.txt").symlink_to(tmp / "secret.txt")
    return _merge_args(a, fam["b"], tmp / "out")


def _damaged(tmp: Path, fam: dict[str, Path], how: str) -> Path:
    a = _copy(fam["a"], tmp / "a")
    weights = a / "model.safetensors"
    data = weights.read_bytes()
    noise = random.Random(0).randbytes(len(data))  # seeded, so a failure reproduces
    weights.write_bytes(data[: len(data) // 2] if how == "truncated" else noise)
    return a


def merge_truncated(tmp, fam):
    return _merge_args(_damaged(tmp, fam, "truncated"), fam["b"], tmp / "out")


def merge_random(tmp, fam):
    return _merge_args(_damaged(tmp, fam, "random"), fam["b"], tmp / "out")


def eval_truncated(tmp, fam):
    return ["eval", str(_damaged(tmp, fam, "truncated")), "--n", "2", "--device", "cpu"]


def eval_random(tmp, fam):
    return ["eval", str(_damaged(tmp, fam, "random")), "--n", "2", "--device", "cpu"]


def _bin_checkpoint(tmp: Path, fam: dict[str, Path], payload: bytes) -> Path:
    a = _copy(fam["a"], tmp / "a")
    (a / "model.safetensors").unlink()
    (a / "pytorch_model.bin").write_bytes(payload)
    return a


class _Payload:
    """Unpickling this creates a file: proof that arbitrary code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def eval_bin_random(tmp, fam):
    return ["eval", str(_bin_checkpoint(tmp, fam, random.Random(0).randbytes(4096))), "--n", "2", "--device", "cpu"]


def eval_bin_pickle(tmp, fam):
    payload = pickle.dumps({"model.embed_tokens.weight": _Payload(tmp / "PWNED")})
    return ["eval", str(_bin_checkpoint(tmp, fam, payload)), "--n", "2", "--device", "cpu"]


def readonly_store(tmp: Path, fam) -> list[str]:
    folder = tmp / "home" / "merging"
    folder.mkdir(parents=True)
    _make_readonly(folder)
    return ["build", "merging", "--profile", "smoke"]


def _make_readonly(folder: Path) -> None:
    """chmod for users; root ignores modes, so root sets the immutable flag (undone at teardown)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a folder read-only for root here (no chattr)")


def _release(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            if os.geteuid() == 0:
                subprocess.run(["chattr", "-i", str(path)], capture_output=True)
            path.chmod(0o755)


# ---- issue 24: outputs never into or over inputs, nor over anything but what the tool may replace ------
def _inputs(tmp: Path, fam: dict[str, Path], *roles: str) -> Path:
    """Copies of the family's checkpoints ``roles`` in one folder ``tmp/DIR`` (the folder a user keeps them in)."""
    folder = tmp / "DIR"
    for role in roles:
        _copy(fam[role], folder / role)
    return folder


def out_holds_inputs(tmp, fam):  # the data loss: merge --out DIR --overwrite replaced DIR
    folder = _inputs(tmp, fam, "b", "base")
    return ["merge", "--a", str(folder / "b"), "--b", str(folder / "base"), "--out", str(folder), "--overwrite"]


def out_is_a(tmp, fam):
    folder = _inputs(tmp, fam, "a", "b")
    return _merge_args(folder / "a", folder / "b", folder / "a", "--overwrite")


def out_inside_a(tmp, fam):
    folder = _inputs(tmp, fam, "a", "b")
    return _merge_args(folder / "a", folder / "b", folder / "a" / "merged")


def out_links_to_a(tmp, fam):
    folder = _inputs(tmp, fam, "a", "b")
    (tmp / "link").symlink_to(folder / "a")
    return _merge_args(folder / "a", folder / "b", tmp / "link", "--overwrite")


def out_inside_base(tmp, fam):
    folder = _inputs(tmp, fam, "a", "b", "base")
    return [*_merge_args(folder / "a", folder / "b", folder / "base" / "merged"), "--base", str(folder / "base"),
            "--method", "task_arithmetic"]


def overwrite_foreign_folder(tmp, fam):
    (tmp / "mine").mkdir()
    (tmp / "mine" / "thesis.tex").write_text("a folder workbench did not write\n")
    return _merge_args(fam["a"], fam["b"], tmp / "mine", "--overwrite")


def overwrite_a_file(tmp, fam):
    (tmp / "notes.txt").write_text("a file, not a checkpoint\n")
    return _merge_args(fam["a"], fam["b"], tmp / "notes.txt", "--overwrite")


def merge_out_fifo(tmp, fam):
    os.mkfifo(tmp / "pipe")
    return _merge_args(fam["a"], fam["b"], tmp / "pipe", "--overwrite")


def merge_negative_seed(tmp, fam):
    return [*_merge_args(fam["a"], fam["b"], tmp / "out"), "--base", str(fam["base"]), "--method", "dare_linear",
            "--density", "0.5", "--seed", "-5"]


def _config_json(tmp: Path, fam: dict[str, Path], text: str) -> Path:
    a = _copy(fam["a"], tmp / "a")
    (a / "config.json").write_text(text)
    return a


def merge_config_list(tmp, fam):
    return _merge_args(_config_json(tmp, fam, '["llama", 16]'), fam["b"], tmp / "out")


def merge_config_null(tmp, fam):
    return _merge_args(_config_json(tmp, fam, "null"), fam["b"], tmp / "out")


def eval_config_string(tmp, fam):
    return ["eval", str(_config_json(tmp, fam, '"llama"')), "--n", "2", "--device", "cpu"]


def eval_config_number(tmp, fam):
    return ["eval", str(_config_json(tmp, fam, "16")), "--n", "2", "--device", "cpu"]


def eval_outputs_inside(tmp, fam):
    a = _copy(fam["a"], tmp / "a")
    return ["eval", str(a), "--n", "2", "--device", "cpu", "--outputs", str(a / "outputs.jsonl")]


def eval_outputs_is_bench(tmp, fam):
    (tmp / "bench.jsonl").write_text('{"question": "1 + 1", "answer": "2"}\n')
    return ["eval", str(fam["a"]), "--n", "1", "--device", "cpu", "--bench", str(tmp / "bench.jsonl"),
            "--outputs", str(tmp / "bench.jsonl")]


def eval_outputs_fifo(tmp, fam):
    os.mkfifo(tmp / "pipe")
    return ["eval", str(fam["a"]), "--n", "2", "--device", "cpu", "--outputs", str(tmp / "pipe")]


def report_inside_store(tmp, fam):
    return ["report", "--out", str(tmp / "home" / "report.html")]


def report_fifo(tmp, fam):
    os.mkfifo(tmp / "pipe")
    return ["report", "--out", str(tmp / "pipe")]


def report_socket(tmp, fam):
    import socket

    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp / "sock"))
    server.close()  # the socket file stays
    return ["report", "--out", str(tmp / "sock")]


def report_folder(tmp, fam):
    (tmp / "report.html").mkdir()
    return ["report", "--out", str(tmp / "report.html")]


def report_readonly(tmp, fam):
    (tmp / "ro").mkdir()
    _make_readonly(tmp / "ro")
    return ["report", "--out", str(tmp / "ro" / "report.html")]


def merge_readonly(tmp, fam):
    (tmp / "ro").mkdir()
    _make_readonly(tmp / "ro")
    return _merge_args(fam["a"], fam["b"], tmp / "ro" / "merged")


def eval_outputs_readonly(tmp, fam):
    (tmp / "ro").mkdir()
    _make_readonly(tmp / "ro")
    return ["eval", str(fam["a"]), "--n", "2", "--device", "cpu", "--outputs", str(tmp / "ro" / "outputs.jsonl")]


def _ratings(tmp: Path) -> Path:
    (tmp / "ml").mkdir()
    (tmp / "ml" / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
    return tmp / "ml"


def store_is_data(tmp, fam):
    data = _ratings(tmp)
    return ["build", "glass", "--profile", "smoke", "--dataset", "movielens", "--data-path", str(data), "--store", str(data)]


def store_inside_data(tmp, fam):
    data = _ratings(tmp)
    return ["build", "glass", "--profile", "smoke", "--dataset", "movielens", "--data-path", str(data),
            "--store", str(data / "artifacts")]


def doctor_store_file(tmp, fam):
    (tmp / "store.txt").write_text("not a folder\n")
    return ["doctor", "--store", str(tmp / "store.txt")]


def build(method: str, *extra: str):
    return lambda tmp, fam: ["build", method, "--profile", "smoke", *extra]


def command(*args: str):
    return lambda tmp, fam: list(args)


CASES = [
    Case("merge: index names a file outside the checkpoint (../)", index_traversal, ("plain file name",)),
    Case("merge: index names an absolute path", index_absolute, ("plain file name",)),
    Case("merge: a file of --a links outside the checkpoint", symlink_out, ("notes.txt", "link")),
    Case("merge: truncated safetensors", merge_truncated, ("model.safetensors",)),
    Case("merge: random-bytes safetensors", merge_random, ("model.safetensors",)),
    Case("eval: truncated safetensors", eval_truncated, ("model.safetensors",)),
    Case("eval: random-bytes safetensors", eval_random, ("model.safetensors",)),
    Case("eval: random-bytes pytorch_model.bin", eval_bin_random, ("pytorch_model.bin",)),
    Case("eval: pickle payload in pytorch_model.bin", eval_bin_pickle, ("pytorch_model.bin",)),
    Case("build: read-only method folder in the store", readonly_store, ("merging", "writable")),
    Case("settings: steps=0", build("glass", "--set", "steps=0"), ("steps=0", "[1, 1000000]")),
    Case("settings: steps=-5", build("glass", "--set", "steps=-5"), ("steps=-5", "[1, 1000000]")),
    Case("settings: lr=nan", build("glass", "--set", "lr=nan"), ("lr=nan", "(0, 1]")),
    Case("settings: lr=inf", build("glass", "--set", "lr=inf"), ("lr=inf", "finite")),
    Case("settings: sft_lr=nan (needs)", build("needs", "--set", "sft_lr=nan"), ("sft_lr=nan",)),
    Case("settings: density=0 (merging)", build("merging", "--set", "density=0"), ("density=0", "(0, 1]")),
    Case("settings: codebook of 1", build("glass", "--set", "codebook=1,8,8"), ("codebook", "[2, 4096]")),
    Case("settings: share above 1", build("needs", "--set", "tail_test_share=1.5"), ("tail_test_share=1.5", "[0, 1]")),
    Case("settings: rl_generations=1", build("needs", "--set", "rl_generations=1"), ("rl_generations=1", "[2, 1024]")),
    Case("dataset: merging has no real data", build("merging", "--dataset", "nosuch", "--data-path", "/no/such"),
         ("merging", "--dataset")),
    Case("dataset: unknown for needs", build("needs", "--dataset", "nosuch", "--data-path", "/no/such"),
         ("nosuch", "foursquare")),
    Case("dataset: unknown for glass", build("glass", "--dataset", "nosuch", "--data-path", "/no/such"),
         ("nosuch", "amazon_beauty", "movielens")),
    # issue 24: no command deletes or writes into its inputs; writes replace only what they may
    Case("merge: --out holds the inputs (--overwrite)", out_holds_inputs, ("--out", "holds the input --a")),
    Case("merge: --out is --a (--overwrite)", out_is_a, ("--out", "is the input --a")),
    Case("merge: --out inside --a", out_inside_a, ("lies inside the input --a",)),
    Case("merge: --out a link to --a (--overwrite)", out_links_to_a, ("is the input --a",)),
    Case("merge: --out inside --base", out_inside_base, ("lies inside the input --base",)),
    Case("merge: --overwrite of a folder workbench did not write", overwrite_foreign_folder,
         ("--overwrite replaces only a folder workbench wrote",)),
    Case("merge: --overwrite of a file", overwrite_a_file, ("notes.txt", "is a file")),
    Case("merge: --out is a FIFO (--overwrite)", merge_out_fifo, ("pipe", "a FIFO")),
    Case("merge: --seed -5", merge_negative_seed, ("seed -5", "[0, 2147483647]")),
    Case("merge: config.json is a JSON array", merge_config_list, ("config.json", "an array", "JSON object")),
    Case("merge: config.json is null", merge_config_null, ("config.json", "null", "JSON object")),
    Case("eval: config.json is a JSON string", eval_config_string, ("config.json", "a string", "JSON object")),
    Case("eval: config.json is a JSON number", eval_config_number, ("config.json", "a number", "JSON object")),
    Case("eval: --outputs inside the checkpoint", eval_outputs_inside, ("--outputs", "lies inside the input checkpoint")),
    Case("eval: --outputs is the --bench file", eval_outputs_is_bench, ("--outputs", "is the input --bench")),
    Case("eval: --outputs is a FIFO", eval_outputs_fifo, ("pipe", "a FIFO")),
    Case("report: --out inside the store", report_inside_store, ("--out", "lies inside the input store")),
    Case("report: --out is a FIFO", report_fifo, ("pipe", "a FIFO", "regular file")),
    Case("report: --out is a socket", report_socket, ("sock", "a socket")),
    Case("report: --out is a folder", report_folder, ("report.html", "a folder")),
    Case("report: --out in a read-only folder", report_readonly, ("ro/report.html", "writable")),
    Case("merge: --out in a read-only folder", merge_readonly, ("ro", "writable")),
    Case("eval: --outputs in a read-only folder", eval_outputs_readonly, ("ro", "writable")),
    Case("build: --store is the --data-path", store_is_data, ("store", "is the input data_path")),
    Case("build: --store inside the --data-path", store_inside_data, ("store", "lies inside the input data_path")),
    Case("doctor: --store is a file", doctor_store_file, ("store.txt", "not a folder")),
    # issue 24: every setting checked, strings and lists too, before any job starts
    Case("settings: systems=nosuch", build("glass", "--set", "systems=nosuch"), ("systems", "one of popularity")),
    Case("settings: sid_method=nosuch", build("glass", "--set", "sid_method=nosuch"), ("sid_method", "rqvae")),
    Case("settings: eval_split=nosuch", build("glass", "--set", "eval_split=nosuch"), ("eval_split", "test, valid")),
    Case("settings: arch=nosuch (needs)", build("needs", "--set", "arch=nosuch"), ("arch", "llama, qwen2")),
    Case("settings: variants=nosuch (needs)", build("needs", "--set", "variants=nosuch"), ("variants", "isolated")),
    Case("settings: cluster_algorithm=nosuch", build("needs", "--set", "cluster_algorithm=nosuch"),
         ("cluster_algorithm", "hdbscan")),
    Case("settings: codebook= (empty)", build("glass", "--set", "codebook="), ("codebook", "0 entries", "1 to 8")),
    Case("settings: methods with a bogus name (merging)", build("merging", "--set", "methods=linear,bogus"),
         ("methods", "'bogus'", "ties")),
    Case("settings: steps=1e29 written out", build("glass", "--set", "steps=100000000000000000000000000000"),
         ("steps", "[1, 1000000]")),
    Case("settings: users=1_000", build("needs", "--set", "users=1_000"), ("users", "without underscores", "users=1000")),
    Case("settings: --set profile=demo", build("glass", "--set", "profile=demo"), ("profile", "--profile")),
    Case("settings: --set sed=1 (not a setting)", build("glass", "--set", "sed=1"), ("'sed'", "did you mean seed or seeds")),
    Case("settings: --set seed=1,2 (a list)", build("glass", "--set", "seed=1,2"), ("seed", "seeds=1,2")),
    Case("ray: --address garbage:99999", build("glass", "--executor", "ray", "--address", "garbage:99999"),
         ("garbage:99999", "HOST:PORT")),
    Case("usage: unknown command", command("runs"), ("runs",)),
    Case("usage: bad option value", command("merge", "--a", "x", "--b", "y", "--out", "z", "--strength", "abc"),
         ("--strength",)),
    Case("usage: missing argument", command("build"), ("method",)),
    Case("usage: missing option", command("merge", "--a", "x"), ("--b",)),
    Case("usage: unknown option", command("build", "glass", "--steps", "5"), ("--steps",)),
]


# ---- the table --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def family(tmp_path_factory):
    return make_family(tmp_path_factory.mktemp("bad-inputs-family"), hidden=16, layers=1, vocab=40)


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` with its kind, size, modification time and (for files) bytes."""
    state = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        state[str(path.relative_to(root))] = (path.is_dir(), info.st_size, info.st_mtime_ns, content)
    return state


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_sentence_and_changes_nothing(case, family, tmp_path, cli):
    (tmp_path / "home").mkdir(exist_ok=True)
    args = case.prepare(tmp_path, family)
    before = snapshot(tmp_path)
    try:
        result = cli(*args, home=tmp_path / "home")  # the console script's function, in this process
        code, err = result.returncode, result.stderr
        after = snapshot(tmp_path)
    finally:
        _release(tmp_path)
    lines = err.strip().splitlines()
    assert code == 2, f"exit {code}: {err}"
    assert "Traceback" not in err and len(lines) == 1, err
    assert all(word.lower() in err.lower() for word in case.needles), err
    assert after == before, f"changed: {sorted(set(after.items()) ^ set(before.items()))[:3]}"
    assert not (tmp_path / "PWNED").exists()


def test_help_still_works(cli):
    assert cli("--help").returncode == 0
    assert cli("merge", "--help").returncode == 0


def test_the_console_script_prints_one_line_for_a_usage_error(tmp_path):
    """The same through a real process (the installed entry point, not only the function)."""
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "runs"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "runs" in r.stderr, r.stderr
