# Everything runs from a local .venv that these targets create on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck run server cluster cluster-servers bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,speed]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

run: $(STAMP)
	$(BIN)/python -m lesbillets_tui.demo

server: $(STAMP)
	$(BIN)/lesbillets-server serve --demo --db .data/demo.db

# Three replicas on PostgreSQL ($$LESBILLETS_PG) behind HAProxy, and the app through it: see deploy/README.md.
cluster: $(STAMP)
	$(BIN)/python -m deploy.cluster

cluster-servers: $(STAMP)
	$(BIN)/python -m deploy.cluster --servers-only

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
