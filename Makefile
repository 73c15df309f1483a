# Two commands for a new user: `make serve` and `make test`. Both set up .venv first;
# `make test` also installs the Debian packages the tests drive (needs root or sudo).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the tests use: GDAL's command-line OGC API client, Chromium (with CJK
# fonts) for the pages, Pango for the PDF reports, PostgreSQL with PostGIS for the PostGIS
# store, Redis for the shared rate limit, and npm for axe-core (the accessibility checker
# the tests inject).
SYSTEM_PACKAGES := gdal-bin chromium fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 \
	postgresql-15 postgresql-15-postgis-3 python3-qgis redis-server
NODE_PACKAGES := nodejs npm

.PHONY: serve test test-fast lint demo system-deps maps vendor clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)  ## run the service on the demo data at http://127.0.0.1:8000
	$(BIN)/geo-service serve

system-deps:  ## the Debian packages the tests drive
	@{ command -v ogrinfo && command -v chromium && command -v redis-server && fc-list | grep -q "Noto Sans CJK" && \
	  ls /usr/lib/*/libpangoft2-1.0.so.0 /usr/lib/postgresql/15/bin/initdb \
	    /usr/share/postgresql/15/extension/postgis.control \
	    /usr/lib/python3/dist-packages/qgis/core/__init__.py; } >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends \
	    $(SYSTEM_PACKAGES); }

# axe-core for the browser tests, at the version package-lock.json pins.
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends \
	    $(NODE_PACKAGES); }
	npm ci --no-audit --no-fund --loglevel=error

test: $(STAMP) system-deps node_modules/.package-lock.json  ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	GEO_SERVICE_REQUIRE_POSTGIS=1 scripts/throwaway-postgis run -- $(BIN)/python -m pytest

# What a change needs checked at once: the API's logic in process and everything else but
# the end-to-end tests (marked slow: subprocesses, a live server, GDAL, QGIS, Chromium) and
# PostGIS, on every core; no lint. Under two minutes on the 2-core development machine.
test-fast: $(STAMP) system-deps  ## the suite without end-to-end tests and PostGIS
	$(BIN)/python -m pytest -m "not slow and not postgis" -n auto --dist load \
	  -p no:schemathesis -p no:hypothesispytest

maps: $(STAMP)  ## the map pages as standalone HTML in build/maps
	$(BIN)/geo-service maps build

vendor: node_modules/.package-lock.json  ## refresh the vendored Leaflet assets from npm
	$(BIN)/python scripts/vendor_assets.py --no-install

demo: $(STAMP)  ## regenerate the committed demo data (same seed, same bytes)
	$(BIN)/geo-service demo generate --seed 2024

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache cache node_modules
