# Every target installs what it needs (a virtualenv, the pinned npm packages) when missing.
SHELL := /bin/bash
ENV ?= dev
VENV := .venv
PY := $(VENV)/bin/python
# The pinned Node.js 22 and CDK CLI from package.json come first on PATH (jsii runs `node`).
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test bench faults synth lint typecheck install clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	@# This machine's pip config names find-links folders that may not exist: drop that warning only.
	set -o pipefail; $(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 \
	  | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

demo: install
	$(PY) -m cli demo -c env=$(ENV)

test: install
	$(PY) -m pytest

bench: install
	$(PY) -m bench

faults: install
	$(PY) -m tests.faults

synth: install
	npx cdk synth -c env=$(ENV) --quiet

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf cdk.out .local .pytest_cache
