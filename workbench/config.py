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

Every numeric setting declares its valid range beside its doc, with ``setting(default, ge=1)`` (or
``gt``/``le``/``lt``); ``check`` tests all of them (and that every float is finite) whenever settings
are made from a profile or overrides, so a bad value is one sentence before any work starts.

The config hash names the artifact folder, so a rebuild with the same settings is a no-op.
``device`` is left out of the hash: the same experiment on another device is the same experiment.
"""

from __future__ import annotations

import dataclasses
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
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {self.high:g}"
        return "any number"


def setting(default: Any, *, ge: float | None = None, gt: float | None = None, le: float | None = None,
            lt: float | None = None) -> Any:
    """A dataclass field with its valid range (``ge``: >=, ``gt``: >, ``le``: <=, ``lt``: <); for a tuple
    the range holds for every entry. ``steps: int = setting(600, ge=1)`` reads "600, at least 1"."""
    valid = Range(low=gt if gt is not None else ge, high=lt if lt is not None else le,
                  low_open=gt is not None, high_open=lt is not None)
    return dataclasses.field(default=default, metadata={"range": valid})


@dataclass(frozen=True)
class MethodConfig:
    """Settings shared by every method. Subclasses add their own fields (defaults = demo profile)."""

    profile: str = "demo"
    """Which profile these settings came from: smoke, demo or full."""
    seed: int = setting(0, ge=0)
    """Seed of the world and of training; ``seeds`` (in subclasses) lists extra seeds for the full study."""
    device: str = "auto"
    """``auto`` takes CUDA when present, else the CPU."""
    dataset: str = "synthetic"
    """``synthetic`` (the generated world) or the name of a real dataset the method can load."""
    data_path: str = ""
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
    def for_profile(cls, profile: str = "demo", **overrides: Any) -> Self:
        """Settings of ``profile`` (smoke/demo/full) for ``overrides``' dataset, then ``overrides`` on top."""
        if profile not in PROFILES:
            raise WorkbenchError(f"Unknown profile {profile!r}; choose one of {', '.join(PROFILES)}.")
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
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise WorkbenchError(
                f"Unknown setting(s) {', '.join(unknown)} for {cls.METHOD or cls.__name__}; "
                f"known: {', '.join(sorted(names))}."
            )
        coerced = {k: _coerce(k, v, hints[k]) for k, v in values.items()}
        return cls(**coerced).check()

    def check(self) -> Self:
        """These settings, after checking every range and link; one sentence for the first that fails."""
        label = f"{self.METHOD}." if self.METHOD else ""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            valid = f.metadata.get("range")
            entries = value if isinstance(value, tuple) else (value,)
            for entry in entries:
                if isinstance(entry, bool) or not isinstance(entry, (int, float)):
                    continue
                finite = not isinstance(entry, float) or math.isfinite(entry)
                if finite and (valid is None or entry in valid):
                    continue
                kind = "an integer" if isinstance(entry, int) else "a finite number"
                rule = f"{kind} {valid}" if valid is not None else kind
                whom = f"each entry of {f.name}" if isinstance(value, tuple) else f.name
                doc = re.split(r" \(|; |\. |: |\n", type(self).field_docs().get(f.name, ""))[0].rstrip(".")
                shown = ",".join(map(str, value)) if isinstance(value, tuple) else value
                raise WorkbenchError(f"Setting {label}{f.name}={shown} is out of range: {whom} must be {rule}"
                                     f"{f' ({doc})' if doc else ''}.")
        for left, op, right in self.LINKS:
            a, b = getattr(self, left), getattr(self, right)
            if op == "<=" and not a <= b:
                raise WorkbenchError(f"Settings {label}{left}={a} and {right}={b} do not fit: {left} must be <= {right}.")
            if op == "%" and a % b:
                raise WorkbenchError(f"Settings {label}{left}={a} and {right}={b} do not fit: {left} must be a "
                                     f"multiple of {right}.")
        return self

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


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """Turn a CLI string (or a JSON-loaded list) into the field's type; one clear error otherwise."""
    origin = typing.get_origin(hint)
    try:
        if hint is bool:
            if isinstance(value, str):
                low = value.lower()
                if low not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                return low in ("true", "1", "yes")
            return bool(value)
        if hint in (int, float, str):
            if hint is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return hint(value)
        if origin is tuple:
            (inner, *_rest) = typing.get_args(hint)
            if isinstance(value, str):
                value = [v for v in value.replace(" ", "").strip("()[]").split(",") if v]
            return tuple(_coerce(name, v, inner) for v in value)
    except (TypeError, ValueError) as err:
        raise WorkbenchError(f"Setting {name}={value!r} is not a valid {getattr(hint, '__name__', hint)}.") from err
    return value
