# Every target installs into .venv first if needed, so a fresh clone needs nothing but Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup redis-server generate check-generated docs check-docs lint typecheck test check demo bench bench-quick clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# tests/fleet runs a real Redis: Debian's redis-server, installed here when missing (CI runs as root).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
redis-server:
	@command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server; }

generate: setup
	$(PY) -m codegen generate

# Fails when src/aiopinterest/_generated differs from a fresh generation.
check-generated: setup
	$(PY) -m codegen check

# The reference under docs/reference/, a page per namespace and the models by initial.
docs: setup
	$(PY) -m codegen docs

# Fails when docs/reference/ differs from a fresh `make docs`.
check-docs: setup
	$(PY) -m codegen check-docs

lint: setup
	$(PY) -m ruff check src tests codegen bench examples
	$(PY) -m ruff format --check src tests codegen bench examples

typecheck: setup
	$(PY) -m mypy

test: setup redis-server
	$(PY) -m pytest -q

check: lint typecheck check-generated check-docs test

demo: setup
	$(PY) examples/ingest.py
	$(PY) examples/export_demo.py

bench: setup
	$(PY) -m bench

bench-quick: setup
	$(PY) -m bench --quick

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
