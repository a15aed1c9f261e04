# The two commands of the README, and the hand-offs between tools.
#   make demo   install, then run the main job on demo data
#   make test   install, then run the whole test suite (what CI runs)
#   make test-fast  the developer's lane: every test not marked slow (no demo build, no Airflow,
#                   browser or Spark; docs/decisions.md D-101)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/demo
SEED   ?= 1
MONTHS ?=

.PHONY: demo test test-fast install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,spark]"

# the whole pipeline through Airflow: generate, nightly for every demo day, monthly_assessment
demo: install
	$(BIN)/kefu demo --out $(OUT) --seed $(SEED) $(if $(MONTHS),--months $(MONTHS)) --no-progress

# the demo warehouse is built once per session and shared by both workers (tests/conftest.py)
test: install-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=25

test-fast: install-dev
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile --durations=15

clean:
	rm -rf $(VENV) out
