# The README's commands. Each target sets up what it needs: a fresh clone needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench wheel-check clean help

help:
	@echo "make run    compile schema/ into generated/"
	@echo "make unit   the in-process tests: no database, child process, Java or wheel build (seconds)"
	@echo "make test   lint, type-check and run every test (real PostgreSQL, real Flyway)"
	@echo "make bench  measure compile, check and diff against raw baselines"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/schemac compile

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

# tests/conftest.py marks `unit` every test that runs in-process: no server, no child
# process (the command line, squawk), no Flyway, no wheel build.
unit: $(STAMP)
	$(BIN)/pytest -q -m unit

# The whole suite runs on the embedded PostgreSQL 18 in two pytest-xdist workers (each with
# a session server of its own; a file's tests stay in one worker, sharing its module
# fixtures), and its `postgres and not flyway` tests run again, at the same time, on the
# server in SCHEMAC_TEST_PG15_URL when it is set (CI starts Debian's PostgreSQL 15 for it):
# in one worker per server listed in SCHEMAC_TEST_PG15_URLS (.ci/run starts
# SCHEMAC_CI_PG15_SERVERS, default two), else in one worker on that one server. mypy runs
# alongside too. Each of them waits on servers, Flyway and child processes much of the time,
# so together they keep the two cores busy (docs/benchmarks.md, the test suite). The PostgreSQL 15 run's and mypy's outputs are
# printed when all are done; any of them failing fails `make test`. Each run prints its 25
# slowest tests.
PG15_LOG := tests/.tmp/pg15-run.log
MYPY_LOG := tests/.tmp/mypy.log
PYTEST_RUN := $(BIN)/pytest -q -p no:cacheprovider --durations=25
PG18_WORKERS ?= 2
test: lint
	@mkdir -p tests/.tmp; pg15=""; \
	$(BIN)/mypy >$(MYPY_LOG) 2>&1 & mypy=$$!; \
	if [ -n "$$SCHEMAC_TEST_PG15_URL" ]; then \
	  urls="$${SCHEMAC_TEST_PG15_URLS:-$$SCHEMAC_TEST_PG15_URL}"; set -- $$urls; \
	  echo "--- on PostgreSQL 15 ($$# servers, $${1%%@*}@...) at the same time, output in $(PG15_LOG)"; \
	  SCHEMAC_TEST_PG_URL="$$urls" $(PYTEST_RUN) -n $$# --dist loadfile \
	    -m "postgres and not flyway" >$(PG15_LOG) 2>&1 & pg15=$$!; \
	fi; \
	$(PYTEST_RUN) -n $(PG18_WORKERS) --dist loadfile; pg18_status=$$?; pg15_status=0; \
	wait $$mypy; mypy_status=$$?; echo "--- mypy:"; cat $(MYPY_LOG); \
	if [ -n "$$pg15" ]; then \
	  wait $$pg15; pg15_status=$$?; \
	  echo "--- PostgreSQL 15 (postgres and not flyway):"; cat $(PG15_LOG); \
	fi; \
	test $$pg18_status -eq 0 -a $$pg15_status -eq 0 -a $$mypy_status -eq 0

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build
