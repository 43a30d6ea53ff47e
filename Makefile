# Two commands for a fresh machine: `make demo` and `make test`.
# Everything installs into .venv at the repository root.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
DEMO_DB ?= sqlite:///demo.db
DEMO_SUBJECTS ?= 1000
PYTEST_WORKERS ?= 2
CHAOS_KILLS ?= 100
CHAOS_SEED ?= 19

.PHONY: demo test setup dev system lint typecheck unit bench fuzz chaos lock clean

# The runtime (requirements.lock) and the tools that test it (requirements-dev.lock) are
# pinned with hashes, so a demo installs only what the platform runs on and every install
# is the one that was tested. `make lock` recompiles both from pyproject.toml.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.lock
	scripts/system-packages.sh
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(DEV_STAMP)

setup: $(STAMP)

dev: $(DEV_STAMP)

## system packages the suite needs (PostgreSQL is started by scripts/postgres.sh)
system:
	scripts/system-packages.sh

demo: setup
	BONAFIDES_DEMO=1 BONAFIDES_DB=$(DEMO_DB) $(BIN)/bonafides init --demo $(DEMO_SUBJECTS)
	BONAFIDES_DEMO=1 BONAFIDES_DB=$(DEMO_DB) $(BIN)/bonafides serve

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: dev
	$(BIN)/mypy

unit: dev system
	scripts/postgres.sh
	$(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider --durations=20

test: lint typecheck unit

## a longer fuzzing campaign than the one in `make test` (docs/dev/conventions.md)
FUZZ_EXAMPLES ?= 2000
fuzz: dev system
	scripts/postgres.sh
	BONAFIDES_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -n 0 -p no:cacheprovider \
		tests/fuzz tests/api/test_fuzz_json.py tests/api/test_stateful.py

bench: dev system
	scripts/postgres.sh
	benchmarks/run.sh

## the kill campaign: SIGKILL each operation CHAOS_KILLS times on each store, rerun, check
## (docs/deployment.md, "Failure testing"); tests/test_chaos.py runs a short one
chaos: dev system
	scripts/postgres.sh
	$(BIN)/python scripts/chaos.py --kills $(CHAOS_KILLS) --store both --seed $(CHAOS_SEED)

LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links
lock: dev
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra dev -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis demo.db*
