"""The shared base and its two children (the parents of every merge), trained with the LM kit.

1. A tokenizer over the world's words (digits, operators, markers): one vocabulary for all three
   models, so they share every tensor shape.
2. The base: a tiny Llama trained from scratch on both answer styles — direct and thinking
   *without* re-checks — so it can do either.
3. Two children fine-tuned briefly from that base at a low learning rate (so they stay in its basin):
   the direct child on direct answers only; the thinking child on thinking answers that end with
   ``min_rechecks``..``max_rechecks`` redundant re-checks — a habit only it learns, so a merge can
   shave it off — plus, with the overthinking dial up, the dial's extra re-checks and drifts.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.lm import SFTSettings, TinyLMConfig, build_word_tokenizer, make_model, train_sft
from workbench.merging import world
from workbench.progress import Progress, scaled

# Seeds of the problem streams, offset from the config seed so train, children and test never share one.
BASE_STREAM, DIRECT_STREAM, THINKING_STREAM, TEST_STREAM = 1, 2, 3, 9
OVERTHINK_STREAM = 7
"""The overthinking dial's own draws (extra re-checks, drifts) for the thinking child's traces."""


@dataclass
class Parents:
    tokenizer: object
    base: object
    direct: object
    thinking: object


def build_tokenizer():
    """Word-level tokenizer over the world's vocabulary (4 specials + 22 words)."""
    return build_word_tokenizer([], extra_tokens=world.VOCAB, model_max_length=256)


def base_pairs(problems: Sequence[world.Problem], think_share: float, seed: int) -> list[tuple[str, str]]:
    """Pretraining pairs: each problem answered directly or with a scratchpad (no re-checks)."""
    rng = random.Random(seed)
    return [
        (world.prompt(p), world.thinking_completion(p, 0) if rng.random() < think_share else world.direct_completion(p))
        for p in problems
    ]


def direct_pairs(problems: Sequence[world.Problem]) -> list[tuple[str, str]]:
    return [(world.prompt(p), world.direct_completion(p)) for p in problems]


def thinking_pairs(problems: Sequence[world.Problem], min_rechecks: int, max_rechecks: int, seed: int,
                   overthink: float = 0.0) -> list[tuple[str, str]]:
    """Scratchpad answers that end with a random number of redundant re-checks; with ``overthink`` > 0
    also the dial's extra re-checks and drifts (``world.Overthinking``), drawn from a stream of their
    own so that the first stream — and with it dial 0 — is unchanged."""
    rng = random.Random(seed)
    dial, extra_rng = world.Overthinking(overthink), random.Random(seed * 1000 + OVERTHINK_STREAM)
    pairs = []
    for p in problems:
        rechecks = rng.randint(min_rechecks, max_rechecks)
        extra, drift_at = dial.draw(extra_rng)
        pairs.append((world.prompt(p), world.thinking_completion(p, rechecks + extra, rng, drift_at=drift_at)))
    return pairs


def train_parents(cfg, progress: Progress | None = None) -> tuple[Parents, dict[str, list[dict[str, float]]]]:
    """Train the base and both children for a ``merging.config.Config``; returns them and the loss curves."""
    total = cfg.base_steps + 2 * cfg.child_steps
    split = (cfg.base_steps + cfg.child_steps) / total
    tok, base, direct, losses = train_base_and_direct(cfg, scaled(progress, 0.0, split))
    thinking, losses["thinking"] = train_thinking_child(cfg, tok, base, scaled(progress, split, 1.0))
    return Parents(tok, base, direct, thinking), losses


def _child_settings(cfg) -> SFTSettings:
    return SFTSettings(steps=cfg.child_steps, batch_size=cfg.child_batch, lr=cfg.child_lr, warmup=10,
                       max_length=192, seed=cfg.seed, device=cfg.device)


def train_base_and_direct(cfg, progress: Progress | None = None):
    """The tokenizer, the base and the direct child (eval mode) and their loss curves: the part of the
    family that the overthinking dial does not touch (the overthink study trains it once per seed)."""
    tok = build_tokenizer()
    arch = TinyLMConfig(arch="llama", hidden=cfg.hidden, layers=cfg.layers, heads=cfg.heads,
                        intermediate=cfg.intermediate, max_len=192)
    base = make_model(arch, tok, seed=cfg.seed)
    n_base = cfg.base_steps * cfg.base_batch
    pairs = base_pairs(world.make_problems(n_base, cfg.seed * 100 + BASE_STREAM), cfg.base_think_share, cfg.seed)
    split = cfg.base_steps / (cfg.base_steps + cfg.child_steps)
    losses = {"base": train_sft(
        base, tok, pairs,
        SFTSettings(steps=cfg.base_steps, batch_size=cfg.base_batch, lr=cfg.base_lr, warmup=30,
                    max_length=192, seed=cfg.seed, device=cfg.device),
        progress=scaled(progress, 0.0, split), label="base",
    )}
    n_child = cfg.child_steps * cfg.child_batch
    direct = copy.deepcopy(base)
    losses["direct"] = train_sft(direct, tok, direct_pairs(world.make_problems(n_child, cfg.seed * 100 + DIRECT_STREAM)),
                                 _child_settings(cfg), progress=scaled(progress, split, 1.0), label="direct child")
    base.eval()
    direct.eval()
    return tok, base, direct, losses


def train_thinking_child(cfg, tok, base, progress: Progress | None = None):
    """The thinking child (eval mode) fine-tuned from a copy of ``base``, and its loss curve; the only
    model the overthinking dial changes (``thinking_pairs``)."""
    n_child = cfg.child_steps * cfg.child_batch
    thinking = copy.deepcopy(base)
    think = thinking_pairs(world.make_problems(n_child, cfg.seed * 100 + THINKING_STREAM), cfg.min_rechecks,
                           cfg.max_rechecks, cfg.seed, cfg.overthink)
    loss = train_sft(thinking, tok, think, _child_settings(cfg), progress=progress, label="thinking child")
    return thinking.eval(), loss


def eval_problems(cfg) -> list[world.Problem]:
    """The evaluation set: ``n_eval`` problems balanced over difficulties 1-6, from their own stream."""
    return world.make_problems(cfg.n_eval, cfg.seed * 100 + TEST_STREAM)


MODELS = ("base", "direct", "thinking")
"""The three models, each a ``save_pretrained`` folder (with the shared tokenizer) of that name."""


def save_parents(parents: Parents, folder: Path) -> None:
    """The three models into ``folder/base``, ``folder/direct``, ``folder/thinking`` (atomic writes)."""
    from workbench.lm.checkpoint import save_causal_lm

    for name in MODELS:
        save_causal_lm(getattr(parents, name), parents.tokenizer, Path(folder) / name)


def _load(paths: dict[str, Path], device: str = "cpu") -> Parents:
    from workbench.lm.checkpoint import load_causal_lm

    base, tok = load_causal_lm(paths["base"], device=device)
    direct, _ = load_causal_lm(paths["direct"], device=device, with_tokenizer=False)
    thinking, _ = load_causal_lm(paths["thinking"], device=device, with_tokenizer=False)
    return Parents(tok, base, direct, thinking)


def load_parents(run) -> Parents:
    """The base and both children of a finished run (CPU, eval mode), with their shared tokenizer."""
    return _load({name: run.file(name) for name in MODELS})


def load_parents_from(folder: Path, device: str = "cpu") -> Parents:
    """The parents a ``seed{s}/parents`` job saved into its ``folder`` (eval mode, on ``device``)."""
    return _load({name: Path(folder) / name for name in MODELS}, device)
