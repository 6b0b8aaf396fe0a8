from dataclasses import FrozenInstanceError

import pytest

from toy_pipeline import Config
from workbench.errors import WorkbenchError


def test_profiles_apply_presets():
    assert Config.for_profile("smoke").n == 50
    assert Config.for_profile("demo").n == 200
    assert Config.for_profile("full").n == 2000
    assert Config.for_profile("smoke").profile == "smoke"


def test_overrides_are_coerced_by_field_type():
    cfg = Config.for_profile("demo").with_overrides(["n=7", "skill=0.25", "fail=false", "dataset=numbers"])
    assert (cfg.n, cfg.skill, cfg.fail, cfg.dataset) == (7, 0.25, False, "numbers")


@pytest.mark.parametrize("pair, message", [
    ("n=abc", "not a valid int"),
    ("colour=red", "Unknown setting"),
    ("n", "key=value"),
    ("fail=maybe", "not a valid bool"),
])
def test_bad_overrides_give_one_clear_error(pair, message):
    with pytest.raises(WorkbenchError, match=message):
        Config.for_profile("demo").with_overrides([pair])


def test_unknown_profile():
    with pytest.raises(WorkbenchError, match="Unknown profile 'huge'"):
        Config.for_profile("huge")


def test_hash_depends_on_settings_but_not_device():
    a = Config.for_profile("demo")
    assert a.config_hash() == Config.for_profile("demo").config_hash()
    assert a.config_hash() != a.with_overrides(["n=201"]).config_hash()
    assert a.config_hash() == a.with_overrides(["device=cpu"]).config_hash()


def test_config_is_frozen_and_documented():
    cfg = Config.for_profile("demo")
    with pytest.raises(FrozenInstanceError):
        cfg.n = 3
    docs = Config.field_docs()
    assert docs["n"] == "Number of cases." and "CUDA" in docs["device"]
