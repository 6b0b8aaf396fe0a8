"""Profiles and per-method settings.

Every method has one frozen dataclass of settings (``workbench/<method>/config.py``) that subclasses
``MethodConfig``. Each field's default is the ``demo`` profile; ``PRESETS`` holds what the ``smoke``
and ``full`` profiles change. ``for_profile`` builds one, ``with_overrides`` applies ``key=value``
strings from the CLI with types taken from the field annotations.

Profiles:
- ``smoke``: each method builds in about a minute on 2 cores; used by the tests and notebook runs.
- ``demo``:  what the app shows by default; all methods together build in about 15 minutes on 2 cores.
- ``full``:  the paper-style study with >= 3 seeds; CPU hours, or a GPU (``device="auto"`` takes CUDA).

The config hash names the artifact folder, so a rebuild with the same settings is a no-op.
``device`` is left out of the hash: the same experiment on another device is the same experiment.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from workbench.errors import WorkbenchError

PROFILES = ("smoke", "demo", "full")
_UNHASHED = ("device",)


@dataclass(frozen=True)
class MethodConfig:
    """Settings shared by every method. Subclasses add their own fields (defaults = demo profile)."""

    profile: str = "demo"
    """Which profile these settings came from: smoke, demo or full."""
    seed: int = 0
    """Seed of the world and of training; ``seeds`` (in subclasses) lists extra seeds for the full study."""
    device: str = "auto"
    """``auto`` takes CUDA when present, else the CPU."""
    dataset: str = "synthetic"
    """``synthetic`` (the generated world) or the name of a real dataset the method can load."""
    data_path: str = ""
    """Folder or file of the real dataset; empty for the synthetic world."""

    METHOD: ClassVar[str] = ""
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def for_profile(cls, profile: str = "demo", **overrides: Any) -> Self:
        """Settings of ``profile`` (smoke/demo/full), then ``overrides`` on top."""
        if profile not in PROFILES:
            raise WorkbenchError(f"Unknown profile {profile!r}; choose one of {', '.join(PROFILES)}.")
        values = {**cls.PRESETS.get(profile, {}), **overrides, "profile": profile}
        return cls._make(values)

    def with_overrides(self, pairs: list[str] | dict[str, Any]) -> Self:
        """Apply ``["steps=200", "lr=1e-3"]`` (strings, coerced by field type) or a dict of values."""
        if isinstance(pairs, dict):
            values = dict(pairs)
        else:
            values = {}
            for pair in pairs:
                if "=" not in pair:
                    raise WorkbenchError(f"Override {pair!r} is not of the form key=value (e.g. --set steps=200).")
                key, raw = pair.split("=", 1)
                values[key.strip()] = raw.strip()
        return self._make({**self.to_dict(), **values})

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
        return cls(**coerced)

    # ---- identity -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

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
