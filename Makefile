# Two commands for a newcomer:
#   make serve   set up, load demo data into var/segmentation.db, serve on http://127.0.0.1:8000/soap
#   make test    set up, run every check (format, lint, types, layering, the whole test suite)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup serve test check clean

$(STAMP): pyproject.toml clients/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./clients
	touch $(STAMP)

setup: $(STAMP)

serve: $(STAMP)
	$(BIN)/segmentation-service init-db
	$(BIN)/segmentation-service load-demo --if-empty
	$(BIN)/segmentation-service serve

test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" ./scripts/check

check: test

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
