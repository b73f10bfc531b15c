# datalab: `make run` serves the platform, `make test` runs every test with real services.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install frontend run demo test test-fast lint format cassandra cassandra-stop services services-stop bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The dashboard and the snippet are built with npm when their sources exist.
frontend:
	@if [ -f static/package.json ]; then \
		cd static && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run --silent build; \
	fi

run: install frontend
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "datalab is starting on http://$(HOST):$(PORT)"
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

# `make run` plus the demo: an organization, its "Demo shop" app with 30 days of generated traffic
# and the shop itself at /demo/ (idempotent: a second run adds nothing twice).
demo: export DATALAB_PUBLIC_URL ?= http://$(HOST):$(PORT)
demo: install frontend
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py demo
	@echo "datalab is starting on http://$(HOST):$(PORT)"
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

# Every test: starts Redis, PostgreSQL, Cassandra and installs Chromium when missing.
test: install frontend
	bash infra/test.sh

# The quick loop while developing: SQLite only, no external services.
test-fast: install
	DATALAB_DATA_DIR=$(CURDIR)/var/test $(VENV)/bin/pytest -q -m "not cassandra and not redis and not browser"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

cassandra:
	bash infra/cassandra.sh start

cassandra-stop:
	bash infra/cassandra.sh stop

services: cassandra
	bash infra/redis.sh start
	bash infra/postgres.sh start

services-stop: cassandra-stop
	bash infra/redis.sh stop
	bash infra/postgres.sh stop

clean:
	rm -rf $(VENV) static/node_modules static/dist var/test
