"""One training-settings base: the LM kit's SFT settings and GLASS's loop share their common fields
under one name each (``workbench.training``)."""

import dataclasses

from workbench.glass.training import TrainSettings
from workbench.lm import SFTSettings
from workbench.training import TrainingSettings

SHARED = [f.name for f in dataclasses.fields(TrainingSettings)]


def test_both_loops_take_the_shared_fields_from_the_base_in_its_order():
    for cls in (SFTSettings, TrainSettings):
        assert issubclass(cls, TrainingSettings)
        assert [f.name for f in dataclasses.fields(cls)][:len(SHARED)] == SHARED  # positional steps, batch_size, lr
    assert TrainSettings(400, 64, 1e-3).batch_size == 64 and SFTSettings(warmup=5).warmup == 5


def test_each_loop_keeps_its_own_defaults():
    sft, glass = SFTSettings(), TrainSettings()
    assert (sft.steps, sft.batch_size, sft.lr, sft.warmup, sft.weight_decay, sft.log_every) == (300, 32, 3e-3, 20, 0.0, 10)
    assert (glass.steps, glass.batch_size, glass.lr, glass.warmup, glass.weight_decay, glass.log_every) == \
        (600, 256, 2e-3, 50, 0.01, 25)
