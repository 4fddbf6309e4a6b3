# Every target installs into .venv first if needed, so a fresh clone needs nothing but Python 3.11+ and make.
# Two installation levels, each with its own stamp:
#   demo: the package and the extras the demo's commands use (make demo: seconds, a small .venv);
#   dev:  the demo level plus the development set, .[dev] (everything else: tests, lint, types, codegen, bench).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet
DEMO_STAMP := $(VENV)/.installed-demo
DEV_STAMP := $(VENV)/.installed-dev
# Extras `make demo` installs with the package, comma-separated: the command line for the export it shows.
DEMO_EXTRAS := cli
DEMO_REQUIREMENT := $(if $(DEMO_EXTRAS),.[$(DEMO_EXTRAS)],.)

.PHONY: setup setup-demo redis-server generate check-generated docs check-docs lint typecheck test check demo bench bench-quick clean

setup: $(DEV_STAMP)

setup-demo: $(DEMO_STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(DEMO_STAMP): pyproject.toml | $(PY)
	$(PIP) -e '$(DEMO_REQUIREMENT)'
	touch $@

$(DEV_STAMP): pyproject.toml $(DEMO_STAMP)
	$(PIP) --upgrade pip
	$(PIP) -e '.[dev]'
	touch $@

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

demo: setup-demo
	$(PY) examples/ingest.py
	$(PY) examples/export_demo.py

bench: setup redis-server
	$(PY) -m bench

bench-quick: setup redis-server
	$(PY) -m bench --quick

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
