# Two commands on a fresh machine with Python >= 3.11 and make:
#   make run    the end-to-end demo (creates .venv and installs from requirements.lock)
#   make test   lint (ruff, mypy, import-linter) and the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := interop/node_modules/.installed
PYTEST_ARGS ?=

.PHONY: install node run test lint fmt check conformance bench serve openapi clean lock

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

# The independent JavaScript implementations the tests cross-verify against, pinned by
# interop/package-lock.json. Without npm those tests are skipped (REQUIRE_NODE=1 fails).
$(NODE_STAMP): interop/package.json interop/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix interop --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	else \
		echo "npm not found: cross-verification tests against npm implementations will be skipped"; \
	fi

node: $(NODE_STAMP)

run: install
	$(PY) -m cli.demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint node
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

check: test

conformance: install node
	$(PY) -m pytest -m conformance $(PYTEST_ARGS)

bench: install
	$(PY) -m bench

serve: install
	$(VENV)/bin/registry serve

# Regenerate the API description from create_app(); a test fails when it drifts.
openapi: install
	$(PY) -m registry.openapi specs/openapi.json

# Regenerate the pinned lock from the current environment (after changing pyproject).
lock: install
	$(PY) -m pip freeze --all --exclude-editable --disable-pip-version-check | grep -v -e '^-e ' -e '^pip==' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
