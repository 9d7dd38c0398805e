# Vigie developer commands. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install demo test pytest lint format openapi bench

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,postgres]"
	@touch $@

install: $(BIN)/.installed ## Create .venv and install Vigie with its dev tools

demo: install ## Run the demo: SQLite, migrated and seeded, API + worker, prints keys and docs URL
	$(BIN)/vigie demo

test: install lint pytest ## The whole suite: lint, then tests on SQLite, then on PostgreSQL if configured

pytest: install
	$(PY) -m pytest $(PYTEST_ARGS)
	@if [ -n "$$VIGIE_TEST_POSTGRES_URL" ]; then \
		echo "== again on PostgreSQL"; \
		VIGIE_TEST_DATABASE_URL="$$VIGIE_TEST_POSTGRES_URL" $(PY) -m pytest $(PYTEST_ARGS); \
	elif [ "$$VIGIE_TEST_REQUIRE_ALL" = "1" ]; then \
		echo "VIGIE_TEST_REQUIRE_ALL=1 but VIGIE_TEST_POSTGRES_URL is not set" >&2; exit 3; \
	else \
		echo "(PostgreSQL pass not run: set VIGIE_TEST_POSTGRES_URL to run it)"; \
	fi

lint: install ## ruff (lint + format check), mypy, import-linter contracts, hadolint
	$(BIN)/ruff check src tests integrations bench
	$(BIN)/ruff format --check src tests integrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile

format: install ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff format src tests integrations bench
	$(BIN)/ruff check --fix src tests integrations bench

openapi: install ## Regenerate openapi/openapi.json from the app
	VIGIE_ENV=test $(BIN)/vigie openapi

bench: install ## Run the benchmarks (slow; writes docs/PERFORMANCE.md)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
