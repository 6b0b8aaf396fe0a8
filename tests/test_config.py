from dataclasses import FrozenInstanceError

import pytest

from toy_pipeline import Config
from workbench.errors import WorkbenchError


def test_profiles_apply_presets():
    assert Config.for_profile("smoke").n == 50
    assert Config.for_profile("demo").n == 200
    assert Config.for_profile("full").n == 2000
    assert Config.for_profile("smoke").profile == "smoke"


def test_a_dataset_preset_sits_under_the_profile_and_the_overrides():
    assert (Config.for_profile("demo", dataset="numbers").n, Config.for_profile("demo", dataset="numbers").skill) == (300, 0.7)
    assert Config.for_profile("smoke", dataset="numbers").n == 50  # the profile's preset wins
    assert Config.for_profile("smoke", dataset="numbers").skill == 0.7
    assert Config.for_profile("demo", dataset="numbers", n="9").n == 9  # an override wins
    assert Config.for_profile("demo").n == 200  # the synthetic world keeps the defaults


def test_the_rebuild_command_leaves_out_the_dataset_preset():
    from workbench.store import rebuild_command

    config = Config.for_profile("demo", dataset="numbers", data_path="x.txt", n="9")
    assert rebuild_command("toy", config) == "workbench build toy --profile demo --dataset numbers --data-path x.txt --set n=9"


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


def test_from_dict_rebuilds_the_settings_a_job_got():
    import json

    cfg = Config.for_profile("full", dataset="numbers", skill=0.6)
    spec = json.loads(json.dumps(cfg.to_dict()))  # as a job reads it: tuples came back as lists
    assert spec["seeds"] == [1, 2] and Config.from_dict(spec) == cfg
    del spec["n"]  # a run stored before a setting existed: its profile's value
    assert Config.from_dict(spec).n == 2000
    with pytest.raises(WorkbenchError, match="Unknown setting"):
        Config.from_dict({**spec, "colour": "red"})


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


# ---- ranges: every numeric setting of every method declares one, checked before any work ----------
def _method_configs():
    from workbench import methods

    return [methods.load(name).Config for name in methods.available()]


def _numeric(field) -> bool:
    import typing

    return field.type in ("int", "float", "tuple[int, ...]", "tuple[float, ...]") or field.type in (
        int, float, typing.Tuple[int, ...])


@pytest.mark.parametrize("cls", _method_configs(), ids=lambda c: c.METHOD)
def test_every_numeric_setting_declares_its_range(cls):
    import dataclasses

    fields = [f for f in dataclasses.fields(cls) if _numeric(f)]
    assert fields
    assert [f.name for f in fields if "range" not in f.metadata] == []
    for profile in ("smoke", "demo", "full"):  # every shipped profile is inside the ranges
        cls.for_profile(profile)


FREE_TEXT = {"dataset", "name"}
"""String settings without choices or ``path``: the dataset's choices are its method's ``DATASETS``
(``workbench.methods.check``), which the config class cannot import; glass's ``name`` picks a dataset
inside ``--data-path`` (its loader lists the ones there)."""


@pytest.mark.parametrize("cls", _method_configs(), ids=lambda c: c.METHOD)
def test_every_setting_declares_its_kind_and_valid_values(cls):
    """Issue 24: numbers an upper bound too, strings their choices (or that they are paths), tuples their length."""
    import dataclasses
    import math
    import typing

    hints = typing.get_type_hints(cls)
    undeclared = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        listed = typing.get_origin(hint) is tuple
        kind = typing.get_args(hint)[0] if listed else hint
        if listed and "length" not in f.metadata:
            undeclared.append(f"{f.name}: length")
        if kind in (int, float) and not (f.metadata.get("range") and f.metadata["range"].high is not None
                                         and math.isfinite(f.metadata["range"].high)):
            undeclared.append(f"{f.name}: upper bound")
        if kind is str and not ("choices" in f.metadata or f.metadata.get("path")) and f.name not in FREE_TEXT:
            undeclared.append(f"{f.name}: choices or path")
    assert undeclared == []


@pytest.mark.parametrize("method, name, registry", [
    ("glass", "systems", "workbench.glass.systems:SYSTEMS"),
    ("needs", "variants", "workbench.needs.evaluate:VARIANTS"),
    ("merging", "methods", "workbench.merging.merge_methods:REGISTRY"),
])
def test_a_family_setting_takes_its_choices_from_the_registry(method, name, registry):
    import importlib

    from workbench import methods

    cls = methods.load(method).Config
    module, _, attr = registry.partition(":")
    assert cls.choices(name) == tuple(getattr(importlib.import_module(module), attr))
    assert set(getattr(cls.for_profile("full"), name)) <= set(cls.choices(name))


@pytest.mark.parametrize("method, pair, words", [
    ("glass", "systems=nosuch", ["glass.systems=nosuch", "one of popularity, sasrec", "'nosuch'"]),
    ("glass", "systems=glass,glass", ["names glass twice"]),
    ("glass", "systems=", ["glass.systems=", "at least 1"]),
    ("glass", "sid_method=nosuch", ["sid_method", "residual_kmeans, rqvae"]),
    ("glass", "eval_split=nosuch", ["eval_split", "test, valid"]),
    ("glass", "codebook=", ["codebook", "0 entries", "1 to 8"]),
    ("glass", "device=tpu", ["device", "auto, cpu, cuda"]),
    ("needs", "arch=nosuch", ["arch", "llama, qwen2"]),
    ("needs", "variants=full,nosuch", ["variants", "'nosuch'", "isolated"]),
    ("needs", "cluster_algorithm=nosuch", ["cluster_algorithm", "dbscan, hdbscan, kmeans"]),
    ("needs", "tokenizer=nosuch", ["tokenizer", "word, subword, auto"]),
    ("merging", "methods=linear,bogus", ["methods", "'bogus'", "dare_ties"]),
    ("needs", "users=1_000", ["needs.users='1_000'", "without underscores", "users=1000"]),
    ("needs", "users=1e3", ["needs.users='1e3'", "not a valid int"]),
    ("glass", "seed=1,2", ["seed='1,2'", "seeds=1,2"]),
    ("glass", "sed=1", ["Unknown setting 'sed'", "did you mean seed or seeds"]),
    ("glass", "profile=demo", ["--profile", "not a --set setting"]),
])
def test_a_string_or_list_setting_outside_its_choices_is_one_sentence(method, pair, words):
    from workbench import methods

    with pytest.raises(WorkbenchError) as info:
        methods.make_config(method, "smoke", [pair])
    message = str(info.value)
    assert all(w in message for w in words) and "\n" not in message, message


def test_a_config_made_directly_with_the_wrong_kind_is_refused():
    from workbench import methods

    with pytest.raises(WorkbenchError, match="steps=5 is not int"):
        methods.load("glass").Config(steps="5").check()
    with pytest.raises(WorkbenchError, match="is not a tuple of str"):
        methods.load("glass").Config(systems="glass").check()


@pytest.mark.parametrize("method, pair, words", [
    ("glass", "steps=0", ["glass.steps=0", "integer in [1, 1000000]"]),
    ("glass", "steps=-5", ["glass.steps=-5", "[1, 1000000]"]),
    ("glass", "steps=100000000000000000000000000000", ["glass.steps=1000000000", "[1, 1000000]"]),
    ("glass", "lr=nan", ["glass.lr=nan", "finite number in (0, 1]"]),
    ("glass", "lr=inf", ["glass.lr=inf", "finite"]),
    ("glass", "codebook=16,1,8", ["codebook=16,1,8", "each entry of codebook", "[2, 4096]"]),
    ("glass", "dropout=1", ["dropout=1.0", "[0, 1)"]),
    ("merging", "density=0", ["density=0.0", "(0, 1]"]),
    ("merging", "top_p=1.5", ["top_p=1.5", "(0, 1]"]),
    ("needs", "rl_generations=1", ["rl_generations=1", "[2, 1024]"]),
    ("needs", "min_pop_share=-0.1", ["min_pop_share=-0.1", "[0, 1]"]),
    ("needs", "seed=-1", ["needs.seed=-1", "[0, 2147483647]"]),
])
def test_a_setting_out_of_range_is_one_sentence_naming_it(method, pair, words):
    from workbench import methods

    with pytest.raises(WorkbenchError) as info:
        methods.make_config(method, "smoke", [pair])
    message = str(info.value)
    assert all(w in message for w in words) and "\n" not in message, message


@pytest.mark.parametrize("method, pairs, words", [
    ("glass", ["history_min=300"], ["history_min=300", "history_max=120", "<="]),
    ("merging", ["heads=3"], ["hidden=32", "heads=3", "multiple"]),
])
def test_linked_settings_are_checked(method, pairs, words):
    from workbench import methods

    with pytest.raises(WorkbenchError) as info:
        methods.make_config(method, "smoke", pairs)
    assert all(w in str(info.value) for w in words), info.value


def test_a_config_made_directly_is_checked_before_the_build(tmp_store):
    from workbench import methods

    bad = methods.load("merging").Config(child_steps=0)  # the constructor itself does not check ...
    with pytest.raises(WorkbenchError, match="child_steps=0"):
        methods.build_many([bad], tmp_store)  # ... the build does, before any work
    assert not any(tmp_store.root.rglob("*")) if tmp_store.root.exists() else True


@pytest.mark.parametrize("method, overrides, words", [
    ("merging", ["dataset=nosuch", "data_path=/no/such"], ["merging has no real-data support", "--dataset"]),
    ("merging", ["data_path=/no/such"], ["merging has no real-data support"]),
    ("needs", ["dataset=nosuch"], ["Unknown dataset 'nosuch' for needs", "foursquare"]),
    ("glass", ["dataset=nosuch"], ["Unknown dataset 'nosuch' for glass", "movielens"]),
    ("glass", ["data_path=/x"], ["--data-path is read only with a real --dataset"]),
    ("glass", ["dataset=movielens"], ["needs --data-path"]),
])
def test_datasets_a_method_cannot_load_are_refused_up_front(method, overrides, words):
    from workbench import methods

    with pytest.raises(WorkbenchError) as info:
        methods.make_config(method, "smoke", overrides)
    assert all(w in str(info.value) for w in words), info.value
