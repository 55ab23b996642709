# The two commands of the README: `make serve` and `make test`. Both set up .venv first if needed.
# `make test-fast` is the everyday loop: unit and API tests on the test embedder, well under a minute.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test test-fast bench lint container clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

serve: $(VENV)/.installed
	$(BIN)/deflect serve

test: $(VENV)/.installed
	$(BIN)/python -m pytest

test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not e2e and not browser and not slow"

bench: $(VENV)/.installed
	$(BIN)/python -m bench

lint: $(VENV)/.installed
	$(BIN)/ruff check app indexer retrieval bench tests
	$(BIN)/mypy

# The image and docker-compose.yml, built and checked with podman: minutes, so not part of CI (docs/container.md).
container:
	scripts/container.sh

clean:
	rm -rf $(VENV) var
