# CloudFair: `make demo` runs the platform on the embedded default; `make test` runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .make-stamps
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite runs on real PostgreSQL and Redis (on loopback by default; CI sets both).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cloudfair
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: help install demo test lint format bench clean

help:
	@echo "make demo   - install, load the demo fair, serve it on http://$(HOST):$(PORT)"
	@echo "make test   - install what is missing and run the whole test suite"
	@echo "make lint   - ruff check + format check"
	@echo "make bench  - run the benchmarks in bench/"

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMPS)/python: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/npm: package.json package-lock.json deploy/copy-vendor.mjs
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

install: $(STAMPS)/python $(STAMPS)/npm
	@test -f static/vendor/htmx/htmx.min.js || npm ci --no-audit --no-fund --loglevel=error

# The embedded default: SQLite, in-memory channel layer, eager Celery, files under media/.
demo: export DJANGO_DEBUG ?= 1
demo: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py migrate --noinput
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python manage.py seed_demo
	@echo "Serving CloudFair on http://$(HOST):$(PORT) (Ctrl-C stops it)"
	env -u DATABASE_URL -u REDIS_URL $(BIN)/daphne -b $(HOST) -p $(PORT) fair.asgi:application

test: export DATABASE_URL ?= $(TEST_DATABASE_URL)
test: export REDIS_URL ?= $(TEST_REDIS_URL)
test: install
	@$(BIN)/python tests/services_check.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: export DATABASE_URL ?= $(TEST_DATABASE_URL)
bench: export REDIS_URL ?= $(TEST_REDIS_URL)
bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(STAMPS) staticfiles media-test
