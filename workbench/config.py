"""Profiles and per-method settings.

Every method has one frozen dataclass of settings (``workbench/<method>/config.py``) that subclasses
``MethodConfig``. Each field's default is the ``demo`` profile; ``PRESETS`` holds what the ``smoke``
and ``full`` profiles change. ``for_profile`` builds one, ``with_overrides`` applies ``key=value``
strings from the CLI with types taken from the field annotations, ``from_dict`` rebuilds one from its
``to_dict()`` (in a job, from its spec).

Profiles:
- ``smoke``: each method builds in about a minute on 2 cores; used by the tests and notebook runs.
- ``demo``:  what the app shows by default; all methods together build in about 15 minutes on 2 cores.
- ``full``:  the paper-style study with >= 3 seeds; CPU hours, or a GPU (``device="auto"`` takes CUDA).

Every setting declares its kind and valid values in one place, the ``setting(...)`` beside its doc:
the kind is the field's annotation (``int``, ``float``, ``bool``, ``str``, ``tuple[int, ...]``...); a
number states its range with a finite upper bound (``setting(600, ge=1, le=1_000_000)``), a string its
``choices`` (or ``path=True``: a file or folder, checked by the loader that reads it), a tuple the
number of entries (``length``) and the range or choices of each entry. ``check`` tests all of them
whenever settings are made from a profile or overrides, so a bad value is one sentence before any
work starts; jobs never check a setting again.

A value from the command line has one spelling: ``users=1000``, not ``1_000`` or ``1e3`` (Python's
``int()`` would take both), so a command, a recipe and ``--show-settings`` always read alike.

The config hash names the artifact folder, so a rebuild with the same settings is a no-op.
``device`` is left out of the hash: the same experiment on another device is the same experiment.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import re
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from workbench.errors import WorkbenchError

PROFILES = ("smoke", "demo", "full")
_UNHASHED = ("device",)
MAX_SEED = 2**31 - 1
"""The largest seed (and entry of ``seeds``): every random generator here takes it, and derived seeds stay in 64 bits."""


@dataclass(frozen=True)
class Range:
    """The valid values of a numeric setting: bounds, each inclusive or not (None = unbounded).

    >>> str(Range(low=0, low_open=True, high=1)), 0.5 in Range(low=0, low_open=True, high=1), 0 in Range(low=0, low_open=True)
    ('in (0, 1]', True, False)
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (self.high is not None and (value >= self.high if self.high_open else value > self.high))

    def __str__(self) -> str:
        low, high = _number(self.low), _number(self.high)
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {low}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {high}"
        return "any number"


def _number(value: float | None) -> str:
    """A bound as a user types it: ``1000000`` (not ``1e+06``), ``0.5``, ``1e-06``."""
    if value is not None and float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if value is not None else ""


def setting(default: Any, *, ge: float | None = None, gt: float | None = None, le: float | None = None,
            lt: float | None = None, choices: tuple[str, ...] | str | None = None,
            length: tuple[int, int] | None = None, path: bool = False) -> Any:
    """A dataclass field with its valid values; for a tuple they hold for every entry.

    - ``ge``/``gt``/``le``/``lt``: the range of a number (>=, >, <=, <); ``steps: int = setting(600, ge=1,
      le=1_000_000)`` reads "600, at least 1, at most a million".
    - ``choices``: the valid strings, or ``"package.module:NAME"`` naming a registry (a dict: its keys)
      or the tuple a library function checks against, kept in a module that would import this config
      back or is heavy to import (merge methods, systems, variants, clustering algorithms); it is read
      when checked. Entries of a tuple of choices must differ.
    - ``length``: (fewest, most) entries of a tuple.
    - ``path``: the string is a file or folder (empty = none), checked by the loader that reads it.
    """
    valid = Range(low=gt if gt is not None else ge, high=lt if lt is not None else le,
                  low_open=gt is not None, high_open=lt is not None)
    metadata: dict[str, Any] = {"range": valid}
    if choices is not None:
        metadata["choices"] = choices
    if length is not None:
        metadata["length"] = length
    if path:
        metadata["path"] = True
    return dataclasses.field(default=default, metadata=metadata)


def _choices(declared: tuple[str, ...] | str) -> tuple[str, ...]:
    """The valid strings of a setting: as declared, or the keys of the registry ``"module:NAME"`` names."""
    if isinstance(declared, str):
        import importlib

        module, _, name = declared.partition(":")
        return tuple(getattr(importlib.import_module(module), name))
    return tuple(declared)


@dataclass(frozen=True)
class MethodConfig:
    """Settings shared by every method. Subclasses add their own fields (defaults = demo profile)."""

    profile: str = setting("demo", choices=PROFILES)
    """Which profile these settings came from: smoke, demo or full (chosen with --profile, not --set)."""
    seed: int = setting(0, ge=0, le=MAX_SEED)
    """Seed of the world and of training; ``seeds`` (in subclasses) lists extra seeds for the full study."""
    device: str = setting("auto", choices=("auto", "cpu", "cuda"))
    """``auto`` takes CUDA when present, else the CPU (pick a GPU with CUDA_VISIBLE_DEVICES)."""
    dataset: str = "synthetic"
    """``synthetic`` (the generated world) or the name of a real dataset the method can load (its choices
    are the method's ``DATASETS``, checked by ``workbench.methods.check``)."""
    data_path: str = setting("", path=True)
    """Folder or file of the real dataset; empty for the synthetic world."""

    METHOD: ClassVar[str] = ""
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}
    DATASET_PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}
    """What a real dataset changes, under the profile's ``PRESETS`` and any override (needs: the sampled
    prompt loss for real check-ins, whose one word per venue makes an 11k-word vocabulary)."""
    LINKS: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    """Rules between two settings, checked after the ranges: ``("a", "<=", "b")`` or ``("a", "%", "b")``
    (a divisible by b)."""

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def for_profile(cls, profile: str = "demo", /, **overrides: Any) -> Self:
        """Settings of ``profile`` (smoke/demo/full) for ``overrides``' dataset, then ``overrides`` on top."""
        if profile not in PROFILES:
            raise WorkbenchError(f"Unknown profile {profile!r}; choose one of {', '.join(PROFILES)}.")
        if "profile" in overrides:
            raise WorkbenchError(f"The profile is not a --set setting: choose it with --profile (one of "
                                 f"{', '.join(PROFILES)}), e.g. --profile {overrides['profile']}.")
        dataset = cls.DATASET_PRESETS.get(str(overrides.get("dataset", "synthetic")), {})
        values = {**dataset, **cls.PRESETS.get(profile, {}), **overrides, "profile": profile}
        return cls._make(values)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        """Settings back from their ``to_dict()`` — a job's spec, a run's manifest — checked again (JSON
        turned tuples into lists); a setting the dict lacks (a run stored before it existed) takes its
        profile's value. The one way a job or a page rebuilds its config."""
        return cls.for_profile(values.get("profile", "demo"), **{k: v for k, v in values.items() if k != "profile"})

    def with_overrides(self, pairs: list[str] | dict[str, Any]) -> Self:
        """Apply ``["steps=200", "lr=1e-3"]`` (strings, coerced by field type) or a dict of values."""
        return self._make({**self.to_dict(), **parse_overrides(pairs)})

    @classmethod
    def _make(cls, values: dict[str, Any]) -> Self:
        hints = typing.get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=2, cutoff=0.6)
                hint = f"did you mean {' or '.join(close)}? " if close else ""
                raise WorkbenchError(f"Unknown setting {key!r} for {cls.METHOD or cls.__name__}; {hint}"
                                     f"`workbench build {cls.METHOD or 'METHOD'} --show-settings` lists them all.")
        label = f"{cls.METHOD}." if cls.METHOD else ""
        coerced = {k: _coerce(k, v, hints[k], plural=f"{k}s" if f"{k}s" in names else None, label=label)
                   for k, v in values.items()}
        return cls(**coerced).check()

    @classmethod
    def choices(cls, name: str) -> tuple[str, ...]:
        """The valid strings of setting ``name`` (as its ``setting(choices=...)`` declares them)."""
        return _choices(next(f for f in dataclasses.fields(cls) if f.name == name).metadata["choices"])

    def input_paths(self) -> dict[str, str]:
        """The files and folders these settings read (every non-empty ``path`` setting), by setting name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.metadata.get("path") and getattr(self, f.name)}

    def check(self) -> Self:
        """These settings, after checking every kind, range, choice and link; one sentence for the first that fails."""
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            problem, listed_choices = self._problem(f, getattr(self, f.name), hints[f.name])
            if problem:  # the doc's first words say what the setting is, unless its choices say it all
                doc = re.split(r" \(|; |\. |: |\n", type(self).field_docs().get(f.name, ""))[0].rstrip(".")
                raise WorkbenchError(f"{problem}{f' ({doc})' if doc and not listed_choices else ''}.")
        label = f"{self.METHOD}." if self.METHOD else ""
        for left, op, right in self.LINKS:
            a, b = getattr(self, left), getattr(self, right)
            if op == "<=" and not a <= b:
                raise WorkbenchError(f"Settings {label}{left}={a} and {right}={b} do not fit: {left} must be <= {right}.")
            if op == "%" and a % b:
                raise WorkbenchError(f"Settings {label}{left}={a} and {right}={b} do not fit: {left} must be a "
                                     f"multiple of {right}.")
        return self

    def _problem(self, f: dataclasses.Field, value: Any, hint: Any) -> tuple[str, bool]:
        """What is wrong with one setting's value, in words (without its doc; "" if nothing), and whether
        the words list its choices."""
        listed = typing.get_origin(hint) is tuple
        kind = typing.get_args(hint)[0] if listed else hint
        shown = ",".join(map(str, value)) if isinstance(value, tuple) else value
        name = f"Setting {self.METHOD + '.' if self.METHOD else ''}{f.name}={shown}"
        whom = f"each entry of {f.name}" if listed else f.name
        entries = value if listed and isinstance(value, tuple) else (value,)
        if (listed and not isinstance(value, tuple)) or not all(_is_kind(entry, kind) for entry in entries):
            return f"{name} is not {'a tuple of ' if listed else ''}{getattr(kind, '__name__', kind)}", False
        fewest, most = f.metadata.get("length", (0, None))
        if listed and not (fewest <= len(value) and (most is None or len(value) <= most)):
            span = f"{fewest} to {most}" if most is not None else f"at least {fewest}"
            return f"{name} has {len(value)} entries; {f.name} takes {span}, comma-separated", False
        if "choices" in f.metadata:
            valid = _choices(f.metadata["choices"])
            wrong = [entry for entry in entries if entry not in valid]
            if wrong:
                return f"{name} is not valid: {whom} must be one of {', '.join(valid)} (not {wrong[0]!r})", True
            if listed and len(set(value)) < len(value):
                return f"{name} names {next(e for e in value if value.count(e) > 1)} twice; list each once", False
        valid_range = f.metadata.get("range")
        for entry in entries:
            if isinstance(entry, bool) or not isinstance(entry, (int, float)):
                continue
            finite = not isinstance(entry, float) or math.isfinite(entry)
            if finite and (valid_range is None or entry in valid_range):
                continue
            number = "an integer" if isinstance(entry, int) else "a finite number"
            rule = f"{number} {valid_range}" if valid_range is not None else number
            return f"{name} is out of range: {whom} must be {rule}", False
        return "", False

    # ---- identity -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def dataset_label(self) -> str:
        """The dataset's name as users know it (the app's dataset picker, data cards, ``workbench runs``);
        a method whose loader finds the real name in the files says so (glass: ``Sports_and_Outdoors (s3rec)``)."""
        return self.dataset

    def config_hash(self) -> str:
        """Ten hex digits over every setting except the device."""
        payload = {k: v for k, v in self.to_dict().items() if k not in _UNHASHED}
        blob = json.dumps({"method": self.METHOD, **payload}, sort_keys=True, default=list)
        return hashlib.sha256(blob.encode()).hexdigest()[:10]

    @classmethod
    def field_docs(cls) -> dict[str, str]:
        """Each field's docstring (the string literal under it), for ``workbench build --help-settings``."""
        import ast
        import inspect
        import textwrap

        docs: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            if not dataclasses.is_dataclass(klass):
                continue
            try:
                tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
            except (OSError, TypeError):
                continue
            body = tree.body[0].body  # type: ignore[attr-defined]
            for node, nxt in zip(body, body[1:]):
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    if isinstance(nxt, ast.Expr) and isinstance(getattr(nxt, "value", None), ast.Constant):
                        docs[node.target.id] = str(nxt.value.value).strip()
        return docs


def parse_overrides(pairs: list[str] | dict[str, Any]) -> dict[str, Any]:
    """``["steps=200", "lr=1e-3"]`` as ``{"steps": "200", "lr": "1e-3"}`` (a dict passes as it is)."""
    if isinstance(pairs, dict):
        return dict(pairs)
    values = {}
    for pair in pairs:
        if "=" not in pair:
            raise WorkbenchError(f"Override {pair!r} is not of the form key=value (e.g. --set steps=200).")
        key, raw = pair.split("=", 1)
        values[key.strip()] = raw.strip()
    return values


_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(nan|inf|infinity)", re.ASCII | re.IGNORECASE)


def _is_kind(value: Any, kind: Any) -> bool:
    """Whether ``value`` is of a setting's annotated kind (an int counts as a float; a bool as neither)."""
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind) if isinstance(kind, type) else True


def _coerce(name: str, value: Any, hint: Any, plural: str | None = None, label: str = "") -> Any:
    """Turn a CLI string (or a JSON-loaded list) into the field's type; one clear error otherwise.
    Numbers from strings must be written plainly (``1000``, ``0.5``, ``1e-3``): ``int("1_000")`` and
    ``int("١٠")`` would pass in Python, and a setting should read the same wherever it is written."""
    origin = typing.get_origin(hint)
    try:
        if hint is bool:
            if isinstance(value, str):
                low = value.lower()
                if low not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                return low in ("true", "1", "yes")
            return bool(value)
        if hint in (int, float) and isinstance(value, str) and not (_INT if hint is int else _FLOAT).fullmatch(value):
            raise ValueError(value)
        if hint in (int, float, str):
            if hint is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return hint(value)
        if origin is tuple:
            (inner, *_rest) = typing.get_args(hint)
            if isinstance(value, str):
                value = [v for v in value.replace(" ", "").strip("()[]").split(",") if v]
            return tuple(_coerce(name, v, inner, label=label) for v in value)
    except (TypeError, ValueError) as err:
        kind = getattr(hint, "__name__", hint)
        plain = value.replace("_", "") if isinstance(value, str) else ""
        if plain and plain != value and (_INT if hint is int else _FLOAT).fullmatch(plain):
            fix = f": write it without underscores ({name}={plain})"
        elif plural and isinstance(value, str) and "," in value:
            fix = f": a list goes in {plural} (e.g. {plural}={value})"
        else:
            fix = ""
        raise WorkbenchError(f"Setting {label}{name}={value!r} is not a valid {kind}{fix}.") from err
    return value
