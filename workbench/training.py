"""The settings every supervised training loop of the workbench shares, one name each.

As TRL's ``SFTConfig`` and ``GRPOConfig`` share transformers' ``TrainingArguments``, the LM kit's
``lm.sft.SFTSettings`` (TRL's SFT trainer) and GLASS's ``glass.training.TrainSettings`` (a plain torch
loop) subclass ``TrainingSettings``: the fields below mean the same in both, and each subclass sets its
own defaults and adds what only it has (a scheduler name, gradient clipping, ...). Needs' GRPO settings
stand apart: an RL step is prompts × generations, with no warm-up, decay or log interval of its own,
and the fields it does share (``steps``, ``lr``, ``seed``) carry these names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingSettings:
    steps: int = 300
    """Optimizer steps."""
    batch_size: int = 32
    """Training examples per step."""
    lr: float = 1e-3
    """Peak learning rate (AdamW)."""
    warmup: int = 0
    """Steps of linear warm-up to ``lr`` (TRL's ``warmup_steps``)."""
    weight_decay: float = 0.0
    """AdamW's decoupled weight decay."""
    log_every: int = 10
    """Steps between two points of the loss curve (the loss is read back from the device only then)."""
    seed: int = 0
    """Seeds the loop's randomness (the order of the batches)."""
