"""LoRA adapters through peft: wrap a causal LM, train only the adapters, merge them back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoraSettings:
    """peft ``LoraConfig`` essentials. The target names fit Llama/Qwen2/Mistral-style attention."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")


def add_lora(model, settings: LoraSettings = LoraSettings()):
    """Return ``model`` wrapped with trainable LoRA adapters (base weights frozen)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def merge_lora(model):
    """Fold the adapters into the base weights and return the plain transformers model."""
    return model.merge_and_unload()


def trainable_fraction(model) -> float:
    """Share of parameters that receive gradients."""
    total = sum(p.numel() for p in model.parameters())
    train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return train / total if total else 0.0
