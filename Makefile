# Two commands do all set-up on a machine that has only Python:
#   make demo   create the virtual environment, install, serve the example site
#   make test   the same set-up, then ruff, mypy and the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SITE   ?= example

.PHONY: demo test lint bench system-deps clean

# funnelrun's quickjs-ng (the PyPI binding plus bytecode loading, native/quickjs-ng/) is built
# with the machine's C compiler before the rest is installed; pip then keeps it.
$(STAMP): pyproject.toml native/quickjs-ng/build.py native/quickjs-ng/funnelrun.patch
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python native/quickjs-ng/build.py
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# System packages the tests drive for real, each named as its command: Debian's Chromium for the
# browser tests, Debian's redis-server for the Redis store's (the tests start their own, on a
# free port). Only the missing ones are installed, after one apt-get update for them all.
SYSTEM_DEPS := chromium redis-server

system-deps:
	@missing=""; for name in $(SYSTEM_DEPS); do \
	  command -v $$name >/dev/null 2>&1 || missing="$$missing $$name"; done; \
	test -z "$$missing" || { \
	  echo "installing$$missing (the tests drive them for real)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; }

# Without a FUNNELRUN_SECRET_KEY of yours the demo makes a throwaway one, so the example's
# cross-domain login (/continue) works; tokens made under it die with the server.
NEW_KEY := import base64, os; print(base64.b64encode(os.urandom(32)).decode())

demo: $(STAMP)
	@test -d $(SITE) || $(BIN)/funnelrun new $(SITE)
	FUNNELRUN_SECRET_KEY="$${FUNNELRUN_SECRET_KEY:-$$($(BIN)/python -c '$(NEW_KEY)')}" \
	  $(BIN)/funnelrun serve $(SITE) --host 127.0.0.1 --port 8000

test: $(STAMP) system-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# The load benchmark first (a real server under wrk: the figures to quote), then what recording
# page events adds to a request (record on against off, under wrk), then how throughput and CPU
# per request grow with workers on SQLite and Redis (under wrk), then what a stylesheet and an image
# cost beside a page (under wrk), then the in-process benches that explain them. DURATION,
# WARMUP, ROUNDS, CONNS, PIN, WORKERS, STORES, STARLETTE and FUNNELRUN_* pass through.
bench: $(STAMP) system-deps
	$(BIN)/python bench/load.py
	$(BIN)/python bench/recording.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/assets.py
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
