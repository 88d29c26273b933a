# landplan: two commands do all set-up on a fresh machine.
#   make demo   create .venv, install landplan, generate the Cần Thơ sample, run it (outputs in output/demo)
#   make test   same set-up, then lint (ruff), type checks (mypy) and the tests (pytest)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= output/demo

.PHONY: demo test lint typecheck pytest sample clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

layers/can_tho_sample.gpkg: $(STAMP) src/landplan/sample.py
	$(BIN)/landplan sample --out layers

sample: layers/can_tho_sample.gpkg

demo: layers/can_tho_sample.gpkg
	$(BIN)/landplan run gis/scenarios/can_tho_sample.toml --out $(OUT) --overwrite

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts $(wildcard benchmarks)

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck pytest

clean:
	rm -rf output landplan-demo .pytest_cache .mypy_cache .ruff_cache
