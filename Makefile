# LINE OA Live Chat — `make run` serves the app, `make test` runs the suite (fresh clone OK).

# The first Python >= 3.12 found: python3.13 / python3.12 on PATH, pyenv's, then python3.
PYTHON ?= $(shell for p in python3.13 python3.12 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=
export DEBUG ?= 1
export PORT

.PHONY: run test install lint bench-webhook clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python >= 3.12 not found: install it or pass PYTHON=/path/to/python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput -v0
	@echo "Serving on http://$(HOST):$(PORT)/  (console /console/, admin /admin/, simulator /simulator/)"
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/python manage.py worker & \
	$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff; the import-linter contracts of pyproject.toml (layers only point down); mypy.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# Starts its own daphne on a free port against a fresh livechat_bench database (DATABASE_URL /
# REDIS_URL override it); `make bench-webhook BENCH_ARGS="--help"` for the options.
bench-webhook: install
	$(BIN)/python bench/webhook.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache test-artifacts
