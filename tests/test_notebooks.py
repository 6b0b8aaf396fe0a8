"""Every notebook runs top to bottom in a fresh kernel with the smoke profile, shows the numbers of the
run it read (its ``workbench.record`` values, recomputed here from the store), and stays paired with its
jupytext .py twin."""

from __future__ import annotations

import json
import math
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


METHOD_OF = {"01_living_needs": "needs", "02_glass": "glass", "03_thinking_spectrum": "merging"}


def expected_numbers(run) -> dict:
    """The numbers each notebook must record, recomputed from the store run (not from the notebook)."""
    from workbench.claims import read_run_claims

    claims = [{k: row[k] for k in ("id", "a_value", "b_value", "diff", "interval", "reproduced")}
              for row in (c.to_dict() for c in read_run_claims(run))]
    out = {"run": str(run.path), "claims": claims}
    if run.method == "needs":
        metrics = run.read_parquet("metrics")
        out["HR@3 by slice and variant"] = metrics.pivot_table(index="variant", columns="slice", values="HR@3").to_dict()
    elif run.method == "glass":
        results = run.read_parquet("results")
        out["Recall@10 on all test cases"] = results[results["slice"] == "all"].groupby("system")["Recall@10"].mean().to_dict()
    elif run.method == "merging":
        summary = run.read_parquet("difficulty")
        parents = {tuple(v): k for k, v in run.read_json("metrics")["parent_rows"].items()}
        out["parents by difficulty"] = [
            {"parent": parents[(r.method, r.strength)], "n_ops": int(r.n_ops), "accuracy": float(r.accuracy),
             "tokens": float(r.tokens)}
            for r in summary.itertuples() if (r.method, r.strength) in parents]
        out["switch-off"] = run.read_json("metrics")["per_seed"][0]["transition"]["switch_off"]
    return out


def same(recorded, expected, where: str = "") -> None:
    """``recorded`` equals ``expected`` (numbers to 1e-4: a notebook may show rounded tables; order of
    list rows ignored when they are records)."""
    if isinstance(expected, dict):
        assert isinstance(recorded, dict), f"{where}: recorded {recorded!r}, expected a mapping"
        for key, value in expected.items():
            assert str(key) in {str(k) for k in recorded}, f"{where}: {key!r} not recorded"
            same(recorded[next(k for k in recorded if str(k) == str(key))], value, f"{where}/{key}")
    elif isinstance(expected, list):
        assert isinstance(recorded, list) and len(recorded) == len(expected), f"{where}: {recorded!r} vs {expected!r}"
        if expected and isinstance(expected[0], dict):
            keys = [k for k, v in expected[0].items() if isinstance(v, (str, int)) and not isinstance(v, bool)]
            order = lambda rows: sorted(rows, key=lambda r: json.dumps([r.get(k) for k in keys]))  # noqa: E731
            recorded, expected = order(recorded), order(expected)
        for i, (r, e) in enumerate(zip(recorded, expected)):
            same(r, e, f"{where}[{i}]")
    elif isinstance(expected, float) and not isinstance(expected, bool):
        if math.isnan(expected):
            assert recorded is None, f"{where}: recorded {recorded!r}, expected NaN"
        else:
            assert recorded == pytest.approx(expected, abs=1e-4), f"{where}: the notebook shows {recorded}, the run has {expected}"
    else:
        assert recorded == expected, f"{where}: the notebook shows {recorded!r}, the run has {expected!r}"


def check_records(records: dict, store, profile: str, method: str) -> None:
    """The notebook read the run the store shows for ``profile``, and recorded that run's numbers."""
    from workbench import methods

    run = methods.latest(store, method, profile)
    assert run is not None and records.get("run") == str(run.path), f"the notebook read {records.get('run')}, not {run}"
    expected = expected_numbers(run)
    assert set(expected) <= set(records), f"not recorded: {sorted(set(expected) - set(records))}"
    for name, value in expected.items():
        same(records[name], value, name)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_smoke_profile(path, smoke_store, tmp_path):
    from nbclient import NotebookClient

    from workbench import record

    method = METHOD_OF[path.stem]
    if smoke_store.latest(method, "smoke") is None:
        pytest.skip(f"{method} is not in WORKBENCH_TEST_METHODS")
    nb = nbformat.read(path, as_version=4)
    inject_parameters(nb, PROFILE="smoke")
    os.environ["WORKBENCH_HOME"] = str(smoke_store.root)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    check_records(record.read(nb), smoke_store, "smoke", method)


def test_a_stale_or_wrong_number_fails_the_check(smoke_store):
    """The check can fail: a record of another run, or one number off, is caught."""
    from workbench import methods, record

    method = next(m for m in METHOD_OF.values() if smoke_store.latest(m, "smoke") is not None)
    run = methods.latest(smoke_store, method, "smoke")
    good = record._plain(json.loads(json.dumps(expected_numbers(run))))  # as a notebook records them
    check_records(good, smoke_store, "smoke", method)  # the run's own numbers pass
    stale = {**good, "run": str(run.path.parent / "another-run")}
    with pytest.raises(AssertionError, match="the notebook read"):
        check_records(stale, smoke_store, "smoke", method)
    wrong = json.loads(json.dumps(good))
    row = next(r for r in wrong["claims"] if r["a_value"] is not None)
    row["a_value"] += 0.01
    with pytest.raises(AssertionError, match="the notebook shows"):
        check_records(wrong, smoke_store, "smoke", method)


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
