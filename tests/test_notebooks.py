"""Every notebook runs top to bottom in a fresh kernel with the smoke profile, and stays paired
with its jupytext .py twin."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
pytestmark = [pytest.mark.notebook, pytest.mark.slow]


def inject_parameters(nb, **params) -> None:
    """Papermill-style: add a cell after the one tagged `parameters` that overrides its values."""
    idx = next((i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    assert idx is not None, "every notebook needs a cell tagged `parameters`"
    src = "\n".join(f"{k} = {v!r}" for k, v in params.items())
    nb.cells.insert(idx + 1, nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-parameters"]}))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_smoke_profile(path, smoke_store, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    inject_parameters(nb, PROFILE="smoke")
    os.environ["WORKBENCH_HOME"] = str(smoke_store.root)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_paired_with_its_py_twin(path):
    import jupytext

    twin = path.with_suffix(".py")
    assert twin.exists(), f"{twin.name} is missing: run `make notebooks`"
    code = lambda nb: [c.source.strip() for c in nb.cells if c.cell_type == "code"]  # noqa: E731
    assert code(nbformat.read(path, as_version=4)) == code(jupytext.read(twin)), "run `make notebooks` to sync"


def test_notebooks_only_glue_library_code():
    """No method logic in notebooks: no function or class definitions in code cells."""
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert "\ndef " not in "\n" + cell.source and "\nclass " not in "\n" + cell.source, path.name
