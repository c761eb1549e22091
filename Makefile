# gridgov — two commands: `make run` and `make test`. Each sets up everything it needs.

PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2

.PHONY: run test bench install assets browser db demo clean

ASSETS := src/gridgov/web/static/vendor
ASSETS_STAMP := $(ASSETS)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "gridgov needs Python >= 3.11 (found $(PYTHON))" >&2; exit 1)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) $(ASSETS_STAMP)

## ECharts, Leaflet and htmx from npm, copied where gridgov serves them (no page loads anything remote)
$(ASSETS_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(ASSETS) && mkdir -p $(ASSETS)/leaflet
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js $(ASSETS)/
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
		node_modules/leaflet/dist/images $(ASSETS)/leaflet/
	touch $(ASSETS_STAMP)

assets: $(ASSETS_STAMP)

## Debian's Chromium (and a CJK font for readable screenshots) for the browser tests, when missing
BROWSER_PACKAGES := chromium fonts-noto-cjk
browser:
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || \
		($(SUDO) apt-get install -y --no-install-recommends $(BROWSER_PACKAGES) || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends $(BROWSER_PACKAGES)))

db: install
	$(BIN)/gridgov db upgrade

demo: db
	$(BIN)/gridgov demo load

## Start the full product on SQLite with the Dongcheng demo at http://$(HOST):$(PORT)
run: demo
	$(BIN)/gridgov serve --host $(HOST) --port $(PORT)

## Every test, SQLite and PostgreSQL (CI=true: PostgreSQL must be reachable)
test: install browser
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

## Speed targets: each figure beside its target
bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis node_modules $(ASSETS)
