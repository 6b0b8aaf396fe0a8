"""The language-model variants of method 1 as a registry: each declares, in one place, how it trains,
what it starts from, its training and test cases, its GRPO rewards (schedule and gates) and its cost.

``jobs.train_variant`` and ``pipeline.plan`` read ``REGISTRY``; nothing else branches on a variant's
name. The baselines (popularity, history, isolated) are no language models and are scored in the
data job (``jobs.prepare``); their descriptions are with the others in ``evaluate.VARIANTS``.

==============  =============  ==================  ===============  =========================================
variant         trains by      starts from         training cases   rewards (GRPO) / what it measures
==============  =============  ==================  ===============  =========================================
clustered_sft   curriculum SFT scratch             clustered        the SFT model every continuation uses
flat            SFT, services  scratch             clustered        value of the three-stage chain
raw_sft         curriculum SFT scratch             raw logs         value of behavioral clustering
full            GRPO           clustered_sft       RL cases         curriculum: format, need → category → service
full_greedy     (no training)  full                –                the full model's greedy chain (one path)
rl_sparse       GRPO           clustered_sft       RL cases         the full-path reward only
sft_more        SFT, services  clustered_sft       RL cases         RL's compute spent on more SFT
==============  =============  ==================  ===============  =========================================

>>> [v.name for v in REGISTRY.values() if v.starts_from]
['full', 'full_greedy', 'rl_sparse', 'sft_more']
>>> REGISTRY["full"].schedule["service"] == 2 / 3, REGISTRY["raw_sft"].test_cases
(True, 'test_raw')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

Training = Literal["sft", "continued_sft", "grpo", "none"]
"""``sft``: from scratch on ``train_cases`` (the curriculum unless ``flat``); ``continued_sft``: more
SFT on the RL cases at GRPO's compute (steps × prompts × generations sequences, a tenth of the SFT
learning rate); ``grpo``: TRL's GRPO with ``schedule``'s rewards; ``none``: the model it starts from,
only scored again (another way to read the same model, e.g. its greedy chain)."""


def _frozen(mapping: Mapping | None = None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Variant:
    """One language-model variant and everything its job needs to know about it."""

    name: str
    training: Training
    summary: str
    starts_from: str | None = None
    """The variant whose saved model this one continues (its job waits for that one); None = from scratch."""
    train_cases: str = "train_clustered"
    """Which of the data job's case tables it trains on (``prepare.CASES``)."""
    test_cases: str = "test_clustered"
    """Which test cases it is scored on (a raw-trained model sees raw history in its prompt)."""
    flat: bool = False
    """Context → services directly (``flat_completion``, ``inference.predict_flat``); else the chain."""
    schedule: Mapping[str, float] = field(default_factory=_frozen)
    """GRPO only: each training reward (``rewards.REWARDS``) → the fraction of the RL steps after which
    it switches on (0 = from the start). The other rewards are logged with weight 0."""
    gates: Mapping[str, str] = field(default_factory=_frozen)
    """GRPO only: reward → the reward it waits for (with ``rl_gate_patience`` > 0 it switches on once that
    one has stopped rising, ``rewards.plateaued``; the fraction in ``schedule`` is then the latest)."""
    beams: int | None = None
    """(need, category) paths its chain keeps at inference; None = the ``chain_beams`` setting, 1 = the
    greedy chain (one path: a wrong category dooms the service stage)."""
    cost: float = 1.0
    """Rough run time relative to one from-scratch SFT (weighs its share of the build's progress bar)."""

    def rewards(self, candidates: bool) -> tuple[dict[str, float], dict[str, str]]:
        """GRPO's ``schedule`` and ``gates``; with the candidate block (the ``candidates`` setting) each
        reward named in ``WITH_CANDIDATES`` is replaced by its stand-in, at the same point of the curriculum.

        >>> REGISTRY["full"].rewards(True)[0]["rerank"], REGISTRY["full"].rewards(True)[1]["rerank"]
        (0.6666666666666666, 'category')
        >>> "rerank" in REGISTRY["full"].rewards(False)[0]
        False
        """
        swap = WITH_CANDIDATES if candidates else {}
        return ({swap.get(k, k): v for k, v in self.schedule.items()},
                {swap.get(k, k): swap.get(v, v) for k, v in self.gates.items()})


WITH_CANDIDATES = {"service": "rerank"}
"""With the candidate block the service stage is paid by its gain over the block's order
(``rewards.rerank_score``) instead of its absolute hit: GR2 (arXiv 2602.07774) found that an LM
reranking a given list learns to keep the incoming order when the absolute hit pays it. The sparse
full-path reward (``rl_sparse``) is left as it is, the ablation it was."""
THIRD = 1 / 3
REGISTRY: dict[str, Variant] = {v.name: v for v in (
    Variant("clustered_sft", "sft", "three-stage chain, curriculum SFT on the clustered (filtered) history"),
    Variant("flat", "sft", "context → services directly, SFT on the clustered history", flat=True),
    Variant("raw_sft", "sft", "three-stage chain, curriculum SFT on the raw logs", train_cases="train_raw",
            test_cases="test_raw"),
    Variant("full", "grpo", "clustered SFT + curriculum GRPO (the paper's framework)", starts_from="clustered_sft",
            train_cases="rl_cases",
            # the curriculum: format and need from the start, then category, then the service
            schedule=_frozen({"format": 0.0, "need_semantic": 0.0, "category": THIRD, "service": 2 * THIRD}),
            gates=_frozen({"category": "need_semantic", "service": "category"}), cost=0.45),
    # the chain-with-alternatives' own ablation: the same trained model, one path kept (issue 22)
    Variant("full_greedy", "none", "the full framework's model with the greedy chain (one path)", starts_from="full",
            beams=1, cost=0.05),
    Variant("rl_sparse", "grpo", "clustered SFT + GRPO with the full-path reward only", starts_from="clustered_sft",
            train_cases="rl_cases", schedule=_frozen({"full_path": 0.0}), cost=0.45),
    Variant("sft_more", "continued_sft", "clustered SFT continued for GRPO's compute", starts_from="clustered_sft",
            train_cases="rl_cases", cost=0.2),
)}
"""Every LM variant, in build order (a continuation after the variant it starts from)."""


def needed(variants) -> list[str]:
    """The LM variants to train for the requested ``variants``, in registry order, with every variant a
    requested one starts from (``full`` alone brings ``clustered_sft``).

    >>> needed(["isolated", "full", "flat"])
    ['clustered_sft', 'flat', 'full']
    """
    wanted = {v for v in variants if v in REGISTRY}
    for name in list(wanted):
        while (start := REGISTRY[name].starts_from) is not None:
            wanted.add(start)
            name = start
    return [name for name in REGISTRY if name in wanted]
