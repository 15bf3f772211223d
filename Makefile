# The README's commands. Each target sets up what it needs: a fresh clone needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench wheel-check clean help

help:
	@echo "make run    compile schema/ into generated/"
	@echo "make unit   the tests that need no database, Java or wheel build (seconds)"
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

# tests/conftest.py marks `unit` every test with no server, Flyway or wheel build.
unit: $(STAMP)
	$(BIN)/pytest -q -m unit

# The integration suite runs on the embedded PostgreSQL 18, and again on the server in
# SCHEMAC_TEST_PG15_URL when it is set (CI starts Debian's PostgreSQL 15 for it). The two runs
# go side by side: each waits on its servers, Flyway and child processes much of the time, so
# together they take about as long as the longer one (docs/benchmarks.md, the test suite).
# The PostgreSQL 15 run's output is printed when both are done; either failing fails `make test`.
PG15_LOG := tests/.tmp/pg15-run.log
test: lint typecheck
	@mkdir -p tests/.tmp; pg15=""; \
	if [ -n "$$SCHEMAC_TEST_PG15_URL" ]; then \
	  echo "--- on PostgreSQL 15 ($${SCHEMAC_TEST_PG15_URL%%@*}@...) at the same time, output in $(PG15_LOG)"; \
	  SCHEMAC_TEST_PG_URL="$$SCHEMAC_TEST_PG15_URL" $(BIN)/pytest -q -p no:cacheprovider \
	    -m "postgres and not flyway" >$(PG15_LOG) 2>&1 & pg15=$$!; \
	fi; \
	$(BIN)/pytest -q; pg18_status=$$?; pg15_status=0; \
	if [ -n "$$pg15" ]; then \
	  wait $$pg15; pg15_status=$$?; \
	  echo "--- PostgreSQL 15 (postgres and not flyway):"; cat $(PG15_LOG); \
	fi; \
	test $$pg18_status -eq 0 -a $$pg15_status -eq 0

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build
