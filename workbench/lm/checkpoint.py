"""Load and save local causal-LM checkpoints (a folder with config.json + weights + tokenizer).

The same call loads a tiny model trained here or any ``AutoModelForCausalLM`` checkpoint a user has
on disk. Nothing is fetched from a hub (``local_files_only=True``); problems become one sentence.
"""

from __future__ import annotations

import json
import pickle
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.atomic import atomic_dir


def check_checkpoint_dir(path: str | Path) -> Path:
    """The folder as a Path, or a clear error when it is not a local checkpoint."""
    path = Path(path).expanduser()
    if not path.exists():
        raise WorkbenchError(f"No checkpoint at {path}: the folder does not exist.")
    if not path.is_dir():
        raise WorkbenchError(f"{path} is a file; pass the checkpoint folder (with config.json) instead.")
    if not (path / "config.json").exists():
        raise WorkbenchError(f"{path} has no config.json; pass a folder written by save_pretrained.")
    read_model_config(path)
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        raise WorkbenchError(f"{path} has no weights (*.safetensors); pass a complete checkpoint folder.")
    return path


def read_model_config(path: str | Path) -> dict:
    """The checkpoint's ``config.json`` as a dict; one sentence when it is unreadable or any JSON but an object."""
    file = Path(path) / "config.json"
    try:
        config = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WorkbenchError(f"{file} is not readable JSON; pass a folder written by save_pretrained.") from err
    if not isinstance(config, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(config), "a number")
        raise WorkbenchError(f"{file} holds {kind}, not a JSON object of settings "
                             "(model_type, hidden_size, ...); pass a folder written by save_pretrained.")
    return config


@contextmanager
def open_safetensors(file: str | Path) -> Iterator:
    """``safe_open(file)``, with a damaged file (truncated, random bytes) as one sentence naming it.
    Opening reads the header and checks it covers the whole file, so damage shows before any work."""
    from safetensors import SafetensorError, safe_open

    try:
        handle = safe_open(str(file), framework="pt")
    except (SafetensorError, OSError) as err:
        reason = (str(err).splitlines() or ["unreadable"])[0].removeprefix("Error while deserializing header: ")
        raise WorkbenchError(f"{file} is not a readable safetensors file ({reason}); copy or save the checkpoint "
                             "again.") from err
    with handle:
        yield handle


def check_torch_bin(file: str | Path) -> None:
    """Read a PyTorch ``.bin`` with ``torch.load(weights_only=True)`` onto the meta device (no memory),
    so a damaged file or one holding pickled objects is refused in one sentence before any work.

    The weights-only unpickler refuses every non-tensor object, but on random bytes it fails in many
    ways (UnpicklingError, EOFError, IndexError, struct errors...), so any failure here is the file's."""
    import torch

    file = Path(file)
    try:
        with warnings.catch_warnings():  # random bytes also warn about odd pickle protocols
            warnings.simplefilter("ignore")
            torch.load(file, map_location="meta", weights_only=True, mmap=zipfile.is_zipfile(file))
    except Exception as err:  # noqa: BLE001 -- see the docstring: every failure means an unusable file
        raise WorkbenchError(f"Cannot load {file.name} in {file.parent}: it is damaged or holds pickled objects "
                             "other than tensors (never unpickled here); save the checkpoint with "
                             "safetensors.") from err


def load_causal_lm(path: str | Path, device: str = "cpu", dtype=None, with_tokenizer: bool = True):
    """``(model, tokenizer)`` from a local folder; tokenizer is None when ``with_tokenizer=False``.

    PyTorch ``.bin`` weights are read by transformers with ``torch.load(weights_only=True)``: tensors
    only, never arbitrary pickled objects; a file that holds anything else is refused in one sentence."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = check_checkpoint_dir(path)
    for file in sorted(path.glob("*.safetensors")):
        with open_safetensors(file):
            pass
    for file in sorted(path.glob("pytorch_model*.bin")):  # the weights; not e.g. a Trainer's training_args.bin
        check_torch_bin(file)
    try:
        with warnings.catch_warnings(record=True) as caught:  # a refused file's warnings say nothing more
            warnings.simplefilter("always")
            model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype)
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    except (pickle.UnpicklingError, EOFError) as err:
        files = ", ".join(sorted(p.name for p in path.glob("*.bin"))) or "weights"
        raise WorkbenchError(f"Cannot load {files} in {path}: it is damaged or holds pickled objects other than "
                             "tensors (never unpickled here); save the checkpoint with safetensors.") from err
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise WorkbenchError(f"Cannot load a causal LM from {path}: {str(err).splitlines()[0]}") from err
    model.to(device).eval()
    tokenizer = None
    if with_tokenizer:
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError) as err:
            raise WorkbenchError(f"{path} has a model but no loadable tokenizer; save the tokenizer beside it.") from err
        if tokenizer.pad_token is None:  # many real checkpoints ship without one
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"
    return model, tokenizer


def save_causal_lm(model, tokenizer, path: str | Path, overwrite: bool = False) -> Path:
    """``save_pretrained`` model (safetensors) and tokenizer into ``path``, atomically."""
    with atomic_dir(Path(path), overwrite=overwrite) as staging:
        model.save_pretrained(staging, safe_serialization=True)
        if tokenizer is not None:
            tokenizer.save_pretrained(staging)
    return Path(path)
