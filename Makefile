# Two commands for a new user: `make serve` and `make test`. Both set up .venv first;
# `make test` also installs the Debian packages the tests drive (needs root or sudo).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the tests use: GDAL's command-line OGC API client, and Chromium (with
# CJK fonts) for the pages.
SYSTEM_PACKAGES := gdal-bin chromium fonts-noto-cjk

.PHONY: serve test lint demo system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)  ## run the service on the demo data at http://127.0.0.1:8000
	$(BIN)/geo-service serve

system-deps:  ## the Debian packages the tests drive
	@{ command -v ogrinfo && command -v chromium; } >/dev/null || { \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends \
	    $(SYSTEM_PACKAGES); }

test: $(STAMP) system-deps  ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

demo: $(STAMP)  ## regenerate the committed demo data (same seed, same bytes)
	$(BIN)/geo-service demo generate --seed 2024

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache cache
