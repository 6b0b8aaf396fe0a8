"""Recipes (recipes/*.toml): every committed one is a valid set of settings for its method and gives
the same settings as the README command it replaces; precedence profile < dataset preset < recipe <
command line; a bad recipe is one sentence and exit 2. Nothing is built."""

from __future__ import annotations

import pytest

from workbench import methods, recipes
from workbench.config import parse_overrides
from workbench.errors import WorkbenchError

BEAUTY = "../shared/data/amazon-beauty"
# The README commands the recipes replace: (method, profile, --set pairs incl. dataset/data_path).
README = {
    "beauty-tiger": ("glass", "demo", ["dataset=amazon_beauty", f"data_path={BEAUTY}", "systems=popularity,sasrec,tiger",
                                       "codebook=256,256,256", "d_model=64", "d_ff=128", "enc_layers=2", "steps=2000",
                                       "sasrec_steps=2000", "batch_size=256", "lr=2e-3"]),
    "beauty-tiger-long": ("glass", "demo", ["dataset=s3rec", f"data_path={BEAUTY}", "systems=tiger", "codebook=256,256,256",
                                            "d_model=64", "d_ff=128", "enc_layers=2", "steps=10000", "batch_size=256",
                                            "lr=2e-3", "length_batches=true", "select_every=500"]),
    "needs-stable-budget": ("needs", "demo", ["sft_steps=3000", "seeds=1,2",
                                              "variants=popularity,history,isolated,clustered_sft,sft_more,rl_sparse,full"]),
    "foursquare-mat": ("needs", "demo", ["dataset=foursquare", "data_path=../shared/data/foursquare-nyc-mat"]),
}


def test_there_are_recipes_and_each_says_what_it_is_for():
    assert len(recipes.names()) >= 8
    for name in recipes.names():
        recipe = recipes.load(name)
        assert len(recipe.about) > 40, f"{name}: start the file with a comment saying what it is for"


@pytest.mark.parametrize("name", recipes.names())
def test_every_committed_recipe_validates_against_its_method(name):
    recipe = recipes.load(name)
    configs = recipes.configs(recipe)
    assert configs and all(c.profile == recipe.profile for c in configs)
    for config in configs:
        table = recipe.settings if recipe.method != "all" else recipe.settings[config.METHOD]
        for key, value in table.items():  # every setting of the file arrived, with its type
            expected = tuple(value) if isinstance(value, list) else value
            assert getattr(config, key) == expected, (name, key)


@pytest.mark.parametrize("name", sorted(README))
def test_a_recipe_gives_the_settings_of_the_readme_command_it_replaces(name):
    method, profile, pairs = README[name]
    (config,) = recipes.configs(recipes.load(name))
    assert config.config_hash() == methods.make_config(method, profile, pairs).config_hash()


def test_precedence_profile_then_preset_then_recipe_then_command_line(tmp_path):
    recipe = recipes.load("foursquare-mat-full-softmax")  # preset: batch_softmax on, 1,024 negatives, 1,500 steps
    data = tmp_path / "mat"
    data.mkdir()
    method, profile, overrides = recipes.build_options(recipe, None, None, None, data, [])
    config = methods.make_config(method, profile, overrides)
    assert (config.sft_steps, config.batch_softmax) == (1000, False)  # the recipe over the dataset's preset
    assert config.batch_negatives == 1024  # what the recipe does not say, the preset still gives
    assert config.data_path == str(data)  # --data-path over the recipe's hint
    method, profile, overrides = recipes.build_options(recipe, "needs", "smoke", None, data, ["sft_steps=7"])
    config = methods.make_config(method, profile, overrides)
    assert (config.sft_steps, config.profile, config.batch_softmax) == (7, "smoke", False)  # --set over the recipe
    assert config.users == methods.make_config("needs", "smoke").users  # --profile over the recipe's profile


def test_reference_recipe_gives_method_dot_key_overrides():
    recipe = recipes.load("reference-stable-budget")
    assert recipes.reference_options(recipe, None, None, []) == ("demo", 3, ["glass.steps=2400", "merging.child_steps=3000",
                                                                           "needs.sft_steps=3000"])
    profile, seeds, pairs = recipes.reference_options(recipe, "smoke", 2, ["glass.steps=10", "merging.n_eval=12"])
    assert (profile, seeds) == ("smoke", 2)
    assert parse_overrides(pairs) == {"glass.steps": "10", "merging.child_steps": "3000", "needs.sft_steps": "3000",
                                    "merging.n_eval": "12"}
    with pytest.raises(WorkbenchError, match="reference recipe"):
        recipes.build_options(recipe, None, None, None, None, [])


def write(tmp_path, text: str, name: str = "mine.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("text, message", [
    ('method = "glass"\n[settings]\nstepz = 5\n', r"Recipe mine: Unknown setting 'stepz' for glass"),
    ('method = "glass"\n[settings]\nsteps = 0\n', r"Recipe mine: Setting glass.steps=0 is out of range"),
    ('method = "glass"\n[settings]\nsteps = "many"\n', r"Recipe mine: Setting glass.steps='many' is not a valid int"),
    ('method = "glas"\n', r"Recipe mine: Unknown method 'glas'"),
    ('methd = "glass"\n', r"unknown key\(s\) methd"),
    ('profile = "demo"\n', r"names no method"),
    ('method = "glass"\nsteps = 5\n', r"unknown key\(s\) steps.*under \[settings\]"),
    ('method = "glass"\n[settings\n', r"is not valid TOML"),
    ('method = "all"\n[settings]\nsteps = 5\n', r"its own table"),
    ('method = "glass"\nseeds = 3\n', r"for reference recipes"),
])
def test_a_bad_recipe_is_one_sentence(tmp_path, text, message):
    with pytest.raises(WorkbenchError, match=message):
        recipes.load(write(tmp_path, text), check=True)


def test_bad_recipes_through_the_cli_exit_2_with_one_line(tmp_path, cli):
    rows = [
        (["build", "--recipe", "no-such-recipe"], "No recipe 'no-such-recipe'"),
        (["build", "--recipe", str(tmp_path / "missing.toml")], "does not exist"),
        (["build", "--recipe", write(tmp_path, 'method = "glass"\n[settings]\nstepz = 5\n', "typo.toml")], "Unknown setting 'stepz'"),
        (["build", "glass", "--recipe", "needs-stable-budget"], "is for needs, not glass"),
        (["build", "--recipe", write(tmp_path, 'method = "glass"\ndataset = "movielens"\ndata_path = "nowhere/ml"\n', "nodata.toml")],
         "reads its data from nowhere/ml, which does not exist"),
        (["reference", "--recipe", "beauty-tiger"], "workbench build --recipe beauty-tiger"),
        (["build"], "Name a method to build"),
    ]
    for args, message in rows:
        r = cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
    assert not (tmp_path / "artifacts").exists() or not any((tmp_path / "artifacts").rglob("manifest.json"))


def test_show_settings_of_a_recipe_with_a_set_on_top(tmp_path, cli):
    data = tmp_path / "beauty"
    data.mkdir()
    r = cli("build", "--recipe", "beauty-tiger", "--data-path", data, "--set", "steps=7", "--show-settings")
    assert r.returncode == 0, r.stderr
    assert "glass.steps = 7" in r.stdout and "glass.d_model = 64" in r.stdout
    assert "glass.dataset = 'amazon_beauty'" in r.stdout and f"glass.data_path = '{data}'" in r.stdout
