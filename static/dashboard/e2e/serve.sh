#!/usr/bin/env bash
# The real datalab server the end-to-end tests drive: a fresh data directory (embedded SQLite for
# metadata and events, console e-mail into server.log), the built dashboard, `manage.py serve`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
data="${E2E_DATA_DIR:?}"
rm -rf "$data" && mkdir -p "$data"
export DATALAB_DATA_DIR="$data" DATALAB_PUBLIC_URL="http://127.0.0.1:${E2E_PORT:?}"
unset DATABASE_URL DATALAB_EVENT_STORE DATALAB_REDIS_URL
cd "$root"
test -f static/dist/index.html || { echo "e2e: build the dashboard first (make frontend)" >&2; exit 1; }
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py collectstatic --noinput -v 0
exec .venv/bin/python manage.py serve --port "$E2E_PORT" > "$data/server.log" 2>&1
