# The README's commands. Each target creates .venv and installs the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test dev lint format clean

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(INSTALLED)

demo: $(INSTALLED)  ## full sync on the embedded defaults, printing what it did (VERBOSE=1: Dagster's logs too)
	$(BIN)/hubspot-pipeline demo $(if $(VERBOSE),--verbose)

# The suite on two workers (a file's tests on one, each worker its own database), then the schemathesis
# fuzzing, whose tests share a node id per API operation and so cannot run under xdist (tests/conftest.py).
FUZZ := tests/api/test_openapi_fuzz.py
test: $(INSTALLED)  ## the whole test suite
	$(BIN)/python -m pytest -n 2 --dist loadfile --ignore=$(FUZZ)
	$(BIN)/python -m pytest $(FUZZ)

dev: $(INSTALLED)  ## the local stack: database, sandbox, API and the Dagster UI (VERBOSE=1: all of Dagster's output)
	$(BIN)/hubspot-pipeline dev $(if $(VERBOSE),--verbose)

lint: $(INSTALLED)
	$(BIN)/ruff check hubspot_pipeline tests bench
	$(BIN)/ruff format --check hubspot_pipeline tests bench
	$(BIN)/mypy

format: $(INSTALLED)
	$(BIN)/ruff format hubspot_pipeline tests bench
	$(BIN)/ruff check --fix hubspot_pipeline tests bench

clean:
	-$(BIN)/hubspot-pipeline db stop
	rm -rf $(VENV) .data
