# Two commands from a fresh clone:  make demo  ·  make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test install dev clean-demo wheel wheel-check bench bench-quick

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torch first and pinned: an unpinned torch (pulled by sentence-transformers) is a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

test: dev
	$(BIN)/python -m pytest -q

# The distribution is curator-prompts (pip's `curator` is an unrelated package); import name: curator.
wheel: | $(BIN)/python
	$(BIN)/pip install -q --upgrade setuptools
	$(BIN)/pip wheel -q --no-deps -w dist .

# The built wheel in a fresh virtualenv, used from outside the repository (as CI does).
wheel-check:
	PYTHON=$(PYTHON) bash scripts/wheel_check.sh

# Every benchmark in scripts/bench/ on real data; writes docs/performance.md from what it measured
# (about an hour on 2 cores: the scaling table goes up to 1M prompts). bench-quick: small sizes.
bench: install
	$(BIN)/python scripts/bench/run_all.py

bench-quick: install
	$(BIN)/python scripts/bench/run_all.py --quick

clean-demo:
	rm -f corpus/curator.db corpus/curator.db-wal corpus/curator.db-shm
	rm -rf corpus/out corpus/cache corpus/vectors
