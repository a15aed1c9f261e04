# The two commands of the README, and the hand-offs between tools.
#   make demo   install, then run the main job on demo data
#   make test   install, then run the whole test suite (what CI runs)
#   make test-fast  the developer's lane: every test not marked slow (no demo build, no Airflow,
#                   browser or Spark; docs/decisions.md D-101)
#   make lint   ruff (lint + format check), sqlfluff on the dbt models, mypy (what CI runs too)
#   make fmt    every auto-fix: ruff check --fix, ruff format, sqlfluff fix (docs/decisions.md D-165)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/demo
SEED   ?= 1
MONTHS ?=

.PHONY: demo test test-fast install install-dev lint lint-python lint-sql lint-types fmt clean

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

# the demo warehouse is built once per session and shared by both workers (tests/conftest.py);
# whole files go to the workers in collection order, the longest first (LONGEST_FIRST, D-182)
PYTEST_LANES := -n 2 --dist loadfile --no-loadscope-reorder

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_LANES) --durations=25

test-fast: install-dev
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_LANES) --durations=15

# The dbt templater compiles the models against the profile of dbt_project/profiles.yml: a
# connection to an empty scratch file, no data (docs/decisions.md D-166).
LINT_WAREHOUSE ?= $(CURDIR)/out/lint/lint.duckdb
SQLFLUFF := mkdir -p $(dir $(LINT_WAREHOUSE)) && KEFU_WAREHOUSE=$(LINT_WAREHOUSE) \
            DBT_SEND_ANONYMOUS_USAGE_STATS=false $(BIN)/sqlfluff

# lint-python, lint-sql and lint-types are also the hooks of .pre-commit-config.yaml
lint: install-dev lint-python lint-sql lint-types

lint-python:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint-sql:
	$(SQLFLUFF) lint dbt_project/models

lint-types:
	$(BIN)/mypy

fmt: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(SQLFLUFF) fix dbt_project/models

clean:
	rm -rf $(VENV) out
