# The README's commands. `make demo` and `make test` are all a fresh clone needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PYTHONUNBUFFERED := 1

.PHONY: demo test test-fast install build app bench notebooks docs clean-artifacts

# (Re)install only when requirements.txt or pyproject.toml changed.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

## demo: install, serve the app at once and build the demo artifacts behind it (skips what is built);
## each page fills in as its method lands, cheapest first. Ctrl+C stops both.
demo: install
	$(VENV)/bin/workbench app --build demo

build: install
	$(VENV)/bin/workbench build all --profile demo

app: install
	$(VENV)/bin/workbench app

## test: the whole suite — unit, AppTest, notebooks (smoke), CLI, browser
test: install
	$(PY) -m pytest

## test-fast: the loop while working — every test not marked slow (no smoke builds, notebooks, browser, Ray)
test-fast: install
	$(PY) -m pytest -m "not slow"

## bench: quality and speed measurements -> benchmarks/results/*.json + a markdown table
bench: install
	$(PY) benchmarks/run.py

## notebooks: regenerate the .ipynb files from their jupytext .py twins (outputs cleared)
notebooks: install
	$(VENV)/bin/jupytext --sync notebooks/*.py

## docs: serve the documentation site at http://127.0.0.1:8000 (tables: `python -m workbench.docs`)
docs: install
	$(VENV)/bin/mkdocs serve

clean-artifacts:
	rm -rf data/artifacts
