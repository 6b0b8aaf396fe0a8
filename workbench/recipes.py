"""Recipes: named sets of settings in TOML files, run with ``workbench build --recipe NAME``.

A recipe is what a long ``--set`` chain in the README was (as nanoGPT's ``config/*.py``): one file in
the checkout's ``recipes/`` folder that says which method, profile, dataset and settings a study
used, with a comment saying what it is for::

    # TIGER on Amazon Beauty (the README's table): ...
    method = "glass"
    profile = "demo"
    dataset = "amazon_beauty"
    data_path = "../shared/data/amazon-beauty"   # a hint; --data-path wins
    [settings]
    codebook = [256, 256, 256]

Precedence, lowest first: the profile's defaults and the dataset's preset, the recipe's settings,
then every ``--set`` (and ``--profile`` / ``--dataset`` / ``--data-path``) on the command line.

A ``reference`` recipe (for ``workbench reference --recipe NAME``) has ``method = "all"``, may give
``seeds``, and keeps each method's settings in its own table (``[settings.glass]``).

Recipes are found from the checkout, as the app is, not packaged: they name data paths relative to
a checkout (``../shared/data/...``) and are meant to be read, copied and edited; from any install
``--recipe path/to/my.toml`` reads a file directly.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.config import parse_overrides
from workbench.errors import WorkbenchError
from workbench.store import PROJECT_ROOT

RECIPES = PROJECT_ROOT / "recipes"
KEYS = ("method", "profile", "dataset", "data_path", "seeds", "settings")


@dataclass(frozen=True)
class Recipe:
    """One recipe file, parsed (``configs`` checks its settings against its method's Config)."""

    name: str
    path: Path
    method: str
    profile: str = "demo"
    dataset: str | None = None
    data_path: str | None = None
    """Where the data lay when the recipe was measured (relative to where the command runs)."""
    seeds: int | None = None
    """reference recipes: seeds 0..N-1."""
    settings: dict[str, Any] = field(default_factory=dict)
    """``key -> value``; for ``method = "all"``, ``method -> {key -> value}``."""

    @property
    def about(self) -> str:
        """What the recipe is for: the comment lines at the top of its file."""
        comments = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            comments.append(line.lstrip("#").strip())
        return " ".join(comments).strip()


def names() -> list[str]:
    """The committed recipes' names (the files in ``recipes/``)."""
    return sorted(p.stem for p in RECIPES.glob("*.toml"))


def find(name: str) -> Path:
    """The file of recipe ``name``: a path to a ``.toml`` file, or a name in the checkout's ``recipes/``."""
    given = Path(name).expanduser()
    if given.suffix == ".toml" or given.parent != Path("."):
        if given.is_file():
            return given
        raise WorkbenchError(f"Recipe file {given} does not exist; pass a .toml file or one of: {', '.join(names()) or 'none'}.")
    path = RECIPES / f"{name}.toml"
    if not path.is_file():
        where = f"in {RECIPES}" if RECIPES.is_dir() else f"({RECIPES} is not next to this install; pass a file path)"
        raise WorkbenchError(f"No recipe {name!r} {where}; choose one of: {', '.join(names()) or 'none'}.")
    return path


def load(name: str, check: bool = False) -> Recipe:
    """Read and shape-check a recipe (unknown keys, a missing method, bad TOML: one sentence each);
    ``check`` also checks its settings against its method's Config (``configs``)."""
    path = find(name)
    label = path.stem
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise WorkbenchError(f"Recipe {label} ({path}) is not valid TOML: {err}.") from err
    unknown = sorted(set(doc) - set(KEYS))
    if unknown:
        raise WorkbenchError(f"Recipe {label} has unknown key(s) {', '.join(unknown)}; a recipe holds "
                             f"{', '.join(KEYS)} (settings go under [settings]).")
    if not isinstance(doc.get("method"), str):
        raise WorkbenchError(f"Recipe {label} names no method; add e.g. method = \"glass\" (or \"all\" for reference).")
    settings = doc.get("settings", {})
    if not isinstance(settings, dict):
        raise WorkbenchError(f"Recipe {label}: settings must be a table ([settings]).")
    seeds = doc.get("seeds")
    if seeds is not None and (doc["method"] != "all" or not isinstance(seeds, int) or isinstance(seeds, bool)):
        raise WorkbenchError(f"Recipe {label}: seeds (a whole number) is for reference recipes (method = \"all\") only.")
    recipe = Recipe(label, path, doc["method"], str(doc.get("profile", "demo")), doc.get("dataset"),
                    doc.get("data_path"), seeds, settings)
    if check:
        configs(recipe)
    return recipe


def build_options(recipe: Recipe, method: str | None, profile: str | None, dataset: str | None,
                  data_path: Path | None, sets: list[str]) -> tuple[str, str, dict[str, Any]]:
    """``workbench build``'s (method, profile, overrides) with ``recipe`` under the command line's options."""
    if recipe.method == "all":
        raise WorkbenchError(f"Recipe {recipe.name} is a reference recipe; run `workbench reference --recipe {recipe.name}`.")
    if method not in (None, recipe.method):
        raise WorkbenchError(f"Recipe {recipe.name} is for {recipe.method}, not {method}; drop the method argument.")
    if recipe.data_path and not data_path and not Path(recipe.data_path).expanduser().exists():
        raise WorkbenchError(f"Recipe {recipe.name} reads its data from {recipe.data_path}, which does not exist "
                             "here; pass --data-path with where that dataset lies.")
    overrides = {**recipe.settings, **_data_of(recipe), **parse_overrides(sets)}
    if dataset:
        overrides["dataset"] = dataset
    if data_path:
        overrides["data_path"] = str(data_path)
    return recipe.method, profile or recipe.profile, overrides


def reference_options(recipe: Recipe, profile: str | None, seeds: int | None, sets: list[str]) -> tuple[str, int, list[str]]:
    """``workbench reference``'s (profile, seeds, ``METHOD.key=value`` overrides): the recipe's, then the command line's."""
    if recipe.method != "all":
        raise WorkbenchError(f"Recipe {recipe.name} is for {recipe.method}; run `workbench build --recipe {recipe.name}`.")
    pairs = {}
    for method, table in recipe.settings.items():
        if not isinstance(table, dict):
            raise WorkbenchError(f"Recipe {recipe.name}: a reference recipe keeps each method's settings in its own "
                                 f"table ([settings.{method}] is not one).")
        pairs.update({f"{method}.{key}": _as_text(value) for key, value in table.items()})
    pairs.update(parse_overrides(sets))
    return profile or recipe.profile, seeds if seeds is not None else recipe.seeds or 3, [f"{k}={v}" for k, v in pairs.items()]


def configs(recipe: Recipe) -> list:
    """The Config(s) the recipe makes, each checked against its method (no build, no data read: the data
    path is only a hint); one sentence naming the recipe for the first bad setting."""
    from workbench import methods

    if recipe.method != "all":
        overrides = {**recipe.settings, **_data_of(recipe)}
        return [_checked(recipe, lambda: methods.make_config(recipe.method, recipe.profile, overrides))]
    profile, _, pairs = reference_options(recipe, None, None, [])
    per_method: dict[str, list[str]] = {}
    for pair in pairs:
        method, _, setting = pair.partition(".")
        per_method.setdefault(method, []).append(setting)
    return [_checked(recipe, lambda m=m, o=o: methods.make_config(m, profile, o)) for m, o in per_method.items()]


def _data_of(recipe: Recipe) -> dict[str, str]:
    return {k: v for k, v in (("dataset", recipe.dataset), ("data_path", recipe.data_path)) if v}


def _checked(recipe: Recipe, make):
    try:
        return make()
    except WorkbenchError as err:
        raise WorkbenchError(f"Recipe {recipe.name}: {err}") from err


def _as_text(value: Any) -> str:
    """A TOML value as a ``--set`` string (lists comma-joined, booleans lower-case)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(_as_text(v) for v in value)
    return str(value)
