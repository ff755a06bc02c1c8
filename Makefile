# Two entry points: `make demo` (install + scan samples/) and `make test` (install dev deps + suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint install clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[job]'
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[job,dev]'
	touch $(DEV_STAMP)

install: $(STAMP)

demo: $(STAMP)
	@echo "== qgov scan samples/leaky-quantum-project (expect findings) =="
	-$(BIN)/qgov scan samples/leaky-quantum-project --fail-on high
	@echo
	@echo "== qgov scan samples/governed-quantum-project (expect clean at medium and above) =="
	$(BIN)/qgov scan samples/governed-quantum-project --fail-on medium
	@echo
	@echo "== governed job on the Aer simulator, then verify the audit ledger =="
	$(BIN)/qgov job run samples/jobs/bell.yaml --policy samples/policy/org-policy.yaml
	-$(BIN)/qgov job run samples/jobs/regulated-data-in-dev.yaml --policy samples/policy/org-policy.yaml
	$(BIN)/qgov ledger verify .qgov/ledger.jsonl

test: $(DEV_STAMP)
	$(BIN)/ruff check scanner tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check scanner tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf $(VENV) build dist *.egg-info
