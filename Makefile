# Two commands for a new user: `make serve` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)  ## run the service on the demo data at http://127.0.0.1:8000
	$(BIN)/geo-service serve

test: $(STAMP)  ## lint, then the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

demo: $(STAMP)  ## regenerate the committed demo data (same seed, same bytes)
	$(BIN)/geo-service demo generate --seed 2024

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
