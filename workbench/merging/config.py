"""Settings of the thinking-spectrum study (defaults = the demo profile).

Sizes, measured on 2 cores: smoke builds in about a minute (tests); demo in a few minutes (the app);
full is the study the issue asks for (>= 1,000 problems, 4 samples, fine grids for every method,
3 seeds) — CPU hours, or minutes on a GPU. Worker count and executor are not settings: they change
how fast a build runs, never its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from workbench.config import MAX_SEED, MethodConfig, setting

METHOD = "merging"


@dataclass(frozen=True)
class Config(MethodConfig):
    # ---- the models ---------------------------------------------------------------------------
    hidden: int = setting(64, ge=1, le=8192)
    """Width of the tiny Llama (64 x 4 layers: ~0.2M parameters)."""
    layers: int = setting(4, ge=1, le=64)
    """Decoder layers."""
    heads: int = setting(4, ge=1, le=128)
    """Attention heads (hidden must be divisible by heads)."""
    intermediate: int = setting(256, ge=1, le=65_536)
    """MLP width (4 x hidden, the usual ratio)."""
    base_steps: int = setting(600, ge=1, le=1_000_000)
    """Pretraining steps of the shared base on both answer styles (fresh problems every step)."""
    base_batch: int = setting(64, ge=1, le=65_536)
    """Base batch size."""
    base_lr: float = setting(3e-3, gt=0, le=1)
    """Base peak learning rate (from scratch, tiny model: high)."""
    base_think_share: float = setting(0.5, ge=0, le=1)
    """Share of base examples written in the thinking style (the rest direct); never with re-checks."""
    child_steps: int = setting(300, ge=1, le=1_000_000)
    """Fine-tuning steps of each child (brief, so both children stay in the base's basin)."""
    child_batch: int = setting(32, ge=1, le=65_536)
    """Child batch size."""
    child_lr: float = setting(5e-4, gt=0, le=1)
    """Child peak learning rate (low: fine-tuning, not re-training)."""
    min_rechecks: int = setting(1, ge=0, le=100)
    """Fewest redundant re-checks in a thinking child's training answer."""
    max_rechecks: int = setting(3, ge=0, le=100)
    """Most redundant re-checks (drawn uniformly): the overthinking a merge can shave off."""
    overthink: float = setting(0.0, ge=0, le=1)
    """The overthinking dial (``world.Overthinking``): 0 = re-checks are only long (today's world, the
    same numbers); raising it makes them drift off correct results (0.3 per trained re-check at 1),
    adds up to 4 more on every difficulty and cuts the generation budget by up to 2 re-check lines."""

    # ---- the evaluation -----------------------------------------------------------------------
    n_eval: int = setting(1002, ge=1, le=1_000_000)
    """Evaluation problems, balanced over 1-6 operations (167 each; the same problems for every model);
    the issue's protocol asks for >= 1,000."""
    samples: int = setting(2, ge=1, le=1000)
    """Samples per problem at temperature 0.6 / top-p 0.95 (the paper's protocol)."""
    temperature: float = setting(0.6, gt=0, le=100)
    """Sampling temperature."""
    top_p: float = setting(0.95, gt=0, le=1)
    """Nucleus sampling mass."""
    batch_size: int = setting(1024, ge=1, le=65_536)
    """Sequences decoded at once; wide batches amortise generate()'s per-step overhead."""

    # ---- the sweeps ---------------------------------------------------------------------------
    methods: tuple[str, ...] = setting(("linear", "slerp", "task_arithmetic", "ties", "dare_linear", "dare_ties", "magnitude_prune"),
                                       choices="workbench.merging.merge_methods:REGISTRY", length=(0, None))
    """Merge methods to sweep (names from merging.merge_methods.REGISTRY; linear always runs, as it locates the transition)."""
    coarse_step: float = setting(0.1, gt=0, le=1)
    """Grid step over the whole strength range of the linear sweep."""
    fine_step: float = setting(0.02, gt=0, le=1)
    """Grid step near both parents and around the switch-off."""
    fine_edge: float = setting(0.1, ge=0, le=1)
    """How far from each parent (in strength) the fine steps reach."""
    switch_window: float = setting(0.02, ge=0, le=1)
    """Padding of the fine window laid across the linear sweep's transition (where the share that
    thinks falls from 90% to 10%, found from the coarse points)."""
    slerp_step: float = setting(0.2, gt=0, le=1)
    """Grid step of the SLERP sweep (plus the linear switch-off window, for the paired SLERP-vs-linear test)."""
    other_step: float = setting(0.25, gt=0, le=1)
    """Grid step of task arithmetic, TIES, DARE and magnitude pruning (coarser: each point costs a full evaluation)."""
    density: float = setting(0.5, gt=0, le=1)
    """Share of task-vector entries TIES/DARE/magnitude pruning keep."""
    merge_seed: int = setting(0, ge=0, le=MAX_SEED)
    """Seed of DARE's random masks (the same masks at every strength, so its curve is smooth)."""
    n_boot: int = setting(1000, ge=10, le=1_000_000)
    """Bootstrap resamples for every interval."""
    seeds: tuple[int, ...] = setting((), ge=0, le=MAX_SEED, length=(0, 100))
    """Extra seeds (besides ``seed``) to repeat the whole study with (each seed its own jobs); every claim
    then combines all seeds by the one rule of ``workbench.claims``."""

    METHOD: ClassVar[str] = METHOD
    LINKS: ClassVar[tuple[tuple[str, str, str], ...]] = (("min_rechecks", "<=", "max_rechecks"), ("hidden", "%", "heads"))
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {
            "hidden": 32, "intermediate": 128, "layers": 2, "base_steps": 150, "child_steps": 60,
            "n_eval": 60, "samples": 2, "coarse_step": 0.25, "fine_step": 0.05, "fine_edge": 0.05,
            "switch_window": 0.0, "slerp_step": 0.25, "other_step": 0.5, "n_boot": 200,
        },
        "full": {
            "hidden": 128, "intermediate": 512, "base_steps": 1500, "child_steps": 400, "n_eval": 1200,
            "samples": 4, "coarse_step": 0.05, "fine_step": 0.01, "slerp_step": 0.05, "other_step": 0.1,
            "seeds": (1, 2), "n_boot": 2000,
        },
    }
