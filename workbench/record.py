"""Notebooks record their key numbers, so a test can check them against the run they read.

As microsoft/recommenders does with scrapbook, without the dependency: ``record(name, value)`` puts
the value in the notebook's own output under a MIME type of its own (a JSON line on stdout outside
IPython), and ``read(notebook)`` gathers them back from an executed notebook. ``tests/test_notebooks.py``
recomputes each number from the store run and fails when a notebook shows stale or wrong numbers.
"""

from __future__ import annotations

import json
from typing import Any

from workbench.atomic import to_json

MIME = "application/vnd.workbench.record+json"


def record(name: str, value: Any) -> None:
    """Record ``value`` (anything JSON can hold; numpy numbers and arrays too) under ``name``."""
    value = _plain(json.loads(to_json(value)))
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: the JSON line is the record
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({MIME: {"name": name, "value": value}, "text/plain": f"recorded: {name}"}, raw=True)
    else:
        print(json.dumps({"record": name, "value": value}))


def _plain(value: Any) -> Any:
    """NaN -> None (a notebook's JSON cannot hold NaN)."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def read(notebook) -> dict[str, Any]:
    """Every value an executed notebook (an ``nbformat`` notebook) recorded, by name (the last one wins)."""
    found = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME in data:
                found[data[MIME]["name"]] = data[MIME]["value"]
    return found
