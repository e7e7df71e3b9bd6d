# Two commands for a newcomer:
#   make serve   set up, load demo data into var/segmentation.db, serve on http://127.0.0.1:8000/soap
#   make test    set up everything the tests need (virtualenvs, the system packages of
#                scripts/ensure-system-packages, node-soap), then run every check: format,
#                lint, types, layering and the whole suite on Python 3.11, and the
#                contract-level subset on Python 3.12 and 3.13

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# npm ci writes this file; it is newer than the lockfile once node_modules matches it.
NODE_MODULES := clients/node/node_modules/.package-lock.json

.PHONY: setup serve test test-py311 check clean system-packages setup-py312 setup-py313 \
	test-py312 test-py313 test-compat

$(STAMP): pyproject.toml clients/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask]' -e ./clients
	touch $(STAMP)

setup: $(STAMP)

serve: $(STAMP)
	$(BIN)/segmentation-service init-db
	$(BIN)/segmentation-service load-demo --if-empty
	SEGMENTATION_AUTH=off $(BIN)/segmentation-service serve

# Debian packages the client-stack, report and PostgreSQL tests drive: installed when
# missing (as root; otherwise one message names them), nothing done when present.
system-packages:
	./scripts/ensure-system-packages

$(NODE_MODULES): clients/node/package.json clients/node/package-lock.json | system-packages
	cd clients/node && npm ci --no-audit --no-fund --loglevel=error

# The three virtualenvs install side by side (pip mostly waits on I/O); the tests run one by one.
test: system-packages $(NODE_MODULES)
	$(MAKE) --no-print-directory -j3 --output-sync=target setup setup-py312 setup-py313
	$(MAKE) --no-print-directory test-py311
	$(MAKE) --no-print-directory test-py312
	$(MAKE) --no-print-directory test-py313

test-py311: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" ./scripts/check

check: test

# Python 3.12 and 3.13: the contract-level subset, each in its own virtualenv under
# $(VENV)/py3.N. The interpreter is python3.N on PATH, else ~/.pyenv/versions/3.N.*; a
# candidate must really run as 3.N (a pyenv shim may exist and refuse). None: an error.
# The subset covers what the interpreter version can break: spyne's import and
# protocol, the contract, faults, HTTP and WS-Security (the rest is interpreter-neutral
# and runs on 3.11 in `make test`).
COMPAT_TESTS ?= tests/unit/test_spyne_compat.py tests/contract/test_schema_parity.py \
	tests/contract/test_operations.py tests/contract/test_run_operations.py \
	tests/contract/test_faults.py tests/contract/test_http.py tests/contract/test_security.py

# $(call with_python,N,TARGET): make TARGET with Python 3.N in $(VENV)/py3.N.
define with_python
@python=$$(for candidate in "$$(command -v python3.$(1))" $(HOME)/.pyenv/versions/3.$(1).*/bin/python; do \
    "$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, $(1)))' 2>/dev/null \
        && { echo "$$candidate"; break; }; \
done); \
if [ -z "$$python" ]; then \
    echo "error: no Python 3.$(1) found (python3.$(1) on PATH or ~/.pyenv/versions/3.$(1).*/bin/python)" >&2; \
    exit 1; \
fi; \
echo "== Python 3.$(1): $$python"; \
$(MAKE) --no-print-directory $(2) PYTHON="$$python" VENV=$(VENV)/py3.$(1)
endef

setup-py312 setup-py313: setup-py3%:
	$(call with_python,$*,setup)

test-py312 test-py313: test-py3%:
	$(call with_python,$*,test-compat)

test-compat: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(COMPAT_TESTS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
