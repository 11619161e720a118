# Entry points. `make test` and `make demo` work on a fresh clone: they create .venv and install
# Azurite (npm ci) first when needed. `make bench` runs the enforcement benchmark (a few minutes).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.pimwarden-installed
NODE_STAMP := node_modules/.pimwarden-installed
# The Python worker's own indexer, for the host-loadable test. It declares Requires-Python >=3.13 but
# runs on 3.11; pip can't express --ignore-requires-python inside a requirements file, so it lives here.
WORKER_INDEXER := azure-functions-runtime==1.3.0 azurefunctions-extensions-base==1.2.0

.PHONY: venv node test lint demo bench bench-scale chaos infra clean distclean

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --ignore-requires-python $(WORKER_INDEXER)
	touch $@

node: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

lint: venv
	$(PY) -m ruff check .
	$(PY) -m mypy

# pytest starts Azurite itself (tests/conftest.py) on free ports and stops it, pass or fail.
test: venv node lint
	$(PY) -m pytest

demo: venv node
	$(PY) -m devstack.demo

# The deployment's structural tests (also part of `make test`), then the Bicep compiler where the Azure
# CLI is installed (it is not on machines without access to Microsoft's download CDN).
infra: venv
	$(PY) -m pytest tests/infra
	@if command -v az >/dev/null 2>&1; then az bicep build --file infra/main.bicep --stdout >/dev/null && \
		echo "az bicep build: ok"; else echo "az not installed: run 'az bicep build --file infra/main.bicep'"; fi

# 1,000 high-value apps on graphsim (25 ms latency, Graph-like throttle); writes bench/results.json.
bench: venv node
	$(PY) -m bench.enforcement

# The queue fan-out at scale: the real timer enqueues, N worker processes run the real queue trigger
# (10,000 apps, 4 instances, then 1 for comparison); writes bench/results-scale.json. Long: see README.
SCALE_APPS ?= 10000
SCALE_INSTANCES ?= 4
bench-scale: venv node
	$(PY) -m bench.scale --apps $(SCALE_APPS) --instances $(SCALE_INSTANCES) --compare 1

# The long fault-injection run (faults, kills of the CLI, grants and a revoke, then faults off); prints
# its figures and exits 1 when the end state does not hold. `make test` runs a short seeded version.
CHAOS_SEED ?= 7
CHAOS_ROUNDS ?= 30
chaos: venv node
	$(PY) -m devstack.chaos --seed $(CHAOS_SEED) --rounds $(CHAOS_ROUNDS)

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis .stack .azurite
	find . -path ./node_modules -prune -o -path ./$(VENV) -prune -o -name __pycache__ -type d -print \
		| xargs rm -rf

distclean: clean
	rm -rf $(VENV) node_modules
