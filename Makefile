# gridgov — two commands: `make run` and `make test`. Each sets up everything it needs.

PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: run test bench install db demo clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "gridgov needs Python >= 3.11 (found $(PYTHON))" >&2; exit 1)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

db: install
	$(BIN)/gridgov db upgrade

demo: db
	$(BIN)/gridgov demo load

## Start the full product on SQLite with the Dongcheng demo at http://$(HOST):$(PORT)
run: demo
	$(BIN)/gridgov serve --host $(HOST) --port $(PORT)

## Every test, SQLite and PostgreSQL (CI=true: PostgreSQL must be reachable)
test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

## Speed targets: each figure beside its target
bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
