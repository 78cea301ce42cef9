# The two commands of the README: `make demo` and `make test`. Both build the virtual
# environment from pyproject.toml first, so they work on a fresh machine.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint lint-deploy dev clean

# dagster-pyspark requires the full pyspark, whose files would overwrite pyspark-client's (the spark
# extra); it runs on the Connect-only client, so it is installed without its dependencies.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps dagster-pyspark==0.29.27
	touch $(STAMP)

# Azurite, the Azure Storage emulator the tests run the lake on, at the version in package-lock.json.
AZURITE := node_modules/.installed
$(AZURITE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(AZURITE)

demo: $(STAMP)
	$(BIN)/ecom demo

test: $(STAMP) $(AZURITE) lint-deploy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

# The deployment files: workflows (actionlint), Dockerfiles (hadolint), the compose file (its schema).
lint-deploy: $(STAMP)
	$(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/hadolint deploy/*Dockerfile*
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec deploy/docker-compose.yml

# The Dagster UI on the instance that `ecom demo` and `ecom materialize` write to.
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
dev: $(STAMP)
	mkdir -p $(DAGSTER_HOME) && cp -n dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf $(VENV) .lake .dagster_home node_modules
