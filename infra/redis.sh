#!/usr/bin/env bash
# Local Redis for development and tests: 127.0.0.1 only, no persistence, files in <repo>/var/redis.
#   infra/redis.sh start|stop|status|url
# Env: DATALAB_REDIS_PORT (63790), REDIS_DIR (<repo>/var/redis).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${DATALAB_REDIS_PORT:-63790}"
dir="${REDIS_DIR:-$repo/var/redis}"
pidfile="$dir/redis-$port.pid"
log="$dir/redis-$port.log"
url="redis://127.0.0.1:$port/0"

say() { echo "redis: $*" >&2; }

install() {
  command -v redis-server >/dev/null && return 0
  say "redis-server missing, installing Debian's redis-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q redis-server >&2 || { apt-get update -q >&2 && apt-get install -y -q redis-server >&2; }
}

ready() { [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; }

start() {
  install
  if ready; then say "already running on 127.0.0.1:$port"; return 0; fi
  mkdir -p "$dir"
  say "starting on 127.0.0.1:$port (dir $dir)"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --pidfile "$pidfile" --logfile "$log" --save "" --appendonly no >/dev/null
  for _ in $(seq 50); do ready && { say "ready: $url"; return 0; }; sleep 0.2; done
  say "not ready after 10s; last 40 lines of $log:"; tail -n 40 "$log" >&2; exit 1
}

stop() {
  local pid
  pid="$(cat "$pidfile" 2>/dev/null)" || true
  # Only a redis-server: a stale pid file may name a reused pid.
  if [ -n "$pid" ] && grep -q redis-server "/proc/$pid/comm" 2>/dev/null && kill "$pid"; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    say "stopped"
  else
    say "not running"
  fi
  rm -f "$pidfile"
}

status() {
  if ready; then echo "redis: running, $url"; else echo "redis: not running (port $port)"; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
