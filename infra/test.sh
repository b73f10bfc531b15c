#!/usr/bin/env bash
# The whole suite, with the real services it needs. Called by `make test` (and so by CI).
# Under CI=true a service that cannot be started fails the run; tests never skip it there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DATALAB_DATA_DIR="$PWD/var/test"
rm -rf "$DATALAB_DATA_DIR" && mkdir -p "$DATALAB_DATA_DIR"

step() { printf '\n== %s\n' "$*" >&2; }

step "lint (ruff)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

step "services: Redis, PostgreSQL, Cassandra, Chromium"
bash infra/redis.sh start
export DATALAB_TEST_REDIS_URL="$(bash infra/redis.sh url)"
bash infra/postgres.sh start
PG_URL="$(bash infra/postgres.sh url)"
bash infra/cassandra.sh start
export DATALAB_TEST_CASSANDRA_HOSTS=127.0.0.1
export DATALAB_TEST_CASSANDRA_PORT="${DATALAB_CASSANDRA_PORT:-9042}"
export DATALAB_TEST_CHROMIUM="$(bash infra/chromium.sh)"

if [ -f static/package.json ]; then
  step "frontend unit tests (vitest)"
  (cd static && npm test --silent)
fi

step "dashboard end to end (Playwright, Chromium, a real server)"
(cd static/dashboard && DATALAB_TEST_CHROMIUM="$DATALAB_TEST_CHROMIUM" E2E_DATA_DIR="$DATALAB_DATA_DIR/e2e" \
  npx playwright test)

step "suite on SQLite (every test but the container's and the cluster's, below)"
"$PY" -m pytest -q -p no:cacheprovider -m "not container and not cassandra_cluster"

step "3-node Cassandra cluster: a node killed during ingest, several servers"
t0=$SECONDS
bash infra/cassandra.sh cluster start
cluster_rc=0
DATALAB_TEST_CASSANDRA_CLUSTER_HOSTS="$(bash infra/cassandra.sh cluster hosts)" \
DATALAB_TEST_CASSANDRA_CLUSTER_PORT="$(bash infra/cassandra.sh cluster port)" \
DATALAB_TEST_POSTGRES_URL="$PG_URL" "$PY" -m pytest -q -p no:cacheprovider -m cassandra_cluster || cluster_rc=$?
bash infra/cassandra.sh cluster stop
printf '== cluster step: %d s\n' "$((SECONDS - t0))" >&2
[ "$cluster_rc" -eq 0 ] || exit "$cluster_rc"

step "database-backed suite on PostgreSQL"
DATABASE_URL="$PG_URL" "$PY" -m pytest -q -p no:cacheprovider -m "not browser and not cassandra and not container"

step "container image (podman): built from this checkout, run on embedded defaults, then on the PostgreSQL, Redis and Cassandra above"
t0=$SECONDS
# Installs podman, runc and debootstrap when missing and makes the Dockerfile's base images once;
# later runs reuse them and podman's layer cache. Without podman the tests skip, as for a missing
# service; under CI=true they fail (tests/services.py). A build that fails ends the run.
DATALAB_TEST_IMAGE=""
if bash infra/container.sh install; then
  DATALAB_TEST_IMAGE="$(DATALAB_IMAGE=datalab:test bash infra/container.sh build)"
else
  echo "container: podman could not be installed" >&2
fi
export DATALAB_TEST_IMAGE
DATABASE_URL="$PG_URL" "$PY" -m pytest -q -p no:cacheprovider -m container
printf '== container step: %d s\n' "$((SECONDS - t0))" >&2
