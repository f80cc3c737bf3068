# Every target installs what it needs (a virtualenv, the pinned npm packages) when missing.
SHELL := /bin/bash
ENV ?= dev
VENV := .venv
PY := $(VENV)/bin/python
PZ := $(VENV)/bin/pz
# The pinned Node.js 22 and CDK CLI from package.json come first on PATH (jsii runs `node`).
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1
# This machine's pip config names find-links folders that may not exist: drop that warning only.
QUIET_PIP := { grep -v 'is ignored: it is neither a file nor a directory' || true; }

.PHONY: demo test bench faults synth validate deploy diff destroy lint typecheck install clean

# The pinned requirements, then the project itself, editable, for its console script .venv/bin/pz.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	set -o pipefail; $(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 \
	  | $(QUIET_PIP)
	set -o pipefail; $(PY) -m pip install --quiet --disable-pip-version-check --no-deps --editable . 2>&1 \
	  | $(QUIET_PIP)
	test -x $(PZ)
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

demo: install
	$(PZ) demo -c env=$(ENV)

test: install
	$(PY) -m pytest

bench: install
	$(PY) -m bench

faults: install
	$(PY) -m tests.faults

# The pz commands for ENV (make deploy ENV=prod); `pz <command> --help` has their options.
synth validate deploy diff destroy: install
	$(PZ) $@ -c env=$(ENV)

# ruff on everything; mypy on the files pyproject.toml's [tool.mypy] names (`make typecheck` alone).
lint: install
	$(VENV)/bin/ruff check .
	$(MAKE) --no-print-directory typecheck

typecheck: install
	$(VENV)/bin/mypy

clean:
	rm -rf cdk.out .local .pytest_cache
