# Two entry points: `make demo` (install + scan samples/ + audit pack) and `make test` (install dev deps + suite).
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
	@echo
	@echo "== the governed job's self-test against the organisation's policy (control-test evidence for the pack) =="
	$(BIN)/qgov job selftest --policy samples/policy/org-policy.yaml --out $(CURDIR)/.qgov/selftest
	@echo
	@echo "== qgov report: the signed audit pack for samples/ in audit-pack/ =="
	test -f .qgov/pack-signing-key || $(BIN)/qgov pack keygen --out .qgov/pack-signing-key
	$(BIN)/qgov report samples/leaky-quantum-project samples/governed-quantum-project \
	  --policy samples/policy/org-policy.yaml --vendors samples/vendors \
	  --ledger .qgov/ledger.jsonl --selftest .qgov/selftest/selftest.json \
	  --sign-key .qgov/pack-signing-key --title "Audit pack: qgov samples" \
	  --out audit-pack --force
	$(BIN)/qgov pack verify audit-pack --public-key .qgov/pack-signing-key.pub
	@echo
	@echo "The pack is in audit-pack/ (open audit-pack/report.html or report.pdf)."
	@echo "Verify it again any time: .venv/bin/qgov pack verify audit-pack --public-key .qgov/pack-signing-key.pub"

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
