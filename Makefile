# Two commands for a newcomer: `make run` and `make test` (plus `make bench`). Each builds .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install test run bench emulator worker db-upgrade clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

# Two workers (pytest-xdist), each taking one whole test file at a time: a module's fixtures (a Dagster deployment,
# a collected template) are built once. Files are handed out in the suite's order, which puts the slowest first
# (wfm_pipelines_tests/conftest.py), not xdist's default of the files with most tests first.
PYTEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

run: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) PATH=$(CURDIR)/$(BIN):$$PATH scripts/run-local.sh

emulator: $(STAMP)
	$(BIN)/talkdesk-emulator

# A Celery worker for WFM_EXECUTOR=celery, reading the same environment (.env) as the code location; `celery` is
# started by dagster-celery from PATH. WORKER_ARGS go to it, e.g. WORKER_ARGS='-n second -- --concurrency=2'.
worker: $(STAMP)
	DAGSTER_HOME=$(DAGSTER_HOME) PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/dagster-celery worker start -A wfm_pipelines.celery_app $(WORKER_ARGS)

db-upgrade: $(STAMP)
	$(BIN)/wfm-db upgrade

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .dagster_home .pytest_cache
