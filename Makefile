# AetherEdge: `make demo` runs the whole loop end to end; `make test` runs the suite.
# Both create .venv and install what they need on first use.

VENV    ?= .venv
BIN     := $(abspath $(VENV))/bin
PYTHON  ?= python3
# Ray job drivers run `python -m jobs.retrain`: keep the venv first on PATH.
export PATH := $(BIN):$(PATH)
# The notices mkdocs-material and mkdocs-gen-files print at every build about MkDocs 2.
export NO_MKDOCS_2_WARNING := 1
export DISABLE_MKDOCS_2_WARNING := true

.PHONY: install demo up down status cluster cluster-down test docs docs-serve manifests fuzz soak bench bench-data bench-eval lint format clean

# --compile-bytecode: uv, unlike pip, writes no .pyc by default, and where
# PYTHONDONTWRITEBYTECODE is set nothing ever does, so every Ray worker, replica and
# job driver would compile Ray, scikit-learn and MLflow from source as it starts.
$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev,bench]'
	touch $@

install: $(VENV)/.installed

# checkov pins packaging<24, which Ray 2.60 cannot use: it gets a venv of its own.
CHECKOV_VENV := .venv-checkov
NAB ?= ../shared/data/nab
$(CHECKOV_VENV)/.installed: | $(VENV)/.installed
	$(BIN)/uv venv --quiet --python $(BIN)/python $(CHECKOV_VENV)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(CHECKOV_VENV)/bin/python 'checkov>=3.2,<4'
	touch $@

demo: install  ## train -> serve -> score -> `ray job submit` retrain -> new champion served
	$(BIN)/aetheredge demo

up: install  ## keep a local stack running (Ray, MLflow store, Serve on 127.0.0.1:8000)
	$(BIN)/aetheredge up

down: install
	$(BIN)/aetheredge down

status: install
	$(BIN)/aetheredge status

cluster: install  ## a head and 2 worker nodes, each a network and mount namespace of its own (root)
	$(BIN)/aetheredge nodes up --workers 2 --worker-cpus 1

cluster-down: install
	$(BIN)/aetheredge nodes down

test: install $(CHECKOV_VENV)/.installed  ## lint, import contracts, docs build, then the whole suite (unit tests, then one shared Ray cluster)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mkdocs build --strict --quiet --site-dir $(abspath site)
	AETHER_CHECKOV=$(abspath $(CHECKOV_VENV))/bin/checkov $(BIN)/pytest

manifests: install  ## regenerate each RayService's serveConfigV2 from the code and its settings
	$(BIN)/python -m aetheredge.ops.kubernetes.serve_config

docs: install  ## the documentation site, into site/ (reference pages generated from the code)
	$(BIN)/mkdocs build --strict --site-dir $(abspath site)

docs-serve: install  ## the documentation site on http://127.0.0.1:8001, rebuilt on change
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

fuzz: install  ## schemathesis on the live API, long profile: new random cases each run (~10 min)
	$(BIN)/pytest tests/fuzz --hypothesis-profile=long -p no:cacheprovider

soak: install  ## the stack at 50% of its measured peak for 10 min: p99 drift, memory growth
	$(BIN)/python -m benchmarks.soak

bench: install  ## in-process and HTTP load benchmarks, each against its baseline (see README)
	$(BIN)/python -m benchmarks.inprocess
	$(BIN)/python -m benchmarks.http_load

# Flags for the training benchmarks, e.g. SCALING="--rows 100000 --repeats 1".
TREE_ROWS ?=
SCALING ?=
COST_EVAL ?=
bench-eval: install  ## NAB evaluation (NAB=<data dir>), the cost model on FOCUS bills (COST_EVAL=<flags>), the cost forest's row cap (TREE_ROWS=<flags>), training scaling (SCALING=<flags>); see README
	$(BIN)/python -m evaluation.nab_eval --data-dir $(NAB)
	$(BIN)/python -m benchmarks.cost_eval $(COST_EVAL)
	$(BIN)/python -m benchmarks.tree_rows $(TREE_ROWS)
	$(BIN)/python -m benchmarks.train_scaling $(SCALING)

bench-data: install  ## ingest (COPY vs executemany, HTTP) and what entity baselines buy (see README)
	$(BIN)/python -m benchmarks.ingest
	$(BIN)/python -m evaluation.derived_features

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .aetheredge .pytest_cache .ruff_cache *.egg-info site
