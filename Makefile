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
export PYTHONHASHSEED := 0

.PHONY: help install test book bench record lint format clean

help:
	@echo "make book   execute every notebook on its phantom and build the HTML book (_build/html)"
	@echo "make test   lint, unit tests, notebook smoke runs and a strict book build"
	@echo "make bench  speed and memory benchmarks -> benchmarks/results/"
	@echo "make record rerun every recorded study (tools/record.py) -> results/<study>/ (long)"
	@echo "make lint   ruff and mypy (supremix/)"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,book]'
	touch $(STAMP)

install: $(STAMP)

CODE := supremix tests benchmarks notebooks tools
BOOK_FLAGS := --all -W -n --keep-going

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix $(CODE)
	$(BIN)/ruff format $(CODE)

# Unit tests and one smoke run per notebook (pytest marker "notebook"), then a strict build
# of the whole book with execution off: the smoke runs have executed every notebook already,
# and the full-scale execution is `make book`'s job (CI stays well under 30 minutes). Without
# execution no notebook has its glued numbers, so only that build lets a glue key be missing.
test: lint
	$(BIN)/python tools/notebooks.py check
	$(BIN)/python -m pytest -q
	mkdir -p _build
	sed -e 's/^\(  execute_notebooks:\).*/\1 "off"/' \
	    -e 's/^\(    suppress_warnings: \[\)/\1"mystnb.glue", /' _config.yml > _build/_config_noexec.yml
	$(BIN)/jupyter-book build . --config _build/_config_noexec.yml $(BOOK_FLAGS)

# Notebooks are executed into the book's execution cache one per core at a time (the book
# itself runs them one after another), then the build renders them from the cache.
book: $(STAMP)
	$(BIN)/python tools/notebooks.py check
	$(BIN)/python tools/notebooks.py execute
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)
	@echo "Open _build/html/index.html"

bench: $(STAMP)
	$(BIN)/python benchmarks/loss_bench.py
	$(BIN)/python benchmarks/train_bench.py
	$(BIN)/python benchmarks/data_bench.py

# The recorded studies (tools/record.py: notebook, parameters, folder) rerun from scratch on a
# clean checkout; an interrupted study resumes from its finished runs under runs/record/.
record: $(STAMP)
	nice -n 10 $(BIN)/python tools/record.py

clean:
	rm -rf _build .pytest_cache .ruff_cache
