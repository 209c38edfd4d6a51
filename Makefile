# `make demo` and `make test` set everything up on a fresh machine (a .venv with the CPU build of
# torch 2.13.0 installed first, then moo and its dependencies) and run.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[test,policy,distributed]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/moo demo --out demo_out

test: setup
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) demo_out .pytest_cache
