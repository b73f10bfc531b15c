# datalab: `make run` serves the platform, `make test` runs every test with real services.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install audit frontend run demo test test-fast lint format cassandra cassandra-stop services services-stop bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip setuptools  # the venv's seed setuptools is old
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Versions and known vulnerabilities from the registries' metadata (pip-audit and npm audit
# cannot reach their services here): docs/security.md, "Dependency audits".
audit: $(STAMP)
	$(PY) infra/audit.py

# The dashboard (static/dist) and the snippet (static/client/dist), built with npm only when a
# source changed since the last build (node_modules installed when the lock file changed).
FRONTEND_SOURCES := $(shell find static/package.json static/package-lock.json static/client \
	static/dashboard -path '*/node_modules' -prune -o -path '*/dist' -prune -o \
	-path static/dashboard/e2e-shots -prune -o -path static/dashboard/e2e-results -prune -o \
	-type f -print 2>/dev/null)
FRONTEND_STAMP := static/dist/.built

static/node_modules/.installed: static/package-lock.json
	cd static && npm ci --no-audit --no-fund
	@touch $@

$(FRONTEND_STAMP): static/node_modules/.installed $(FRONTEND_SOURCES)
	cd static && npm run --silent build
	@touch $@

frontend: $(FRONTEND_STAMP)

run: install frontend
	@echo "datalab is starting on http://$(HOST):$(PORT)"
	$(PY) manage.py serve --prepare --host $(HOST) --port $(PORT)

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
	DATALAB_DATA_DIR=$(CURDIR)/var/test $(VENV)/bin/pytest -q -m "not cassandra and not redis and not browser and not container"

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
