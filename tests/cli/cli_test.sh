#!/usr/bin/env bash
# The `eventsource` CLI against a database of its own, seeded with `bank`:
# every command, its --json output, and the bad cases (exit 2 for usage,
# exit 1 with one line on stderr and no password for failures); requests
# queued offline, then a running `bank serve` node driven with --node and
# through the database, --wait and the progress bar on a terminal.
# Usage: cli_test.sh EVENTSOURCE_BINARY BANK_BINARY   (needs ES_DATABASE_URL;
# under CI=true a missing database is a failure)
set -euo pipefail
# shellcheck source=../support/bank_sql.sh
source "$(dirname "$0")/../support/bank_sql.sh"
es=$1
bank=$2
if [[ -z ${ES_DATABASE_URL:-} ]]; then
  [[ ${CI:-} == true ]] && { echo "cli_test: CI=true but ES_DATABASE_URL is unset" >&2; exit 1; }
  echo "cli_test: ES_DATABASE_URL is unset, skipping"; exit 0
fi

db=es_cli_$$
admin_url=$ES_DATABASE_URL
url=${admin_url%/*}/$db
psql -qX "$admin_url" -c "CREATE DATABASE $db" >/dev/null
tmp=$(mktemp -d)
pid=
node_pid=
second_pid=
cleanup() {
  [[ -z $pid ]] || kill -KILL "$pid" 2>/dev/null || true
  [[ -z $node_pid ]] || kill -KILL "$node_pid" 2>/dev/null || true
  [[ -z $second_pid ]] || kill -KILL "$second_pid" 2>/dev/null || true
  rm -rf "$tmp"
  psql -qX "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
}
trap cleanup EXIT

die() { echo "cli_test: $*" >&2; exit 1; }
q() { psql -qtAX "$url" -c "$1"; }

# run ARGS...: runs eventsource; sets $rc, $out, $err.
run() {
  set +e
  "$es" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  set -e
  out=$(<"$tmp/out")
  err=$(<"$tmp/err")
}
# expect CODE ARGS...: runs eventsource and checks its exit code; errors
# must be exactly one line.
expect() {
  local code=$1; shift
  run "$@"
  [[ $rc == "$code" ]] || die "eventsource $*: exit $rc, expected $code; stdout: $out; stderr: $err"
  if ((code == 1)); then
    [[ $(wc -l <"$tmp/err") == 1 ]] || die "eventsource $*: stderr is not one line: $err"
  fi
}
has() { grep -Eq -- "$2" <<<"$1" || die "expected /$2/ in: $1"; }
lacks() { ! grep -Eq -- "$2" <<<"$1" || die "did not expect /$2/ in: $1"; }
# py EXPR: evaluates EXPR with `doc` = the JSON object on stdin (or `docs`,
# the JSON objects of its lines) and fails unless it is true.
py() {
  python3 -c "import json,sys
lines=[l for l in sys.stdin.read().splitlines() if l.strip()]
docs=[json.loads(l) for l in lines]
doc=docs[0] if len(docs)==1 else None
sys.exit(0 if ($1) else 1)" <<<"$out" || die "JSON check failed: $1 on: $out"
}

# --- usage errors, before any database -----------------------------------
expect 0 --help
has "$out" "Example:"
for cmd in "migrate" "status" "events" "streams show" "streams list" \
  "projections list" "projections show" "projections reset" \
  "dead-letters list" "dead-letters discard" "dead-letters retry" \
  "snapshots list" "snapshots delete"; do
  # shellcheck disable=SC2086
  expect 0 $cmd --help
  has "$out" "Example:"
done
(unset ES_DATABASE_URL; expect 2 status; has "$err" "ES_DATABASE_URL")
expect 2 --db "$url" frob
expect 2 --db "$url" events --limit abc
expect 2 --db "$url" events --limit 0
expect 2 --db "$url" events --from -1
expect 2 --db "$url" streams show acct-1 --from-version x
expect 2 --db "$url" dead-letters discard 0
expect 2 --db "$url" snapshots delete
expect 2 --db "$url" snapshots delete --stream a --type b
expect 2 --node nope projections list
has "$err" "HOST:PORT"
expect 2 --node 127.0.0.1:0 projections list
expect 2 --node 127.0.0.1:70000 projections list
expect 2 --node 127.0.0.1:4710 --db "$url" status
has "$err" "--node applies to the projections, dead-letters and cluster commands"
expect 2 --db "$url" projections pause p --wait --no-wait
expect 2 --db "$url" projections pause p --timeout 0
expect 1 --node 127.0.0.1:1 projections list
has "$err" "cannot reach node 127.0.0.1:1"

# --- an unreachable database: one line, no password ----------------------
bad=postgresql://u:secret@127.0.0.1:1/x
for cmd in migrate status events "projections list" "streams show a"; do
  # shellcheck disable=SC2086
  expect 1 --db "$bad" $cmd
  lacks "$err" secret
  has "$err" "^eventsource: "
done
(export ES_DATABASE_URL="host=127.0.0.1 port=1 user=u password=secret dbname=x"
 expect 1 status; lacks "$err" secret)

# --- migrate ---------------------------------------------------------------
expect 0 --db "$url" migrate --dry-run
has "$out" "pending migrations"
expect 1 --db "$url" status # not migrated yet
has "$err" "eventsource migrate"
expect 0 --db "$url" migrate
has "$out" "applied migrations"
expect 0 --db "$url" migrate
has "$out" "schema is up to date \(version [0-9]+\)"
expect 0 --db "$url" migrate --dry-run --json
py 'doc["pending"] == [] and doc["schema_version"] >= 2'
export ES_DATABASE_URL=$url # from here on, the database comes from the env

# --- seed with bank ----------------------------------------------------------
"$bank" --store "$url" open acct-1 ada >/dev/null
"$bank" --store "$url" deposit acct-1 70 >/dev/null
"$bank" --store "$url" open acct-2 bob >/dev/null
"$bank" --store "$url" withdraw acct-1 20 >/dev/null
"$bank" --store "$url" projections >/dev/null || die "bank projections failed"

# --- status -----------------------------------------------------------------
expect 0 status
has "$out" "head position +4"
has "$out" "streams +2"
expect 0 status --json
py 'doc["head_position"] == 4 and doc["streams"] == 2 and doc["events"] == 4 and doc["projections"]["total"] >= 1'

# --- events -----------------------------------------------------------------
expect 0 events
has "$out" "^ +position +recorded_at"
has "$out" " +4 +[0-9T:.-]+Z +acct-1 +3 +withdrawn"
expect 0 events --json
py 'len(docs) == 4 and [d["position"] for d in docs] == [1,2,3,4] and set(docs[0]) == {"position","event_id","stream_id","stream_type","version","type","schema_version","data","metadata","recorded_at"} and docs[1]["data"] == {"amount": 70} and docs[0]["recorded_at"].endswith("Z")'
expect 0 events --from 1 --limit 2 --json
py '[d["position"] for d in docs] == [2,3]'
expect 0 events --type deposited --json
py 'len(docs) == 1 and docs[0]["type"] == "deposited"'
expect 0 events --stream-type nope
has "$out" "no events"

# --- streams ----------------------------------------------------------------
expect 0 streams show acct-1
has "$out" "^version +position +type +recorded_at +payload"
has "$out" "2 +2 +deposited +[0-9T:.-]+Z +\{\"amount\":70\}"
expect 0 streams show acct-1 --from-version 2 --json
py '[d["version"] for d in docs] == [2,3]'
expect 1 streams show nope
has "$err" "no stream 'nope'"
expect 0 streams list --type account
has "$out" "acct-1 +account +3"
expect 0 streams list --limit 1 --json
py 'len(doc["streams"]) == 1 and doc["streams"][0]["stream_id"] == "acct-1"'

# --- projections ------------------------------------------------------------
expect 0 projections list
has "$out" "^name +state +checkpoint +head +lag"
has "$out" "bank_balances +live +4 +4 +0"
expect 0 projections list --json
py 'any(p["name"] == "bank_balances" and p["lag"] == 0 for p in doc["projections"])'
expect 0 projections show bank_balances
has "$out" "state +live"
expect 0 projections show bank_balances --json
py 'doc["checkpoint"] == 4 and doc["head"] == 4'
expect 1 projections show nope
has "$err" "no projection 'nope'"
# No node runs: requests are queued in the database.
expect 0 projections pause bank_balances
has "$out" "requested pause of bank_balances; a running node applies it"
[[ $(q "SELECT requested FROM es_projections WHERE name = 'bank_balances'") == pause ]] ||
  die "pause was not requested"
expect 1 projections pause bank_balances --wait --timeout 1
has "$err" "no running node has taken the request; it stays queued"
expect 2 projections reset bank_balances
has "$err" "--yes"
expect 2 projections rebuild bank_balances
expect 0 projections rebuild bank_balances --yes
has "$out" "requested rebuild of bank_balances"
# on_tty ANSWER ARGS...: runs eventsource on a pseudo-terminal (stdout and
# stderr are a terminal), types ANSWER at the confirmation prompt unless it
# is empty; prints its output, returns its code.
on_tty() {
  python3 - "$es" "$@" <<'PY'
import os, pty, sys, time
es, answer, args = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(es, [es] + args)
buf = b""
if answer:
    deadline = time.time() + 20
    while b"confirm" not in buf and time.time() < deadline:
        buf += os.read(fd, 1024)
    os.write(fd, answer.encode() + b"\n")
try:
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
except OSError:
    pass
print(buf.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY
}
set +e; out=$(on_tty bank_balances projections reset bank_balances --no-wait); rc=$?; set -e
[[ $rc == 0 ]] || die "reset confirmed on a terminal: exit $rc: $out"
has "$out" "requested reset of bank_balances"
set +e; out=$(on_tty wrong projections reset bank_balances --no-wait); rc=$?; set -e
[[ $rc == 1 ]] || die "reset not confirmed on a terminal: exit $rc: $out"
has "$out" "not confirmed"
expect 0 projections resume bank_balances
expect 0 projections retry bank_balances
expect 1 projections pause nope

# --- dead letters -------------------------------------------------------------
q "INSERT INTO es_dead_letters (projection, global_position, event_id, stream_id,
     event_type, error) SELECT 'bank_balances', global_position, event_id,
     stream_id, event_type, 'boom' FROM es_events WHERE global_position = 2" >/dev/null
letter=$(q "SELECT id FROM es_dead_letters")
expect 0 dead-letters list
has "$out" "$letter +bank_balances +2 +acct-1 +deposited +boom +- "
expect 0 dead-letters list --projection other --json
py 'doc["dead_letters"] == []'
expect 0 dead-letters list --json
py 'doc["dead_letters"][0]["position"] == 2 and doc["dead_letters"][0]["retry"] == "none"'
expect 0 dead-letters retry "$letter"
has "$out" "requested a retry of dead letter $letter"
expect 0 dead-letters list
has "$out" "boom +requested"
expect 1 dead-letters retry "$letter" --wait --timeout 1
has "$err" "no running node has taken the request"
expect 1 dead-letters retry 999
has "$err" "no dead letter 999"
expect 0 dead-letters discard "$letter"
expect 1 dead-letters discard "$letter"
has "$err" "no dead letter $letter"

# --- snapshots ----------------------------------------------------------------
q "INSERT INTO es_snapshots VALUES ('acct-1', 'account', 3, 1, '{\"balance\":50}'),
     ('acct-2', 'account', 1, 2, '{}')" >/dev/null
expect 0 snapshots list
has "$out" "acct-1 +account +3 +1"
expect 0 snapshots list --type account --json
py 'len(doc["snapshots"]) == 2'
expect 0 snapshots delete --type account --below-schema 2
has "$out" "deleted 1 snapshot$"
expect 0 snapshots delete --stream acct-2
has "$out" "deleted 1 snapshot$"
expect 0 snapshots list --json
py 'doc["snapshots"] == []'

# --- events --follow ----------------------------------------------------------
"$es" events --from 4 --follow --json >"$tmp/follow" 2>"$tmp/follow.err" &
pid=$!
sleep 1 # let it LISTEN (it also re-reads after LISTEN, so this is no race)
"$bank" --store "$url" deposit acct-2 5 >/dev/null
deadline=$((SECONDS + 20))
until grep -q '"position":5' "$tmp/follow"; do
  ((SECONDS < deadline)) || die "--follow did not print position 5: $(cat "$tmp/follow" "$tmp/follow.err")"
  sleep 0.1
done
kill -INT "$pid"
set +e; wait "$pid"; frc=$?; set -e
pid=
[[ $frc == 0 ]] || die "--follow exited $frc on SIGINT: $(cat "$tmp/follow.err")"
out=$(<"$tmp/follow")
py 'len(docs) == 1 and docs[0]["stream_id"] == "acct-2" and docs[0]["type"] == "deposited"'

# --- a running node: bank serve ---------------------------------------------
# start_node [PORT]: starts `bank serve`, sets $node_pid and $node.
start_node() {
  "$bank" --store "$url" serve --admin-port "${1:-0}" >"$tmp/serve" 2>"$tmp/serve.err" &
  node_pid=$!
  local deadline=$((SECONDS + 30))
  until grep -qs "listening on" "$tmp/serve"; do
    kill -0 "$node_pid" 2>/dev/null || die "bank serve exited: $(cat "$tmp/serve.err")"
    ((SECONDS < deadline)) || die "bank serve did not start: $(cat "$tmp/serve.err")"
    sleep 0.1
  done
  node=$(sed -n 's/^node: listening on //p' "$tmp/serve")
}
# balances_ok: bank_balances equals es_events folded up (one snapshot).
balances_ok() {
  local bad
  bad=$(q "$(bank_mismatches_sql)")
  [[ $bad == 0 ]] || die "bank_balances differs from es_events for $bad accounts"
}
start_node
# The retry queued above was applied when the node started.
expect 0 --node "$node" projections list
has "$out" "^name +state +checkpoint +head +lag"
has "$out" "bank_balances +live +5 +5 +0"
expect 0 --node "$node" projections list --json
py '{p["kind"] for p in doc["projections"]} == {"postgres", "in_memory"} and all(p["state"] == "live" and p["lag"] == 0 and p["events_per_second"] >= 0 for p in doc["projections"])'
expect 0 --node "$node" projections show bank_balances --json
py 'doc["kind"] == "postgres" and doc["checkpoint"] == 5 and doc["head"] == 5'
expect 1 --node "$node" projections show nope
has "$err" "no projection 'nope' in node $node"
expect 1 --node "$node" projections pause nope
has "$err" "no projection 'nope' in node $node"
expect 0 --node "$node" projections pause bank_balances
has "$out" "pause of bank_balances: applied by node $node"
[[ $(q "SELECT state FROM es_projections WHERE name = 'bank_balances'") == paused ]] ||
  die "pause through the node did not pause"
expect 0 --node "$node" projections rebuild bank_balances --yes --wait
has "$out" "rebuild bank_balances: done \(state live, checkpoint 5\)"
balances_ok
# Through the database, picked up by the node (NOTIFY), followed with --wait.
expect 0 projections reset bank_balances --yes --wait
has "$out" "reset bank_balances: done \(state paused, checkpoint 0\)"
[[ $(q "SELECT count(*) FROM bank_balances") == 0 ]] || die "reset left rows"
expect 0 projections rebuild bank_balances --yes --wait
has "$out" "rebuild bank_balances: done \(state live, checkpoint 5\)"
balances_ok
lacks "$out$err" "ETA|\[#" # piped: no progress bar
# On a terminal, --wait is the default and draws the progress bar.
out=$(on_tty "" projections rebuild bank_balances --yes) || die "rebuild on a terminal failed: $out"
has "$out" "rebuild bank_balances \[#+\] 100%  5/5"
has "$out" "done \(state live, checkpoint 5\)"
balances_ok
# Dead letters through the node, and retries queued in the database.
add_letter() {
  q "INSERT INTO es_dead_letters (projection, global_position, event_id, stream_id,
       event_type, error) SELECT 'bank_totals', global_position, event_id,
       stream_id, event_type, 'boom' FROM es_events WHERE global_position = $1
     RETURNING id" | head -1
}
letter=$(add_letter 3)
expect 0 --node "$node" dead-letters list --json
py '[d["position"] for d in doc["dead_letters"]] == [3]'
expect 0 --node "$node" dead-letters retry "$letter"
has "$out" "dead letter $letter: retried by node $node, handled, removed"
expect 1 --node "$node" dead-letters retry "$letter"
has "$err" "no dead letter $letter"
other=$(q "INSERT INTO es_dead_letters (projection, global_position, event_id,
       stream_id, event_type, error) SELECT 'elsewhere', global_position,
       event_id, stream_id, event_type, 'boom' FROM es_events
       WHERE global_position = 3 RETURNING id" | head -1)
expect 1 --node "$node" dead-letters retry "$other"
has "$err" "projection 'elsewhere' does not run on this node"
letter=$(add_letter 4)
expect 0 dead-letters retry "$letter" --wait
has "$out" "dead letter $letter: retried, handled, removed"
letter=$(add_letter 5)
expect 0 --node "$node" dead-letters discard "$letter"
expect 1 --node "$node" dead-letters discard "$letter"
has "$err" "no dead letter $letter"
# A second node on a port in use: a clear error, no hang.
port=${node##*:}
set +e; "$bank" --store "$url" serve --admin-port "$port" >"$tmp/serve2" 2>"$tmp/serve2.err"; rc=$?; set -e
[[ $rc == 1 ]] || die "bank serve on a port in use: exit $rc"
has "$(<"$tmp/serve2.err")" "cannot serve the node on 127.0.0.1:$port"
# A second node stands by for the projections the first one runs, and
# takes them over when the first one stops.
first_pid=$node_pid first=$node
start_node
second_pid=$node_pid second=$node node_pid=$first_pid node=$first
expect 0 --node "$second" projections list
has "$out" "bank_balances +standby"
has "$out" "bank_totals +standby"
expect 0 --node "$second" projections list --json
py 'all(p["standby"] for p in doc["projections"])'
expect 1 --node "$second" projections pause bank_balances
has "$err" "does not run on this node"
# SIGTERM stops the node cleanly.
kill -TERM "$node_pid"
set +e; wait "$node_pid"; rc=$?; set -e
node_pid=
[[ $rc == 0 ]] || die "bank serve exited $rc on SIGTERM: $(cat "$tmp/serve.err")"
has "$(<"$tmp/serve")" "node: stopping \(SIGTERM\)"
expect 1 --node "$node" projections list
has "$err" "cannot reach node $node"
node_pid=$second_pid node=$second
deadline=$((SECONDS + 30))
until "$es" --node "$node" projections list --json 2>/dev/null |
  python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if all(not p["standby"] and p["state"] == "live" and p["lag"] == 0 for p in d["projections"]) else 1)'; do
  ((SECONDS < deadline)) || die "the second node did not take over: $("$es" --node "$node" projections list)"
  sleep 0.2
done
balances_ok
kill -TERM "$node_pid"
wait "$node_pid" || die "the second node did not stop cleanly"
node_pid=

# --- a long read shows its progress on a terminal only ------------------------
q "BEGIN;
   INSERT INTO es_events (global_position, event_id, stream_id, stream_type,
     version, event_type, payload)
   SELECT h.position + g, gen_random_uuid(), 'bulk-1', 'bulk', g, 'noted', '{}'
   FROM es_head h, generate_series(1, 10050) g;
   UPDATE es_head SET position = position + 10050;
   COMMIT;" >/dev/null
expect 0 events --limit 20000 --stream-type bulk
[[ $(wc -l <"$tmp/out") == 10051 ]] || die "events printed $(wc -l <"$tmp/out") lines"
lacks "$err" "events \\["
out=$(on_tty "" events --limit 20000 --stream-type bulk) || die "events on a terminal failed"
has "$out" "events \\[#+\\.*\\] [0-9]+%  [0-9]+/[0-9]+"
has "$out" "bulk-1 +10050 +noted"

echo "cli_test: ok"
