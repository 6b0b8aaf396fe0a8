"""Pico checkpoint families: a base and two children of one architecture, saved as HF folders.

The tests (real-checkpoint merge, the mergekit cross-check, the CLI) and the benchmark (a ~100M
parameter pair) need local checkpoints of the real kind — ``save_pretrained`` folders with a config,
safetensors weights and a tokenizer — without any download. The children are the base plus small
random task vectors, so they are as close as fine-tuned siblings (a few percent relative L2).

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     family = make_family(d, hidden=16, layers=1, vocab=40)
...     sorted(p.name for p in family.values())
['a', 'b', 'base']
"""

from __future__ import annotations

from pathlib import Path

import torch

from workbench.lm import TinyLMConfig, build_word_tokenizer, make_model


def pico_tokenizer(vocab: int):
    """A word tokenizer with ``vocab`` ids in all (4 specials + ``w0``, ``w1``, ...)."""
    return build_word_tokenizer([], extra_tokens=[f"w{i}" for i in range(max(vocab - 4, 1))])


@torch.no_grad()
def make_family(
    folder: str | Path,
    hidden: int = 32,
    layers: int = 2,
    heads: int = 4,
    intermediate: int | None = None,
    vocab: int = 64,
    arch: str = "llama",
    noise: float = 0.05,
    seed: int = 0,
    max_shard_size: str | None = None,
    tie_embeddings: bool = True,
) -> dict[str, Path]:
    """Save ``base``, ``a`` and ``b`` under ``folder``; each child is base + ``noise`` x (random
    task vector scaled to every tensor's RMS). Returns the three paths."""
    folder = Path(folder)
    tok = pico_tokenizer(vocab)
    cfg = TinyLMConfig(arch=arch, hidden=hidden, layers=layers, heads=heads, intermediate=intermediate or 4 * hidden,
                       max_len=128, tie_embeddings=tie_embeddings)
    base = make_model(cfg, tok, seed=seed)
    for p in base.parameters():  # norms start at exactly 1; give every tensor some spread
        p.add_(0.02 * torch.randn_like(p))
    paths = {}
    generator = torch.Generator().manual_seed(seed + 1)
    for name in ("base", "a", "b"):
        model = base if name == "base" else make_model(cfg, tok, seed=seed)
        if name != "base":
            model.load_state_dict(base.state_dict())
            for p in model.parameters():
                rms = p.pow(2).mean().sqrt().clamp(min=1e-3)
                p.add_(noise * rms * torch.randn(p.shape, generator=generator))
        path = folder / name
        kwargs = {"max_shard_size": max_shard_size} if max_shard_size else {}
        model.save_pretrained(path, safe_serialization=True, **kwargs)
        tok.save_pretrained(path)
        paths[name] = path
    return paths
