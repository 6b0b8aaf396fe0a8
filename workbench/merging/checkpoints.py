"""Merge whole models: in memory (the sweep, the app's live button) or two local HF checkpoints on disk.

On disk the merge goes tensor by tensor from the safetensors files (``safe_open`` reads one tensor at a
time), one output shard at a time, so memory stays near the size of the largest shard of one parent
rather than of three whole models. The output folder mirrors ``a``: same shard names and index, its
config, generation config and tokenizer files, plus ``merge_config.json`` saying how it was made. It
is written through ``workbench.atomic.atomic_dir``: an interrupted merge leaves nothing behind.

Checkpoints are compatible when their ``model_type`` matches and they hold the same tensor names with
the same shapes; anything else is one clear error before any work is done.

Nothing outside ``out`` is written and nothing from outside the checkpoints is read: shard names in an
index must be plain file names in the checkpoint folder (a crafted ``../x`` would otherwise make the
merge write there), and a file that is a link out of its checkpoint is refused (it would be copied
into the output). A Hugging Face cache snapshot (``snapshots/<rev>/`` linking to ``../../blobs/``)
counts its whole cache folder as the checkpoint.
"""

from __future__ import annotations

import copy
import json
import shutil
import zlib
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import torch

from workbench.errors import WorkbenchError
from workbench.lm.checkpoint import open_safetensors, read_model_config
from workbench.merging.merge_methods import check_density, check_strength, get, merge
from workbench.progress import Progress, silent
from workbench.atomic import WRITTEN_BY, atomic_dir, check_apart, check_dir_target
from workbench.config import MAX_SEED

INDEX = "model.safetensors.index.json"
MERGE_CONFIG = "merge_config.json"


def tensor_seed(seed: int, name: str) -> int:
    """A per-tensor seed (stable across runs and tensor order), so DARE's masks do not depend on the
    order tensors are visited in.

    >>> tensor_seed(0, "w") == tensor_seed(0, "w") != tensor_seed(1, "w")
    True
    """
    return (int(seed) * 1_000_003 + zlib.crc32(name.encode())) % (2**63 - 1)


# ---- in memory ------------------------------------------------------------------------------------
@torch.no_grad()
def merge_models(
    a: torch.nn.Module,
    b: torch.nn.Module,
    base: torch.nn.Module | None = None,
    *,
    method: str,
    strength: float,
    density: float = 1.0,
    seed: int = 0,
    layer_weights: dict[str, float] | None = None,
) -> torch.nn.Module:
    """A new model (a copy of ``a``) whose every parameter is the merge of the parents' (tied
    parameters are merged once, as ``named_parameters`` lists them once). A calibrated method
    (``activation_informed``) takes each tensor's ``layer_weights[name]``
    (``merge_methods.activation_weights`` of the two models)."""
    spec = _checked(method, strength, density, seed, base is not None, "the shared base model")
    if spec.calibrated and layer_weights is None:
        raise WorkbenchError(f"{method} needs per-layer weights from the models' activations; pass "
                             "layer_weights=merge_methods.activation_weights(a, b, tokenizer, calibration_texts).")
    pb = dict(b.named_parameters())
    pbase = dict(base.named_parameters()) if base is not None else {}
    merged = copy.deepcopy(a)
    for name, param in merged.named_parameters():
        if name not in pb:
            raise WorkbenchError(f"Cannot merge: model b has no parameter {name}; merge models of one architecture only.")
        options = {"layer_weight": layer_weights.get(name, 1.0)} if spec.calibrated else {}
        param.copy_(merge(method, param, pb[name], pbase.get(name), strength=strength, density=density,
                          seed=tensor_seed(seed, name), name=name, **options))
    return merged.eval()


def _checked(method: str, strength: float, density: float, seed: int, has_base: bool, base_is: str):
    """The merge method's spec, after checking the arguments every merge takes; one sentence otherwise."""
    spec = get(method)
    check_strength(strength, method)
    if spec.uses_density:
        check_density(density, method)
    if not 0 <= seed <= MAX_SEED:
        raise WorkbenchError(f"Merge seed {seed} is out of range; use a seed in [0, {MAX_SEED}].")
    if spec.needs_base and not has_base:
        raise WorkbenchError(f"{method} works on task vectors and needs {base_is}.")
    return spec


# ---- on disk --------------------------------------------------------------------------------------
def checked_file(folder: Path, name: str) -> Path:
    """``folder / name`` after checking that ``name`` is a plain file name and the file stays in the
    checkpoint when its links are followed; one sentence otherwise.

    >>> checked_file(Path("ckpt"), "model.safetensors").as_posix()
    'ckpt/model.safetensors'
    """
    plain = isinstance(name, str) and name not in ("", ".", "..") and "\\" not in name and Path(name).name == name
    if not plain:
        raise WorkbenchError(f"{folder / INDEX} names the shard {name!r}, which is not a plain file name in the "
                             "checkpoint folder; list file names only (no folders, no '..', no absolute paths).")
    file = folder / name
    if file.is_symlink():
        home = folder.resolve()
        if home.parent.name == "snapshots":  # Hugging Face cache: snapshots/<rev>/f -> ../../blobs/<sha>
            home = home.parent.parent
        target = file.resolve()
        if not target.is_relative_to(home):
            raise WorkbenchError(f"{file} is a symbolic link to {target}, outside the checkpoint folder; copy the "
                                 "file into the folder or remove the link.")
    return file


def weight_map(path: Path) -> dict[str, str]:
    """Tensor name -> safetensors file name of one checkpoint folder (single file or sharded)."""
    index = path / INDEX
    if index.exists():
        try:
            mapping = json.loads(index.read_text())["weight_map"]
            mapping = {str(k): v for k, v in mapping.items()}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
            raise WorkbenchError(f"{index} is not a readable shard index (a JSON object with a weight_map of "
                                 "tensor -> file); save the checkpoint again.") from err
        for file in set(mapping.values()):
            checked_file(path, file)
        return mapping
    files = sorted(path.glob("*.safetensors"))
    if not files:
        if any(path.glob("*.bin")):
            raise WorkbenchError(
                f"{path} holds PyTorch .bin weights; merging reads safetensors only — re-save it with "
                "save_pretrained(safe_serialization=True)."
            )
        raise WorkbenchError(f"{path} has no *.safetensors weights; pass a complete checkpoint folder.")
    mapping: dict[str, str] = {}
    for file in files:
        with open_safetensors(checked_file(path, file.name)) as fh:
            mapping.update({key: file.name for key in fh.keys()})
    return mapping


def _shapes(path: Path, mapping: dict[str, str]) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    by_file: dict[str, list[str]] = {}
    for key, file in mapping.items():
        by_file.setdefault(file, []).append(key)
    for file, keys in by_file.items():
        with open_safetensors(path / file) as fh:
            for key in keys:
                shapes[key] = tuple(fh.get_slice(key).get_shape())
    return shapes


def _model_type(path: Path) -> str:
    return str(read_model_config(path).get("model_type", ""))


def side_files(path: Path) -> list[Path]:
    """The files of a checkpoint besides its weights (config, generation config, tokenizer, index),
    which the merged checkpoint copies; a link out of the checkpoint is refused."""
    return [checked_file(path, item.name) for item in sorted(path.iterdir())
            if item.is_file() and not item.name.endswith((".safetensors", ".bin")) and item.name not in (MERGE_CONFIG, WRITTEN_BY)]


def check_compatible(paths: dict[str, Path]) -> dict[str, dict[str, str]]:
    """Weight maps of every checkpoint, after checking they are one architecture (clear error if not)."""
    from workbench.lm.checkpoint import check_checkpoint_dir

    maps = {role: weight_map(check_checkpoint_dir(p)) for role, p in paths.items()}
    roles = list(paths)
    first = roles[0]
    types = {role: _model_type(paths[role]) for role in roles}
    shapes = {role: _shapes(paths[role], maps[role]) for role in roles}
    for role in roles[1:]:
        if types[role] != types[first]:
            raise WorkbenchError(
                f"Checkpoints are not one architecture: {first} is {types[first]!r} but {role} is {types[role]!r}; "
                "merge checkpoints of one model family and size."
            )
        missing = sorted(set(shapes[first]) ^ set(shapes[role]))
        if missing:
            raise WorkbenchError(
                f"Checkpoints are not one architecture: {len(missing)} tensor name(s) are in only one of {first} and "
                f"{role} (e.g. {missing[0]}); merge checkpoints of one model family and size."
            )
        for key, shape in shapes[first].items():
            if shapes[role][key] != shape:
                raise WorkbenchError(
                    f"Checkpoints are not one architecture: {key} has shape {list(shape)} in {first} but "
                    f"{list(shapes[role][key])} in {role}; merge checkpoints of one model family and size."
                )
    return maps


def merge_checkpoints(
    a: str | Path,
    b: str | Path,
    out: str | Path,
    base: str | Path | None = None,
    *,
    method: str = "linear",
    strength: float = 0.5,
    density: float = 1.0,
    seed: int = 0,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Merge two local HF checkpoints tensor by tensor into ``out`` (a loadable checkpoint folder)."""
    from safetensors.torch import save_file

    if get(method).calibrated:
        raise WorkbenchError(f"{method} sets each layer's strength from the models' activations, so it merges models "
                             "loaded in memory (merging.checkpoints.merge_models), not files tensor by tensor; "
                             "choose another --method.")
    spec = _checked(method, strength, density, seed, base is not None, "the shared base checkpoint; pass --base DIR")
    paths = {"a": Path(a).expanduser(), "b": Path(b).expanduser()}
    if spec.needs_base:
        paths["base"] = Path(base).expanduser()
    out = Path(out).expanduser()
    check_apart(out, {"--a": paths["a"], "--b": paths["b"], "--base": base and Path(base).expanduser()})
    check_dir_target(out, overwrite)  # before any work: an existing folder is replaced only if workbench wrote it
    maps = check_compatible(paths)
    extras = side_files(paths["a"])

    by_file: dict[str, list[str]] = {}
    for key, file in maps["a"].items():
        by_file.setdefault(file, []).append(key)
    report = progress or silent
    total, done = len(maps["a"]), 0
    with atomic_dir(out, overwrite=overwrite) as staging, ExitStack() as stack:
        handles: dict[tuple[str, str], Any] = {}

        def read(role: str, key: str) -> torch.Tensor:
            file = maps[role][key]
            if (role, file) not in handles:
                handles[role, file] = stack.enter_context(open_safetensors(paths[role] / file))
            return handles[role, file].get_tensor(key)

        for file, keys in by_file.items():
            shard: dict[str, torch.Tensor] = {}
            for key in keys:
                ta, tb = read("a", key), read("b", key)
                if not ta.is_floating_point():  # integer buffers cannot be interpolated: they must agree
                    if not torch.equal(ta, tb):
                        raise WorkbenchError(f"Cannot merge the integer tensor {key}: it differs between a and b.")
                    shard[key] = ta
                else:
                    tbase = read("base", key) if spec.needs_base else None
                    shard[key] = merge(method, ta, tb, tbase, strength=strength, density=density,
                                       seed=tensor_seed(seed, key), name=key).contiguous()
                done += 1
                report(f"merging tensors ({done}/{total})", done / total)
            save_file(shard, str(staging / file), metadata={"format": "pt"})
            del shard
        for item in extras:  # config, generation config, tokenizer, shard index
            shutil.copy2(item, staging / item.name)
        (staging / MERGE_CONFIG).write_text(json.dumps({
            "method": method, "strength": strength, "density": density if spec.uses_density else None,
            "seed": seed if spec.stochastic else None, "strength_means": "weight of a (1 = a, 0 = b)",
            "a": str(paths["a"]), "b": str(paths["b"]), "base": str(paths.get("base", "")) or None,
        }, indent=2))
    return out
