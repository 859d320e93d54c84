#!/usr/bin/env bash
# The cluster's figures on this machine, each run against a fresh database:
#   local     `bank load` hosting the accounts itself (no networking): the
#             baseline
#   1 node    `bank --via` one `bank serve` node
#   3 nodes   `bank --via` one of three members (two thirds of the commands
#             take one more hop to their owner)
#   3 writers three `bank load` processes at once, each hosting a third of
#             the load (no networking): what three journals writing one
#             store cost without the cluster
#   failover  the longest time one account cannot answer when its owner is
#             SIGKILLed, and when it is SIGSTOPped (silent: removed after
#             the failure timeout), measured by build/bin/cluster_failover
# Usage: bench/cluster_bench.sh [BUILD_DIR]   (needs ES_DATABASE_URL)
# On 2 cores three nodes, the client and PostgreSQL share the CPUs: the
# 3-node figure shows the cost of the hops, not scaling.
set -euo pipefail
build=${1:-build}
bank=$build/bin/bank
failover=$build/bin/cluster_failover
: "${ES_DATABASE_URL:?set ES_DATABASE_URL (scripts/pg url)}"
accounts=${ACCOUNTS:-1000}
commands=${COMMANDS:-30000}
concurrency=${CONCURRENCY:-64}
timeout_ms=${FAILURE_TIMEOUT_MS:-1000}
base=${ES_DATABASE_URL%/*}
db=es_cluster_bench
url=$base/$db
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  kill -CONT "${pids[@]}" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

fresh_db() {
  PGOPTIONS=--client-min-messages=warning \
    psql -qX "$ES_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
    -c "CREATE DATABASE $db" >/dev/null
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# node NAME PORT PEERS: starts a member and waits until it listens.
node() {
  "$bank" --store "$url" serve --node-port "$2" ${3:+--peers "$3"} \
    --failure-timeout-ms "$timeout_ms" >"$tmp/$1.log" 2>&1 &
  pids+=("$!")
  eval "pid_$1=$!"
  for _ in $(seq 200); do
    grep -q "^node: listening" "$tmp/$1.log" && return
    sleep 0.05
  done
  echo "cluster_bench: node $1 did not start" >&2; exit 1
}
stop_all() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
rate() {
  python3 -c 'import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
print("%.0f commands/s  p50 %.1f ms  p99 %.1f ms  errors %d" % (d["commands_per_second"], d["p50_ms"], d["p99_ms"], d["errors"]))' "$1"
}
load() { # ARGS...: a load with the options above, JSON into $tmp/load.out
  "$bank" "$@" load --accounts "$accounts" --commands "$commands" \
    --concurrency "$concurrency" --json --wait-seconds 60 >"$tmp/load.out"
}
joined() { # NAME COUNT: waits until NAME's log shows COUNT joins
  for _ in $(seq 200); do
    (($(grep -c "joined" "$tmp/$1.log") >= $2)) && return
    sleep 0.05
  done
  echo "cluster_bench: node $1 did not see $2 members join" >&2; exit 1
}

echo "cluster_bench: $accounts accounts, $commands commands, $concurrency in flight, $(nproc) cores"
fresh_db
load --store "$url"
echo "  local    $(rate "$tmp/load.out")"

fresh_db
"$bank" --store "$url" load --accounts "$accounts" --commands 0 \
  --concurrency "$concurrency" >/dev/null # opened once, not three times
for s in 1 2 3; do
  "$bank" --store "$url" load --accounts "$accounts" \
    --commands $((commands / 3)) --concurrency $((concurrency / 3)) --seed "$s" \
    --json --wait-seconds 60 >"$tmp/w$s.out" &
  pids+=("$!")
done
for p in "${pids[@]}"; do wait "$p"; done
pids=()
echo "  3 writers $(python3 -c 'import json, sys
rs = [[json.loads(l) for l in open(f) if l.startswith("{")][-1] for f in sys.argv[1:]]
print("%.0f commands/s in total  errors %d" % (sum(r["commands_per_second"] for r in rs), sum(r["errors"] for r in rs)))' "$tmp"/w[123].out)"

fresh_db
pa=$(free_port)
node A "$pa" ""
load --via "127.0.0.1:$pa"
echo "  1 node   $(rate "$tmp/load.out")"
stop_all

fresh_db
pa=$(free_port); pb=$(free_port); pc=$(free_port)
node A "$pa" "127.0.0.1:$pb"
node B "$pb" "127.0.0.1:$pa"
node C "$pc" "127.0.0.1:$pa"
joined A 2; joined B 2; joined C 2
load --via "127.0.0.1:$pa"
echo "  3 nodes  $(rate "$tmp/load.out")"

# SIGKILL C while one of its accounts takes deposits through A.
"$failover" --via "127.0.0.1:$pa" --owner "127.0.0.1:$pc" --seconds 4 \
  >"$tmp/kill.out" &
f=$!
sleep 1.5
kill -KILL "$pid_C"
wait "$f"
echo "  failover after SIGKILL: $(tail -n1 "$tmp/kill.out")"

# Restart C, then SIGSTOP it: silent, removed after the failure timeout.
node C "$pc" "127.0.0.1:$pa"
joined C 2
sleep 1
"$failover" --via "127.0.0.1:$pa" --owner "127.0.0.1:$pc" \
  --seconds $((3 + 2 * timeout_ms / 1000)) >"$tmp/stop.out" &
f=$!
sleep 1.5
kill -STOP "$pid_C"
wait "$f"
kill -CONT "$pid_C"
echo "  failover after SIGSTOP (failure timeout ${timeout_ms} ms): $(tail -n1 "$tmp/stop.out")"
stop_all
psql -qX "$ES_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
