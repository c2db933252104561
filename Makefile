# Two commands matter: `make demo` (the main job end to end on demo data) and `make test` (the whole suite).
# Both create .venv and install what they need, once: later runs reuse .venv, pip's cache and Ivy's jar cache.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   ?= demo/lakehouse
export PYSPARK_PYTHON := $(abspath $(BIN)/python)

.PHONY: setup demo test lint lock bench-ingest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependencies or their lock change. The lock (constraints.txt) holds the exact
# version of every Python package, direct or not, so a fresh clone installs what CI last tested. It also
# constrains pip's isolated build of vigie itself, which would otherwise take the newest setuptools, and
# pins pip, the installer, first.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	@java -version 2>&1 | grep -q 'version "17' || { echo "vigie needs Java 17 on PATH (apt-get install openjdk-17-jre-headless)"; exit 1; }
	$(BIN)/pip install --quiet -c constraints.txt pip
	$(BIN)/pip install --quiet -c constraints.txt --build-constraint constraints.txt -e '.[spark,dev]'
	touch $@

# Re-resolve the lock: the newest versions pyproject.toml allows, for every Python it supports (from 3.10,
# its lowest) and every platform. Then `make test`, and commit both files together.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet 'uv>=0.9,<1'
	$(BIN)/uv pip compile pyproject.toml --extra spark --extra dev --universal --python-version 3.10 \
		--upgrade --quiet --custom-compile-command 'make lock' -o constraints.txt

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
