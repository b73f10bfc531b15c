#!/usr/bin/env bash
# Local PostgreSQL for development and tests: data in <repo>/var/postgres, trust auth on 127.0.0.1.
#   infra/postgres.sh start|stop|status|url
# Env: DATALAB_PG_PORT (54329), POSTGRES_DIR (<repo>/var/postgres), PG_BIN (newest installed).
# Creates role "datalab" (LOGIN CREATEDB) and database "datalab": see `url`.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${DATALAB_PG_PORT:-54329}"
# The server runs as user postgres, which must be able to enter every parent folder; a clone
# under a private home (e.g. /root) cannot give it that, so the data then goes to /var/tmp.
others_can_enter() {
  local p="$1"
  while [ "$p" != "/" ]; do
    [ $(( $(stat -c '%a' "$p") % 2 )) -eq 1 ] || return 1  # the "others" execute bit
    p="$(dirname "$p")"
  done
}
default_dir="$repo/var/postgres"
if [ "$(id -u)" = 0 ] && ! others_can_enter "$repo"; then
  default_dir="/var/tmp/datalab-postgres-${DATALAB_PG_PORT:-54329}"
fi
dir="${POSTGRES_DIR:-$default_dir}"
data="$dir/data"
log="$dir/postgres.log"
url="postgres://datalab@127.0.0.1:$port/datalab"

say() { echo "postgres: $*" >&2; }

latest_bin() { printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '[*]' | sort -V | tail -n 1 || true; }

find_bin() {
  [ -n "${PG_BIN:-}" ] || PG_BIN="$(latest_bin)"
  [ -n "$PG_BIN" ] && return 0
  say "no PostgreSQL found, installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q postgresql >&2 || { apt-get update -q >&2 && apt-get install -y -q postgresql >&2; }
  PG_BIN="$(latest_bin)"
}

# postgres refuses to run as root: as root, run its programs as the "postgres" user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; }

psql_admin() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }

ensure_role_and_db() {
  psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'datalab'" | grep -q 1 \
    || psql_admin -c "CREATE ROLE datalab LOGIN CREATEDB"
  psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'datalab'" | grep -q 1 \
    || psql_admin -c "CREATE DATABASE datalab OWNER datalab"
}

init() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" --shell /usr/sbin/nologin postgres
    chown postgres: "$dir"
    as_pg test -w "$dir" || { say "user postgres cannot reach $dir: chmod o+x its parent folders, or set POSTGRES_DIR"; exit 1; }
  fi
  [ -f "$data/PG_VERSION" ] && return 0
  say "initdb into $data"
  as_pg "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 --auth=trust >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  # Trust, but over TCP from 127.0.0.1 only (plus the server's own socket in $dir).
  printf '%s\n' "local all all trust" "host all all 127.0.0.1/32 trust" >"$data/pg_hba.conf"
  # A throwaway test database: durability off for speed.
  printf '%s\n' "fsync = off" "synchronous_commit = off" "full_page_writes = off" >>"$data/postgresql.conf"
}

start() {
  find_bin
  if ready; then ensure_role_and_db; say "already running on 127.0.0.1:$port"; return 0; fi
  mkdir -p "$dir"
  exec 9>"$dir/start.lock"
  flock 9  # parallel starts on one POSTGRES_DIR: the first one starts, the others wait
  if ! ready; then
    init
    say "starting on 127.0.0.1:$port (data $data)"
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$dir'" start >/dev/null 9>&- \
      || { say "start failed; last 40 lines of $log:"; tail -n 40 "$log" >&2; exit 1; }
  fi
  ensure_role_and_db
  say "ready: $url"
}

stop() {
  find_bin
  if [ -f "$data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    say "stopped"
  else
    say "not running"
  fi
}

status() {
  find_bin
  if ready; then echo "postgres: running, $url"; else echo "postgres: not running (port $port)"; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
