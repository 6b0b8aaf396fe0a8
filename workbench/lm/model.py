"""Tiny causal language models from transformers configs (Llama or Qwen2), trained from scratch here.

``TinyLMConfig`` is the whole recipe of an architecture; ``make_model`` turns it plus a tokenizer
into a ``LlamaForCausalLM``/``Qwen2ForCausalLM`` whose special-token ids match the tokenizer. The
models save and load with ``save_pretrained``/``from_pretrained`` like any hub checkpoint, so the
same code paths serve a user's real local checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedModel, Qwen2Config, Qwen2ForCausalLM

from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class TinyLMConfig:
    """Architecture of a tiny decoder-only LM. Defaults: ~0.9M parameters with a ~500-word vocabulary."""

    arch: str = "llama"
    """``llama`` or ``qwen2`` (both RoPE + RMSNorm + SwiGLU decoders in transformers)."""
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    intermediate: int = 512
    max_len: int = 256
    """Longest sequence (prompt + completion) in tokens."""
    tie_embeddings: bool = True
    """Share input and output embeddings: fewer parameters, better for tiny vocabularies."""


def make_model(cfg: TinyLMConfig, tokenizer, seed: int | None = None) -> PreTrainedModel:
    """A freshly initialised causal LM sized by ``cfg`` for ``tokenizer``'s vocabulary."""
    if cfg.hidden % cfg.heads:
        raise WorkbenchError(f"hidden={cfg.hidden} must be divisible by heads={cfg.heads}.")
    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        num_key_value_heads=cfg.heads,
        intermediate_size=cfg.intermediate,
        max_position_embeddings=cfg.max_len,
        tie_word_embeddings=cfg.tie_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    if seed is not None:
        torch.manual_seed(seed)
    if cfg.arch == "llama":
        model = LlamaForCausalLM(LlamaConfig(**common))
    elif cfg.arch == "qwen2":
        model = Qwen2ForCausalLM(Qwen2Config(**common))
    else:
        raise WorkbenchError(f"Unknown arch {cfg.arch!r}; choose llama or qwen2.")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model


def count_parameters(model: torch.nn.Module) -> int:
    """Number of distinct parameters (tied weights counted once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
