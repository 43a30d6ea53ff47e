# Two commands for a fresh machine: `make demo` and `make test`.
# Everything installs into .venv at the repository root.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= sqlite:///demo.db
DEMO_SUBJECTS ?= 1000
PYTEST_WORKERS ?= 2

.PHONY: demo test setup system lint typecheck unit bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

## system packages the suite needs (PostgreSQL is started by scripts/postgres.sh)
system:
	scripts/system-packages.sh

demo: setup
	BONAFIDES_DEMO=1 BONAFIDES_DB=$(DEMO_DB) $(BIN)/bonafides init --demo $(DEMO_SUBJECTS)
	BONAFIDES_DEMO=1 BONAFIDES_DB=$(DEMO_DB) $(BIN)/bonafides serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup system
	scripts/postgres.sh
	$(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test: lint typecheck unit

bench: setup system
	scripts/postgres.sh
	benchmarks/run.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis demo.db*
