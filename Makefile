# Consilium: `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Both cores (or up to four): the suite takes half the time it does serially.
PYTEST_ARGS ?= -n auto --maxprocesses 4
# The local demo: plain http on this machine, friendly error pages (DEBUG is
# off unless you ask: `DEBUG=1 make run` shows Django's technical pages).
RUN_ENV := CONSILIUM_LOCAL=1

.PHONY: help install run serve test lint format bench chromium clean

help:
	@echo "make run    install, migrate, seed the demo and serve on http://$(HOST):$(PORT) (DEBUG=1 for technical error pages)"
	@echo "make test   install and run the whole test suite"
	@echo "make lint   ruff check;  make bench  run the benchmarks"

$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || { echo "Installing uv (fast installer) from PyPI"; python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv; }
	@PYBIN=$$(scripts/find-python) && UV=$$(command -v uv || echo "$$HOME/.local/bin/uv") && \
		$$UV sync --frozen --python "$$PYBIN" --quiet
	@touch $@

install: $(VENV)/.installed

run: install
	$(RUN_ENV) $(PY) manage.py migrate --no-input
	$(RUN_ENV) $(PY) manage.py seed_demo
	@echo ""
	@echo "Consilium is at http://$(HOST):$(PORT)/  (Ctrl-C stops the server and the task worker)"
	@trap 'kill 0' EXIT INT TERM; \
		$(RUN_ENV) $(PY) manage.py db_worker --interval 0.5 --no-reload & \
		$(RUN_ENV) $(VENV)/bin/daphne --websocket-max-message-size 1048576 -b $(HOST) -p $(PORT) workspace.asgi:application

chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests"; \
		scripts/apt-install chromium fonts-liberation >/dev/null; \
	fi

test: install chromium
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# wrk (Debian) loads the pages; dicognito is installed by the deid benchmark
# into benchmarks/.venv-peers, never into .venv. BENCH_ARGS="pages --quick".
bench: install
	@if ! command -v wrk >/dev/null 2>&1; then \
		echo "Installing Debian's wrk for the page benchmark"; \
		scripts/apt-install wrk >/dev/null \
			|| echo "wrk not installed: the page benchmark uses its Python load generator"; \
	fi
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache staticfiles
