"""Merging real (pico) HF checkpoints on disk and in memory; clear errors for incompatible ones."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from workbench.errors import WorkbenchError
from workbench.lm import generate, load_causal_lm
from workbench.merging.checkpoints import merge_checkpoints, merge_models, tensor_seed
from workbench.merging.merge_methods import merge
from workbench.merging.pico import make_family


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    return make_family(tmp_path_factory.mktemp("family"), hidden=32, layers=2, vocab=48, noise=0.1, seed=1)


def weights(path):
    out = {}
    for file in sorted(path.glob("*.safetensors")):
        out.update(load_file(file))
    return out


@pytest.mark.parametrize("method, density", [("linear", 1.0), ("slerp", 1.0), ("ties", 0.4), ("dare_ties", 0.6)])
def test_merged_checkpoint_loads_generates_and_equals_the_tensor_merge(family, tmp_path, method, density):
    out = merge_checkpoints(family["a"], family["b"], tmp_path / "m", family["base"], method=method, strength=0.3,
                            density=density, seed=5)
    model, tok = load_causal_lm(out)
    assert generate(model, tok, ["w1 w2 w3"], max_new_tokens=4).n_tokens[0] >= 0
    a, b, base, merged = weights(family["a"]), weights(family["b"]), weights(family["base"]), weights(out)
    assert set(merged) == set(a)
    for key in a:
        expected = merge(method, a[key], b[key], base[key], strength=0.3, density=density, seed=tensor_seed(5, key))
        torch.testing.assert_close(merged[key], expected)
    info = json.loads((out / "merge_config.json").read_text())
    assert info["method"] == method and info["strength"] == 0.3
    assert (out / "tokenizer.json").exists() and (out / "config.json").exists()


def test_in_memory_merge_equals_the_on_disk_merge(family, tmp_path):
    ma, _ = load_causal_lm(family["a"])
    mb, _ = load_causal_lm(family["b"])
    mbase, _ = load_causal_lm(family["base"])
    mem = merge_models(ma, mb, mbase, method="dare_linear", strength=0.7, density=0.5, seed=2)
    disk, _ = load_causal_lm(merge_checkpoints(family["a"], family["b"], tmp_path / "d", family["base"],
                                               method="dare_linear", strength=0.7, density=0.5, seed=2))
    for (name, p), q in zip(mem.named_parameters(), disk.parameters()):
        torch.testing.assert_close(p, q, msg=name)
    # the parents are untouched
    torch.testing.assert_close(next(ma.parameters()), next(load_causal_lm(family["a"])[0].parameters()))


def test_sharded_checkpoints_merge_into_the_same_shards(tmp_path):
    fam = make_family(tmp_path / "sharded", hidden=32, layers=2, vocab=48, max_shard_size="20KB")
    assert (fam["a"] / "model.safetensors.index.json").exists()
    out = merge_checkpoints(fam["a"], fam["b"], tmp_path / "m", method="linear", strength=0.5)
    assert sorted(p.name for p in out.glob("*.safetensors")) == sorted(p.name for p in fam["a"].glob("*.safetensors"))
    model, _ = load_causal_lm(out)
    a, b = weights(fam["a"]), weights(fam["b"])
    key = "model.layers.0.mlp.up_proj.weight"
    torch.testing.assert_close(dict(model.named_parameters())[key], 0.5 * a[key] + 0.5 * b[key])


def test_incompatible_checkpoints_get_one_clear_error(family, tmp_path):
    wider = make_family(tmp_path / "wider", hidden=48, layers=2, vocab=48)
    deeper = make_family(tmp_path / "deeper", hidden=32, layers=3, vocab=48)
    qwen = make_family(tmp_path / "qwen", hidden=32, layers=2, vocab=48, arch="qwen2")
    cases = [
        (wider["a"], "has shape"),
        (deeper["a"], "tensor name(s) are in only one of"),
        (qwen["a"], "is 'llama' but b is 'qwen2'"),
        (tmp_path / "missing", "does not exist"),
    ]
    for other, message in cases:
        with pytest.raises(WorkbenchError) as err:
            merge_checkpoints(family["a"], other, tmp_path / "never", method="linear", strength=0.5)
        assert message in str(err.value) and len(str(err.value).splitlines()) == 1
        assert not (tmp_path / "never").exists()


def test_bad_arguments_and_existing_output_are_clear_errors(family, tmp_path):
    with pytest.raises(WorkbenchError, match="strength=2.0 is outside"):
        merge_checkpoints(family["a"], family["b"], tmp_path / "x", method="linear", strength=2.0)
    with pytest.raises(WorkbenchError, match="needs the shared base checkpoint; pass --base"):
        merge_checkpoints(family["a"], family["b"], tmp_path / "x", method="ties", strength=0.5, density=0.5)
    with pytest.raises(WorkbenchError, match="density=0.0 is outside"):
        merge_checkpoints(family["a"], family["b"], tmp_path / "x", family["base"], method="ties", strength=0.5, density=0.0)
    (tmp_path / "taken").mkdir()
    with pytest.raises(WorkbenchError, match="already exists"):
        merge_checkpoints(family["a"], family["b"], tmp_path / "taken", method="linear", strength=0.5)
    bin_only = tmp_path / "binonly"
    bin_only.mkdir()
    (bin_only / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (bin_only / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(WorkbenchError, match="reads safetensors only"):
        merge_checkpoints(family["a"], bin_only, tmp_path / "x", method="linear", strength=0.5)
    assert not (tmp_path / "x").exists()


def test_overwrite_replaces_an_earlier_merge_and_never_an_input(family, tmp_path):
    """Issue 24: --overwrite replaces the folder an earlier merge wrote; --out never equals, holds or lies in an input."""
    import hashlib

    def digest(folder):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}

    before = {role: digest(family[role]) for role in ("a", "b")}
    out = merge_checkpoints(family["a"], family["b"], tmp_path / "m", method="linear", strength=0.2)
    first = load_file(str(out / "model.safetensors"))
    merge_checkpoints(family["a"], family["b"], out, method="linear", strength=0.8, overwrite=True)
    second = load_file(str(out / "model.safetensors"))
    assert any(not torch.equal(first[key], second[key]) for key in first)
    for target in (family["a"], family["a"].parent, family["b"] / "sub"):
        with pytest.raises(WorkbenchError, match="the input --[ab]"):
            merge_checkpoints(family["a"], family["b"], target, method="linear", strength=0.5, overwrite=True)
    assert {role: digest(family[role]) for role in ("a", "b")} == before


def test_merged_weights_are_the_same_bits_for_any_thread_count(tmp_path):
    """Every method, 1 vs 2 torch threads: bit-identical shards. The tensors are larger than torch's
    parallel grain (32,768 elements), where a plain sum or norm splits across threads (SLERP did)."""
    from workbench.merging.merge_methods import REGISTRY

    fam = make_family(tmp_path / "big", hidden=256, layers=1, heads=4, intermediate=1024, vocab=300)
    before = torch.get_num_threads()
    try:
        for method, spec in REGISTRY.items():
            if spec.calibrated:  # merges models in memory only (refused here; its threads test is per tensor)
                continue
            outs = []
            for threads in (1, 2):
                torch.set_num_threads(threads)
                out = merge_checkpoints(fam["a"], fam["b"], tmp_path / f"{method}-{threads}",
                                        fam["base"] if spec.needs_base else None, method=method, strength=0.3,
                                        density=0.5 if spec.uses_density else 1.0)
                outs.append((out / "model.safetensors").read_bytes())
            assert outs[0] == outs[1], method
    finally:
        torch.set_num_threads(before)


def test_a_hugging_face_cache_snapshot_merges(family, tmp_path):
    """A cache snapshot's files link to ../../blobs: inside its cache folder, so they are read and copied."""
    repo = tmp_path / "models--me--a"
    snapshot = repo / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (repo / "blobs").mkdir()
    for i, item in enumerate(sorted(family["a"].iterdir())):
        blob = repo / "blobs" / f"blob{i}"
        blob.write_bytes(item.read_bytes())
        (snapshot / item.name).symlink_to(f"../../blobs/blob{i}")
    out = merge_checkpoints(snapshot, family["b"], tmp_path / "merged", method="linear", strength=0.5)
    assert (out / "config.json").is_file() and not (out / "config.json").is_symlink()
    assert weights(out).keys() == weights(family["a"]).keys()


@pytest.mark.parametrize("name", ["../x.safetensors", "/etc/x.safetensors", "sub/x.safetensors", "..", ""])
def test_index_shard_names_must_be_plain_file_names(family, tmp_path, name):
    import shutil

    a = tmp_path / "a"
    shutil.copytree(family["a"], a)
    keys = list(weights(a))
    (a / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {k: name for k in keys}}))
    with pytest.raises(WorkbenchError, match="not a plain file name"):
        merge_checkpoints(a, family["b"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---- the activation-informed merge: per-layer weights from activations -----------------------------------
def test_activation_weights_average_one_over_layers_and_are_thread_independent(family):
    from workbench.merging.merge_methods import activation_weights, layer_of

    a, tok = load_causal_lm(family["a"])
    b, _ = load_causal_lm(family["b"], with_tokenizer=False)
    texts = ["w1 w2 w3 w4", "w5 w6", "w7 w8 w9 w10 w11"]
    before = torch.get_num_threads()
    try:
        runs = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            runs.append(activation_weights(a, b, tok, texts))
    finally:
        torch.set_num_threads(before)
    assert runs[0] == runs[1]
    weights = runs[0]
    assert set(weights) == {n for n, _ in a.named_parameters()}
    per_layer = {layer_of(n): w for n, w in weights.items() if layer_of(n) is not None}
    assert len(per_layer) == 2 and sum(per_layer.values()) / 2 == pytest.approx(1.0)
    assert all(w == 1.0 for n, w in weights.items() if layer_of(n) is None)
    same = activation_weights(a, a, tok, texts)  # identical models: no layer stands out
    assert set(same.values()) == {1.0}


def test_activation_informed_merge_needs_its_weights_and_uses_them(family, tmp_path):
    from workbench.merging.merge_methods import activation_weights

    a, tok = load_causal_lm(family["a"])
    b, _ = load_causal_lm(family["b"], with_tokenizer=False)
    with pytest.raises(WorkbenchError, match="needs per-layer weights"):
        merge_models(a, b, method="activation_informed", strength=0.3)
    weights = activation_weights(a, b, tok, ["w1 w2 w3", "w4 w5"])
    merged = dict(merge_models(a, b, method="activation_informed", strength=0.3, layer_weights=weights).named_parameters())
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    for name, w in weights.items():
        expected = merge("activation_informed", pa[name], pb[name], strength=0.3, layer_weight=w)
        assert torch.equal(merged[name], expected)
    at_one = dict(merge_models(a, b, method="activation_informed", strength=1.0, layer_weights=weights).named_parameters())
    assert all(torch.equal(at_one[n], pa[n]) for n in pa)
    with pytest.raises(WorkbenchError, match="merges models loaded in memory"):
        merge_checkpoints(family["a"], family["b"], tmp_path / "m", method="activation_informed", strength=0.3)
    assert not (tmp_path / "m").exists()
