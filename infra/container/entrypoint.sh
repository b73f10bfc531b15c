#!/bin/sh
# The image's entry point: `manage.py ARGS`, with the database migrations applied before `serve`
# (idempotent; with several servers on one database, run `migrate` once instead and serve with
# `serve --host 0.0.0.0 --port 8000` after it: the migrations are then already there).
set -e
cd /app
if [ "${1:-}" = serve ]; then
  python manage.py migrate --noinput
fi
exec python manage.py "$@"
