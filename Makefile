# Every target creates .venv on first use, from constraints.txt (exact pins), so a fresh
# machine needs nothing but python3 (>= 3.10) and the package registry.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The real UCI airfoil file, when a checkout has ../shared beside it (CI and developers).
SHARED_DATA := $(abspath ../shared/data)
export SUPREMIX_DATA ?= $(if $(wildcard $(SHARED_DATA)/airfoil_self_noise.dat),$(SHARED_DATA),)
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0

.PHONY: help install test book bench lint format clean

help:
	@echo "make book   execute every notebook on its phantom and build the HTML book (_build/html)"
	@echo "make test   lint, unit tests, notebook smoke runs and a strict book build"
	@echo "make bench  speed and memory benchmarks -> benchmarks/results/"
	@echo "make lint   ruff"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,book]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check supremix tests benchmarks notebooks
	$(BIN)/ruff format --check supremix tests benchmarks notebooks

format: $(STAMP)
	$(BIN)/ruff check --fix supremix tests benchmarks notebooks
	$(BIN)/ruff format supremix tests benchmarks notebooks

test: lint
	$(BIN)/python -m pytest -q
	$(BIN)/jupyter-book build . --all -W -n --keep-going

book: $(STAMP)
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo "Open _build/html/index.html"

bench: $(STAMP)
	$(BIN)/python benchmarks/loss_bench.py

clean:
	rm -rf _build .pytest_cache .ruff_cache
