# Two commands matter: `make demo` (the main job end to end on demo data) and `make test` (the whole suite).
# Both create .venv and install what they need, once: later runs reuse .venv, pip's cache and Ivy's jar cache.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   ?= demo/lakehouse
export PYSPARK_PYTHON := $(abspath $(BIN)/python)

.PHONY: setup demo test lint bench-ingest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

# Re-install only when the pinned dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@java -version 2>&1 | grep -q 'version "17' || { echo "vigie needs Java 17 on PATH (apt-get install openjdk-17-jre-headless)"; exit 1; }
	$(BIN)/pip install --quiet -e '.[spark,dev]'
	touch $@

# Download the JVM jars from Maven Central into Ivy's cache once, and record the files it resolved.
$(VENV)/.jars: $(VENV)/.installed lib/vigie/versions.py
	$(BIN)/vigie setup
	touch $@

setup: $(VENV)/.jars

demo: setup
	$(BIN)/vigie pipeline --lakehouse $(DEMO) --demo

test: setup
	$(BIN)/ruff check lib tests jobs benchmarks notebooks
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check lib tests jobs benchmarks notebooks
	$(BIN)/ruff format --check lib tests jobs benchmarks notebooks

bench-ingest: setup
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) demo .pytest_cache
