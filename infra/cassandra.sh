#!/usr/bin/env bash
# Local single-node Apache Cassandra 5.0 for development and tests, run from Maven Central jars.
#   infra/cassandra.sh start|stop|status
# and a 3-node cluster on 127.0.0.1-3 (one JVM each) beside it, on its own ports:
#   infra/cassandra.sh cluster start|stop|status|hosts|stop-node N|kill-node N|start-node N
# Env: DATALAB_CASSANDRA_PORT (CQL, 9042), CASSANDRA_STORAGE_PORT (7000), CASSANDRA_JMX_PORT (7199),
#      CASSANDRA_DIR (<repo>/var/cassandra), CASSANDRA_LIB (jars, $CASSANDRA_DIR/lib),
#      CASSANDRA_HEAP (512m), CASSANDRA_START_TIMEOUT (240 s).
# The storage and JMX ports default to 7000 and 7199 shifted by (CQL port - 9042), so a parallel
# run only needs another DATALAB_CASSANDRA_PORT and CASSANDRA_DIR.
# Cluster env: CASSANDRA_CLUSTER_PORT (CQL of every node, 9142), CASSANDRA_CLUSTER_STORAGE_PORT
#      (7100), CASSANDRA_CLUSTER_JMX_PORT (node N: this + N, 7300), CASSANDRA_CLUSTER_DIR
#      (<repo>/var/cassandra-cluster, node N in nodeN/), CASSANDRA_CLUSTER_HEAP (384m); the jars
#      are the single node's ($CASSANDRA_LIB).
# See docs/cassandra.md for the flags, figures and troubleshooting.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cql_port="${DATALAB_CASSANDRA_PORT:-9042}"
storage_port="${CASSANDRA_STORAGE_PORT:-$((7000 + cql_port - 9042))}"
jmx_port="${CASSANDRA_JMX_PORT:-$((7199 + cql_port - 9042))}"
dir="${CASSANDRA_DIR:-$repo/var/cassandra}"
heap="${CASSANDRA_HEAP:-512m}"
timeout_s="${CASSANDRA_START_TIMEOUT:-240}"
lib="${CASSANDRA_LIB:-$dir/lib}"
pidfile="$dir/cassandra.pid"
log="$dir/logs/system.log"
out="$dir/logs/stdout.log"
python="$repo/.venv/bin/python"
addr=127.0.0.1
node=""
who=cassandra
extra_flags=""

say() { echo "$who: $*" >&2; }

# True when a CQL server answers a native-protocol OPTIONS request (with SUPPORTED) on the port.
cql_answers() {
  # shellcheck disable=SC2016  # the inner script gets the port as $1
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$2/$1" || exit 1
    printf "\x04\x00\x00\x00\x05\x00\x00\x00\x00" >&3
    reply="$(head -c 5 <&3 | od -An -tx1 | tr -d " \n")"
    [ "$reply" = "8400000006" ]' _ "$cql_port" "$addr" 2>/dev/null
}

# A real query through the Python driver, when the project venv has it.
cql_query_works() {
  if [ -x "$python" ] && "$python" -c 'import cassandra' 2>/dev/null; then
    "$python" - "$cql_port" "$addr" <<'EOF'
import sys
from cassandra.cluster import Cluster
from cassandra.policies import WhiteListRoundRobinPolicy
address = sys.argv[2]
cluster = Cluster(
    [address], port=int(sys.argv[1]), connect_timeout=5,
    load_balancing_policy=WhiteListRoundRobinPolicy([address]),
)
try:
    cluster.connect().execute("SELECT release_version FROM system.local", timeout=10).one()
finally:
    cluster.shutdown()
EOF
  else
    grep -q "Starting listening for CQL clients" "$log"
  fi
}

running_pid() {
  local pid
  pid="$(cat "$pidfile" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q CassandraDaemon "/proc/$pid/cmdline" 2>/dev/null \
    && echo "$pid"
}

fetch_jars() {
  ls "$lib"/cassandra-all-*.jar >/dev/null 2>&1 && return 0
  say "downloading Cassandra jars into $lib (once)"
  rm -rf "$lib.tmp"
  if ! mvn -B -q -f "$here/cassandra/pom.xml" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DoutputDirectory="$lib.tmp" -DincludeScope=runtime >"$dir/logs/mvn.log" 2>&1; then
    tail -n 40 "$dir/logs/mvn.log" >&2; say "jar download failed (log: $dir/logs/mvn.log)"; exit 1
  fi
  rm -rf "$lib" && mv "$lib.tmp" "$lib"
  local jars=("$lib"/*.jar)
  say "${#jars[@]} jars, $(du -sh "$lib" | cut -f1)"
}

jvm_flags() {
  local jamm=("$lib"/jamm-*.jar)
  echo "-Xms$heap -Xmx$heap -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Xss256k"
  echo "-javaagent:${jamm[0]} -Djdk.attach.allowAttachSelf=true -Djava.net.preferIPv4Stack=true"
  echo "-Dio.netty.tryReflectionSetAccessible=true"
  # From Cassandra 5.0's conf/jvm17-server.options.
  local m
  for m in java.base/jdk.internal.misc java.management.rmi/com.sun.jmx.remote.internal.rmi \
           java.rmi/sun.rmi.registry java.rmi/sun.rmi.server java.sql/java.sql java.base/java.lang.ref \
           jdk.unsupported/sun.misc jdk.compiler/com.sun.tools.javac.file jdk.attach/sun.tools.attach; do
    echo "--add-exports $m=ALL-UNNAMED"
  done
  for m in java.base/java.lang.module java.base/jdk.internal.loader java.base/jdk.internal.ref \
           java.base/jdk.internal.reflect java.base/jdk.internal.math java.base/jdk.internal.module \
           java.base/jdk.internal.util.jar jdk.management/com.sun.management.internal java.base/sun.nio.ch \
           java.base/java.io java.base/java.lang.reflect jdk.compiler/com.sun.tools.javac java.base/java.lang \
           java.base/java.util java.base/java.nio java.base/java.util.concurrent \
           java.base/java.util.concurrent.atomic; do
    echo "--add-opens $m=ALL-UNNAMED"
  done
}

start() {
  already=""
  launch
  [ -n "$already" ] || wait_ready "$(cat "$pidfile")"
}

# Starts the node of the current settings unless it answers or is starting; its pid in $pidfile.
launch() {
  if cql_answers; then say "already answering CQL on $addr:$cql_port"; already=1; return 0; fi
  mkdir -p "$dir/conf" "$dir/logs" "$dir/triggers"
  exec 9>"$dir/start.lock"
  flock 9  # parallel starts on one CASSANDRA_DIR: the first one launches, the others wait
  if cql_answers; then say "already answering CQL on $addr:$cql_port"; already=1; return 0; fi
  command -v java >/dev/null || { say "java not found: install a JDK 11 or 17"; exit 1; }
  local pid
  if pid="$(running_pid)"; then
    grep -q "native_transport_port: $cql_port\$" "$dir/conf/cassandra.yaml" \
      || { say "node $pid of $dir runs with another CQL port: stop it first"; exit 1; }
    say "node $pid is starting, waiting for it"
  else
    fetch_jars
    sed -e "s/@CQL_PORT@/$cql_port/" \
        -e "s/@STORAGE_PORT@/$storage_port/" "$here/cassandra/cassandra.yaml.in" >"$dir/conf/cassandra.yaml"
    if [ -n "$node" ]; then cluster_conf; fi
    [ -f "$log" ] && mv "$log" "$log.prev"
    say "starting on $addr, CQL port $cql_port (storage $storage_port, JMX $jmx_port, heap $heap, dir $dir)"
    # shellcheck disable=SC2046,SC2086  # one flag per word
    setsid nohup java $(jvm_flags) $extra_flags \
      -Dcassandra.config="file://$dir/conf/cassandra.yaml" \
      -Dcassandra.storagedir="$dir" -Dcassandra.logdir="$dir/logs" \
      -Dlogback.configurationFile="$here/cassandra/logback.xml" \
      -Dcassandra-foreground=yes -Dcassandra.jmx.local.port="$jmx_port" \
      -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.triggers_dir="$dir/triggers" \
      -cp "$dir/conf:$lib/*" org.apache.cassandra.service.CassandraDaemon \
      </dev/null >"$out" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$pidfile"
  fi
  exec 9>&-
}

# Waits for the launched node (pid $1) to answer a real CQL query.
wait_ready() {
  local pid=$1 t0=$SECONDS
  until cql_answers && cql_query_works 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then fail "node $pid exited"; fi
    if (( SECONDS - t0 > timeout_s )); then fail "not ready after ${timeout_s}s (node $pid left starting; \"$0 stop\" ends it)"; fi
    sleep 1
  done
  say "ready on $addr:$cql_port after $((SECONDS - t0))s (pid $pid)"
}

fail() {
  say "$1; last 40 lines of $log:"
  tail -n 40 "$log" >&2 2>/dev/null || true
  if [ -s "$out" ]; then say "last lines of $out:"; tail -n 20 "$out" >&2; fi
  exit 1
}

stop() {
  local pid signal=${1:-TERM}
  if ! pid="$(running_pid)"; then say "not running"; rm -f "$pidfile"; return 0; fi
  say "stopping node $pid (SIG$signal)"
  kill -s "$signal" "$pid"
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then say "still alive after 30s, killing"; kill -9 "$pid"; fi
  rm -f "$pidfile"
  say "stopped"
}

status() {
  local pid=""
  pid="$(running_pid)" || true
  if cql_answers; then
    echo "$who: running, CQL on $addr:$cql_port${pid:+ (pid $pid)}"
  elif [ -n "$pid" ]; then
    echo "$who: starting (pid $pid), CQL port $cql_port not answering yet"; return 1
  else
    echo "$who: not running (CQL on $addr:$cql_port)"; return 1
  fi
}

# -- the 3-node cluster ----------------------------------------------------------------------------
# Same jars and template as the single node. Each node listens on its own loopback address with the
# same ports (the driver finds the peers on the contact point's port), owns a third of the ring
# (num_tokens 1, evenly spaced initial tokens), and does not bootstrap (the cluster is new).
# GossipingPropertyFileSnitch (datacenter1, rack1) with the dynamic snitch off: a node that
# coordinates a read at ONE reads its own replica, so a test can ask one node what it holds.
cluster_size=3
cluster_port="${CASSANDRA_CLUSTER_PORT:-9142}"
cluster_storage_port="${CASSANDRA_CLUSTER_STORAGE_PORT:-7100}"
cluster_jmx_port="${CASSANDRA_CLUSTER_JMX_PORT:-7300}"
cluster_dir="${CASSANDRA_CLUSTER_DIR:-$repo/var/cassandra-cluster}"
cluster_heap="${CASSANDRA_CLUSTER_HEAP:-384m}"
# Murmur3 tokens splitting the ring in three.
cluster_tokens=(-9223372036854775808 -3074457345618258603 3074457345618258602)

# Settings of node $1 (1-3) of the cluster, in place of the single node's.
node_env() {
  case "$1" in 1|2|3) ;; *) echo "node must be 1, 2 or 3, got '$1'" >&2; exit 2 ;; esac
  node=$1
  who="cassandra node$1"
  addr="127.0.0.$1"
  cql_port=$cluster_port
  storage_port=$cluster_storage_port
  jmx_port=$((cluster_jmx_port + $1))
  lib="${CASSANDRA_LIB:-$repo/var/cassandra/lib}"
  dir="$cluster_dir/node$1"
  heap=$cluster_heap
  pidfile="$dir/cassandra.pid"
  log="$dir/logs/system.log"
  out="$dir/logs/stdout.log"
  # Nodes start together and skip the ring delay: tokens are fixed, nothing streams.
  extra_flags="-Dcassandra.consistent.rangemovement=false -Dcassandra.ring_delay_ms=1000"
}

cluster_conf() {
  local conf="$dir/conf/cassandra.yaml" seeds="" n
  for n in $(seq "$cluster_size"); do seeds+="${seeds:+,}127.0.0.$n:$storage_port"; done
  sed -i -e "s/^listen_address: .*/listen_address: $addr/" -e "s/^rpc_address: .*/rpc_address: $addr/" \
      -e "s/^initial_token: .*/initial_token: ${cluster_tokens[$((node - 1))]}/" \
      -e "s/- seeds: .*/- seeds: \"$seeds\"/" \
      -e "s/^endpoint_snitch: .*/endpoint_snitch: GossipingPropertyFileSnitch/" "$conf"
  cat >>"$conf" <<EOF

# Cluster node $node (infra/cassandra.sh cluster).
auto_bootstrap: false
dynamic_snitch: false
# Hints for a stopped node: flushed to disk every second (not 10), replayed when it returns.
hints_flush_period: 1000ms
EOF
  printf 'dc=datacenter1\nrack=rack1\n' >"$dir/conf/cassandra-rackdc.properties"
}

cluster_hosts() {
  local n hosts=""
  for n in $(seq "$cluster_size"); do hosts+="${hosts:+,}127.0.0.$n"; done
  echo "$hosts"
}

cluster() {
  local n
  case "${1:-}" in
    start)
      for n in $(seq "$cluster_size"); do (node_env "$n"; launch); done
      local pids=()
      for n in $(seq "$cluster_size"); do
        (node_env "$n"; wait_ready "$(cat "$pidfile" 2>/dev/null)") &
        pids+=($!)
      done
      local failed=0
      for n in "${pids[@]}"; do wait "$n" || failed=1; done
      (( failed == 0 )) || { say "cluster did not start (\"$0 cluster stop\" ends what runs)"; exit 1; }
      say "cluster ready: hosts $(cluster_hosts), CQL port $cluster_port"
      ;;
    stop)
      for n in $(seq "$cluster_size"); do (node_env "$n"; stop) & done
      wait
      ;;
    status)
      local down=0
      for n in $(seq "$cluster_size"); do (node_env "$n"; status) || down=1; done
      return "$down"
      ;;
    hosts) cluster_hosts ;;
    port) echo "$cluster_port" ;;
    start-node) node_env "${2:-}"; start ;;
    stop-node) node_env "${2:-}"; stop ;;
    kill-node) node_env "${2:-}"; stop KILL ;;
    *) echo "usage: $0 cluster start|stop|status|hosts|port|start-node N|stop-node N|kill-node N" >&2; exit 2 ;;
  esac
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  cluster) shift; cluster "$@" ;;
  *) echo "usage: $0 start|stop|status|cluster ..." >&2; exit 2 ;;
esac
