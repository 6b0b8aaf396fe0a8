"""The reduced two-seed builds the pipeline tests share: each method's smoke profile cut to seconds
per job, so the same build can run twice — once inline (workers=1) and once in two worker processes —
and be compared byte for byte (``tiny_builds`` in conftest: two runner calls for all three methods).
"""

from __future__ import annotations

from typing import Any

GLASS: dict[str, Any] = {"train_users": 120, "test_users": 60, "cases_per_user": 3, "steps": 15, "sasrec_steps": 10,
                         "systems": "popularity,tiger,glass,noise", "seeds": "1"}
"""Two seeds, four SID models per seed."""

NEEDS: dict[str, Any] = {"users": 40, "min_records": 20, "max_records": 24,
                         "variants": ("isolated", "clustered_sft", "full"), "sft_steps": 6, "sft_batch": 8, "rl_steps": 2,
                         "rl_prompts": 2, "rl_generations": 2, "max_train_cases": 200, "umap_points": 100, "seeds": (1,)}
"""40 users, three variants, a few steps, two seeds."""

MERGING: dict[str, Any] = {"hidden": 16, "intermediate": 32, "layers": 1, "base_steps": 6, "child_steps": 3, "n_eval": 6,
                           "samples": 1, "methods": ("linear", "slerp", "dare_ties"), "coarse_step": 0.5,
                           "fine_step": 0.25, "fine_edge": 0.0, "switch_window": 0.0, "slerp_step": 0.5,
                           "other_step": 0.5, "n_boot": 50, "seeds": (1,)}
"""Tiny models, one problem per difficulty, a coarse grid, and three methods (linear, SLERP reusing
linear's endpoints, DARE-TIES with its random masks)."""

TINY = {"glass": GLASS, "needs": NEEDS, "merging": MERGING}


def config(method: str):
    """The tiny settings of ``method`` (its smoke profile with the overrides above)."""
    from workbench import methods

    return methods.make_config(method, "smoke", TINY[method])
