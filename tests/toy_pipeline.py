"""A minimal method used to test the shared machinery (store, claims, CLI, app) on its own.

It follows the pipeline contract of workbench/methods.py: TITLE, Config, CLAIMS, DATASETS, build().
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from workbench.claims import Claim, ClaimSpec
from workbench.config import MethodConfig
from workbench.errors import WorkbenchError
from workbench.metrics import paired_bootstrap
from workbench.progress import scaled
from workbench.runtime import StepTimer

TITLE = "Toy"
DATASETS = {"numbers": "a text file of numbers, one per line"}
CLAIMS = [ClaimSpec("toy.better", "toy", "The model beats the baseline.", "accuracy model - baseline")]


@dataclass(frozen=True)
class Config(MethodConfig):
    n: int = 200
    """Number of cases."""
    skill: float = 0.8
    """Probability that the model is right."""
    fail: bool = False
    """Raise half-way through the build (to test that nothing half-written is left)."""

    METHOD: ClassVar[str] = "toy"
    PRESETS: ClassVar[dict] = {"smoke": {"n": 50}, "full": {"n": 2000}}


def build(config: Config, store, progress=None):
    if existing := store.find("toy", config):
        return existing
    timer = StepTimer()
    rng = np.random.default_rng(config.seed)
    with store.create("toy", config) as run:
        with timer.step("evaluate"):
            model = (rng.random(config.n) < config.skill).astype(float)
            base = (rng.random(config.n) < 0.5).astype(float)
            scaled(progress, 0, 0.5)("evaluating", 1.0)
            run.write_json("metrics", {"model": model.mean(), "baseline": base.mean()})
        if config.fail:
            raise WorkbenchError("toy build failed on purpose")
        cmp = paired_bootstrap(model, base)
        claim = Claim.from_spec(
            CLAIMS[0], value=model.mean(), reference=base.mean(), interval=[cmp["low"], cmp["high"]],
            reproduced=cmp["low"] > 0, seeds=1, dataset=config.dataset, profile=config.profile,
        )
        run.write_json("claims", [claim.to_dict()])
        if progress:
            progress("done", 1.0)
        return run.finish(timer.as_dict())
