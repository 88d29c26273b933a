# landplan: two commands do all set-up on a fresh machine.
#   make demo   create .venv, install landplan, generate the Cần Thơ sample, run it (outputs in output/demo)
#   make test   same set-up, then lint (ruff), type checks (mypy) and the tests (pytest)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WEB    := $(VENV)/share/landplan/web
WEBSTAMP := $(WEB)/.installed
OUT    ?= output/demo

.PHONY: demo test lint typecheck pytest sample clean install chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# The map's controls (fullscreen, measuring, parcel search): npm packages pinned in web/, installed
# into the venv at install time and inlined by landplan; without npm the map simply lacks them.
$(WEBSTAMP): web/package.json web/package-lock.json | $(BIN)/python
	@if command -v npm >/dev/null 2>&1; then \
	  mkdir -p $(WEB) && cp web/package.json web/package-lock.json $(WEB)/ && \
	  npm ci --prefix $(WEB) --no-audit --no-fund --silent && touch $(WEBSTAMP); \
	else echo "npm not found: the map will lack its fullscreen, measuring and search controls"; fi

install: $(STAMP) $(WEBSTAMP)

layers/can_tho_sample.gpkg: $(STAMP) $(WEBSTAMP) src/landplan/sample.py
	$(BIN)/landplan sample --out layers

sample: layers/can_tho_sample.gpkg

demo: layers/can_tho_sample.gpkg
	$(BIN)/landplan run gis/scenarios/can_tho_sample.toml --out $(OUT) --overwrite

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts $(wildcard benchmarks)

typecheck: $(STAMP)
	$(BIN)/mypy

# The map's browser tests drive Debian's Chromium (.ci/run installs it; as root, so does this).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is needed for the map's browser tests: sudo apt-get install chromium"; exit 1; fi; }

pytest: $(STAMP) $(WEBSTAMP) chromium
	$(BIN)/python -m pytest

test: lint typecheck pytest

clean:
	rm -rf output landplan-demo .pytest_cache .mypy_cache .ruff_cache
