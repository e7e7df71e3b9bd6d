# Two commands for a newcomer:
#   make serve   set up, load demo data into var/segmentation.db, serve on http://127.0.0.1:8000/soap
#   make test    set up, run every check (format, lint, types, layering, the whole test suite)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup serve test check clean setup-py312 setup-py313 test-py312 test-py313 test-compat

$(STAMP): pyproject.toml clients/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./clients
	touch $(STAMP)

setup: $(STAMP)

serve: $(STAMP)
	$(BIN)/segmentation-service init-db
	$(BIN)/segmentation-service load-demo --if-empty
	SEGMENTATION_AUTH=off $(BIN)/segmentation-service serve

test: $(STAMP)
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
