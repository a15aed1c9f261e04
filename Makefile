# The two commands of the README, and the hand-offs between tools.
#   make demo   install, then run the main job on demo data
#   make test   install, then run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/demo
SEED   ?= 1

.PHONY: demo test install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"

demo: install
	$(BIN)/kefu generate --preset demo --seed $(SEED) --out $(OUT) --no-progress
	$(BIN)/kefu run --landing $(OUT)/landing --warehouse $(CURDIR)/$(OUT)/kefu.duckdb --demo-key \
		--answer-key $(OUT)/expected/kpi_expected.csv --no-progress

test: install-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile

clean:
	rm -rf $(VENV) out
