#!/usr/bin/env bash
# Three `bank serve` nodes on PostgreSQL (a database of their own), driven
# through one of them with `bank --via`; checks, step by step:
#  1. membership: A (seed B), B and C (seed A) each see the other two join;
#     `eventsource cluster status --json` on each lists the 3 members;
#  2. a load through A succeeds without errors and the accounts spread over
#     all three members (aggregates > 0 on each, as of their heartbeats);
#  3. SIGKILL of C (not the via node) during a load: A and B see C leave;
#     the load fails at most the commands in flight (<= its concurrency),
#     saying the node went away / did not answer, and at once (it does not
#     sit idle until a 30 s request timeout); every account takes deposits
#     again within 10 s (prints "failover: X ms", kill to the last account's
#     first success);
#  4. invariants: every acknowledged command (both loads' --acks) is in
#     es_events; (stream_id, version) unique, versions 1..n per stream,
#     global positions 1..N; `bank balance` equals the sum of the events; the
#     read model bank_balances catches up on its new node (equals es_events,
#     checkpoint at the head);
#  5. rejoin: C restarts on its port, A and B see it join again, and after a
#     load it hosts aggregates again (takes back its share); then SIGSTOP:
#     A removes the silent C after the failure timeout, commands still work,
#     and after SIGCONT C rejoins;
#  6. graceful leave: SIGTERM to B exits 0, A logs that B left, commands
#     through A still succeed;
#  7. bad cases, each a clear error and no hang: a node on a port in use;
#     --via a closed port; a peer that accepts connections but never speaks
#     (the node starts anyway, reports it unreachable, answers status);
#     bad --peers values; `cluster status` without --node or to a closed port.
#  8. TLS: two members with certificates of one CA join; status and
#     commands go over TLS; a client of another CA, a client without TLS and
#     a missing certificate file are refused with clear errors;
# Usage: cluster_test.sh BANK_BINARY EVENTSOURCE_BINARY   (needs
# ES_DATABASE_URL; under CI=true a missing database is a failure)
set -euo pipefail
# shellcheck source=../support/bank_sql.sh
source "$(dirname "$0")/../support/bank_sql.sh"
(($# == 2)) || { echo "usage: cluster_test.sh BANK EVENTSOURCE" >&2; exit 2; }
bank=$1
es=$2
if [[ -z ${ES_DATABASE_URL:-} ]]; then
  [[ ${CI:-} == true ]] && { echo "cluster_test: CI=true but ES_DATABASE_URL is unset" >&2; exit 1; }
  echo "cluster_test: ES_DATABASE_URL is unset, skipping"; exit 0
fi

# A database of our own, so that the counts below are ours alone.
db=es_cluster_$$
admin_url=$ES_DATABASE_URL
url=${admin_url%/*}/$db
psql -qX "$admin_url" -c "CREATE DATABASE $db" >/dev/null
tmp=$(mktemp -d)
pids=() # every background process started, SIGKILLed on exit
cleanup() {
  local p
  for p in "${pids[@]}"; do
    pkill -KILL -P "$p" 2>/dev/null || true # a probe lane's bank client
    kill -KILL "$p" 2>/dev/null || true
    { wait "$p"; } 2>/dev/null || true
  done
  rm -rf "$tmp"
  psql -qX "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
}
trap cleanup EXIT

declare -A port pid
say() { echo "cluster_test: $*"; }
# die MESSAGE: fails, with the end of every node's log.
die() {
  echo "cluster_test: FAILED: $*" >&2
  local f
  for f in "$tmp"/*.log "$tmp"/*.err; do
    [[ -s $f ]] || continue
    echo "--- ${f##*/} (last lines)" >&2
    tail -n 8 "$f" >&2
  done
  exit 1
}
q() { psql -qtAX "$url" -c "$1"; }
now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; echo $((t / 1000)); }
# free_ports N: N TCP ports on 127.0.0.1 that nothing listens on (now).
free_ports() {
  python3 -c 'import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}
lines() { wc -l <"$1"; }

# wait_until WHAT SECONDS COMMAND...: runs COMMAND every 0.1 s until it
# succeeds; dies after SECONDS.
wait_until() {
  local what=$1 secs=$2; shift 2
  local deadline=$(($(now_ms) + secs * 1000))
  until "$@"; do
    (($(now_ms) < deadline)) || die "timed out after $secs s waiting until $what"
    sleep 0.1
  done
}
# log_has FILE PATTERN [FROM_LINE]: FILE has a line matching PATTERN (ERE)
# at FROM_LINE (1-based) or later.
log_has() { tail -n "+${3:-1}" "$1" 2>/dev/null | grep -Eq -- "$2"; }
# wait_for_line NAME PATTERN [FROM_LINE]: waits (20 s) for PATTERN in the
# log of node NAME (its stdout).
wait_for_line() {
  wait_until "node $1 logs /$2/" 20 log_has "$tmp/$1.log" "$2" "${3:-1}"
}
# mark NAME: the line number the next line of NAME's log will have.
mark() { echo $(($(lines "$tmp/$1.log") + 1)); }

# start_node NAME PORT PEERS: starts `bank serve` (its output appended to
# $tmp/NAME.log and .err) and waits until it listens.
start_node() {
  local name=$1 from
  touch "$tmp/$name.log"
  from=$(mark "$name")
  "$bank" --store "$url" serve --node-port "$2" --peers "$3" \
    --failure-timeout-ms 1000 >>"$tmp/$name.log" 2>>"$tmp/$name.err" &
  pid[$name]=$!
  port[$name]=$2
  pids+=("$!")
  local deadline=$(($(now_ms) + 20000))
  until log_has "$tmp/$name.log" "^node: listening on 127\.0\.0\.1:$2$" "$from"; do
    kill -0 "${pid[$name]}" 2>/dev/null || die "node $name exited at start: $(cat "$tmp/$name.err")"
    (($(now_ms) < deadline)) || die "node $name is not listening after 20 s"
    sleep 0.1
  done
}
addr() { echo "127.0.0.1:${port[$1]}"; }

# alive PID: the process runs (exists and is not a zombie yet).
alive() { kill -0 "$1" 2>/dev/null && [[ $(ps -o stat= -p "$1" 2>/dev/null) != Z* ]]; }
# wait_exit PID SECONDS: waits for a background process to end; sets $rc.
wait_exit() {
  local deadline=$(($(now_ms) + $2 * 1000))
  while alive "$1"; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.1
  done
  rc=0
  { wait "$1"; } 2>/dev/null || rc=$?
}

# run COMMAND...: runs it with a 20 s limit; sets $rc and $err; a hang
# (exit 124) fails the test.
run() {
  set +e
  timeout 20 "$@" >"$tmp/run.out" 2>"$tmp/run.err" </dev/null
  rc=$?
  set -e
  err=$(<"$tmp/run.err")
  ((rc != 124)) || die "hangs (killed after 20 s): $*"
}

# status NAME: `eventsource cluster status --json` of node NAME.
status() { timeout 20 "$es" --node "$(addr "$1")" cluster status --json; }
# status_is NAME PY: PY (a Python expression over `m`, the member list of
# node NAME's status) is true.
status_is() {
  local json
  json=$(status "$1" 2>/dev/null) || return 1
  python3 -c 'import json, sys
m = json.loads(sys.argv[1])
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$json" "$2"
}
# field FILE KEY: KEY of the JSON line in FILE (a `bank load --json` output).
field() {
  python3 -c 'import json, sys
doc = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
print(doc[sys.argv[2]])' "$1" "$2"
}
figures() {
  echo "$(field "$1" commands_per_second) commands/s, p50 $(field "$1" p50_ms) ms, p99 $(field "$1" p99_ms) ms"
}
# load NAME ARGS...: `bank --via A load ARGS --json` into $tmp/NAME.out/.err;
# must exit 0 with 0 errors.
load() {
  local name=$1; shift
  set +e
  timeout 120 "$bank" --via "$(addr A)" load "$@" --json \
    >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null
  rc=$?
  set -e
  ((rc == 0)) || die "load $name: exit $rc: $(cat "$tmp/$name.err")"
  [[ $(field "$tmp/$name.out" errors) == 0 ]] || die "load $name: errors: $(cat "$tmp/$name.out")"
}

read -r pa pb pc closed <<<"$(free_ports 4)"

# -- 1. three nodes join -------------------------------------------------------
start_node A "$pa" "127.0.0.1:$pb"
start_node B "$pb" "127.0.0.1:$pa"
start_node C "$pc" "127.0.0.1:$pa"
for n in A B C; do
  for m in A B C; do
    [[ $n == "$m" ]] || wait_for_line "$n" "^node: member $(addr "$m") joined$"
  done
done
for n in A B C; do
  status_is "$n" "len(m) == 3 and sorted(x['address'] for x in m) == sorted(['$(addr A)', '$(addr B)', '$(addr C)'])
                   and [x['address'] for x in m if x['self']] == ['$(addr "$n")']" ||
    die "step 1: cluster status on $n does not list the 3 members: $(status "$n" 2>&1)"
done
say "1. three nodes joined: A $(addr A), B $(addr B), C $(addr C)"

# -- 2. a load through A spreads over all members ---------------------------------
load load1 --accounts 300 --commands 6000 --concurrency 32 --acks "$tmp/acks1"
[[ $(lines "$tmp/acks1") == "$(field "$tmp/load1.out" commands_ok)" ]] ||
  die "step 2: $(lines "$tmp/acks1") lines in --acks, $(field "$tmp/load1.out" commands_ok) commands ok"
say "2. load 1 (6000 commands through A): $(figures "$tmp/load1.out")"
wait_until "every member hosts aggregates (step 2)" 10 \
  status_is A "len(m) == 3 and all(x['aggregates'] > 0 for x in m)"
say "   aggregates per member: $(status A | python3 -c 'import json, sys
print(", ".join("%s %d" % (x["address"], x["aggregates"]) for x in json.load(sys.stdin)))')"

# -- 3. SIGKILL of C during a load -------------------------------------------------
before=$(q "SELECT count(*) FROM es_events")
"$bank" --via "$(addr A)" load --accounts 300 --commands 20000 --concurrency 64 \
  --acks "$tmp/acks2" --json >"$tmp/load2.out" 2>"$tmp/load2.err" </dev/null &
load_pid=$!
pids+=("$load_pid")
started=$(now_ms)
# Kill ~1.5 s into the load, once it commits commands.
load2_running() {
  (($(now_ms) - started >= 1500)) && (($(q "SELECT count(*) FROM es_events") > before + 1000))
}
wait_until "load 2 commits commands (step 3)" 20 load2_running
alive "$load_pid" || die "step 3: load 2 ended before the kill: $(cat "$tmp/load2.err")"
markA=$(mark A) markB=$(mark B)
kill -KILL "${pid[C]}"
killed=$(now_ms)
{ wait "${pid[C]}"; } 2>/dev/null || true

# Failover: acct-1..50 take a deposit again through A, tried in rounds by 5
# lanes in parallel (a failed try is retried after the lane's round).
# lane FIRST: accounts FIRST, FIRST+5, ..., 50; prints per account "ACCOUNT
# MS TRIES_FAILED FIRST_ERROR" (MS: kill to its first success) or, after
# 10 s, "ACCOUNT FAIL LAST_ERROR".
lane() {
  local -a todo=() next
  local -A failed=() first=()
  local i a e
  for ((i = $1; i <= 50; i += 5)); do todo+=("acct-$i") failed[acct-$i]=0 first[acct-$i]=; done
  while ((${#todo[@]} > 0)); do
    next=()
    for a in "${todo[@]}"; do
      if e=$("$bank" --via "$(addr A)" --timeout-ms 2000 deposit "$a" 1 2>&1 >/dev/null); then
        echo "$a $(($(now_ms) - killed)) ${failed[$a]} ${first[$a]}"
      elif (($(now_ms) - killed >= 10000)); then
        echo "$a FAIL $e"
      else
        failed[$a]=$((failed[$a] + 1))
        [[ -n ${first[$a]} ]] || first[$a]=$e
        next+=("$a")
      fi
    done
    todo=("${next[@]}")
    ((${#todo[@]} == 0)) || sleep 0.05
  done
}
lanes=()
for i in 1 2 3 4 5; do
  lane "$i" >"$tmp/lane.$i" &
  lanes+=("$!")
  pids+=("$!")
done
wait_for_line A "^node: member $(addr C) left \(" "$markA"
wait_for_line B "^node: member $(addr C) left \(" "$markB"
for p in "${lanes[@]}"; do
  wait_exit "$p" 90 || die "step 3: a failover probe still runs 90 s after the kill"
done
cat "$tmp"/lane.* >"$tmp/failover"
! grep -q '^[^ ]* FAIL ' "$tmp/failover" ||
  die "step 3: accounts still failing 10 s after the kill: $(grep '^[^ ]* FAIL ' "$tmp/failover" | head -3)"
[[ $(lines "$tmp/failover") == 50 ]] || die "step 3: the failover probes reported $(lines "$tmp/failover") of 50 accounts"
say "3. C killed at $((killed - started)) ms into load 2; $(sed -n "s/^node: member $(addr C) left/A: C left/p" "$tmp/A.log" | tail -1)"
say "   failover: $(sort -k2n "$tmp/failover" | tail -1 | cut -d' ' -f2) ms (kill to the first success of the last of 50 accounts; fastest $(sort -k2n "$tmp/failover" | head -1 | cut -d' ' -f2) ms; $(awk '{n += $3} END {print n}' "$tmp/failover") tries failed before)"
if awk '$3 > 0 {exit 1}' "$tmp/failover"; then :; else
  say "   a failed try: $(awk '$3 > 0 {printf "%s:", $1; for (i = 4; i <= NF; i++) printf " %s", $i; exit}' "$tmp/failover")"
fi

# Wait for the load, noting when it last committed an event: commands in
# flight to C must be answered when C is gone, not left to time out (30 s).
events=-1 last_commit=$(now_ms)
while alive "$load_pid"; do
  (($(now_ms) - killed < 120000)) || die "step 3: load 2 still runs 120 s after the kill"
  n=$(q "SELECT count(*) FROM es_events")
  ((n == events)) || events=$n last_commit=$(now_ms)
  sleep 0.25
done
idle=$(($(now_ms) - last_commit))
wait_exit "$load_pid" 1
grep -q '^{' "$tmp/load2.out" || die "step 3: load 2 (exit $rc) printed no JSON: $(cat "$tmp/load2.err")"
errors=$(field "$tmp/load2.out" errors)
say "   load 2 (20000 commands, exit $rc): $(figures "$tmp/load2.out"), $errors errors"
if ((rc != 0)); then
  ((rc == 1 && errors > 0)) || die "step 3: load 2 exit $rc with $errors errors: $(cat "$tmp/load2.err")"
  load2_error=$(grep -E '^bank: load: ' "$tmp/load2.err" || true)
  grep -Eq 'went away|did not answer' <<<"$load2_error" ||
    die "step 3: load 2 failed with an error other than the killed node going away: $(cat "$tmp/load2.err")"
  say "   $load2_error"
fi
((errors <= 64)) || die "step 3: $errors errors, more than the 64 commands in flight"
((idle < 10000)) ||
  die "step 3: load 2 ended $idle ms after its last commit: $errors commands waited for their timeout instead of failing when C left; $(cat "$tmp/load2.err")"
[[ $(lines "$tmp/acks2") == "$(field "$tmp/load2.out" commands_ok)" ]] ||
  die "step 3: $(lines "$tmp/acks2") lines in --acks, $(field "$tmp/load2.out" commands_ok) commands ok"

# -- 4. invariants --------------------------------------------------------------------
cat "$tmp/acks1" "$tmp/acks2" >"$tmp/acks"
missing=$(psql -qtAX "$url" \
  -c "CREATE TEMP TABLE acks (stream_id text, version bigint)" \
  -c "\\copy acks FROM '$tmp/acks' WITH (DELIMITER ' ')" \
  -c "SELECT count(*) FROM acks a WHERE NOT EXISTS
        (SELECT 1 FROM es_events e WHERE e.stream_id = a.stream_id AND e.version = a.version)")
((missing == 0)) || die "step 4: $missing of $(lines "$tmp/acks") acknowledged commands are not in es_events"
[[ $(q "SELECT count(*) FROM (SELECT 1 FROM es_events GROUP BY stream_id, version HAVING count(*) > 1) s") == 0 ]] ||
  die "step 4: a (stream_id, version) is stored twice"
[[ $(q "SELECT count(*) FROM (SELECT 1 FROM es_events GROUP BY stream_id
                                HAVING count(*) <> max(version) OR min(version) <> 1) s") == 0 ]] ||
  die "step 4: a stream's versions are not 1..n"
[[ $(q "SELECT count(*) = max(global_position) AND min(global_position) = 1
          AND count(DISTINCT global_position) = count(*) FROM es_events") == t ]] ||
  die "step 4: global positions are not 1..N"
for k in 1 7 50 123 200 299 300; do
  got=$(timeout 20 "$bank" --via "$(addr A)" balance "acct-$k") || die "step 4: bank balance acct-$k failed"
  want=$(q "SELECT stream_id || ': balance ' || coalesce(sum(CASE event_type
                WHEN 'deposited' THEN (payload->>'amount')::bigint
                WHEN 'withdrawn' THEN -(payload->>'amount')::bigint END), 0)
              || ', version ' || max(version)
            FROM es_events WHERE stream_id = 'acct-$k' GROUP BY stream_id")
  [[ $got == "$want" ]] || die "step 4: bank says '$got', es_events says '$want'"
done
checkpoint_sql="(SELECT checkpoint FROM es_projections WHERE name = 'bank_balances')"
read_model_current() {
  [[ $(q "SELECT coalesce($checkpoint_sql, -1) = (SELECT max(global_position) FROM es_events)") == t ]] &&
    [[ $(q "$(bank_mismatches_sql "(SELECT max(global_position) FROM es_events)")") == 0 ]]
}
deadline=$(($(now_ms) + 20000))
until read_model_current; do
  (($(now_ms) < deadline)) ||
    die "step 4: bank_balances not caught up after 20 s: checkpoint $(q "SELECT $checkpoint_sql"), head $(q "SELECT max(global_position) FROM es_events"), $(q "$(bank_mismatches_sql "(SELECT max(global_position) FROM es_events)")") accounts differ"
  sleep 0.1
done
say "4. $(lines "$tmp/acks") acknowledged commands all in es_events ($(q "SELECT count(*) FROM es_events") events); positions and versions gapless; balances match; bank_balances caught up"

# -- 5. C rejoins and takes back its share ---------------------------------------------
markA=$(mark A) markB=$(mark B)
start_node C "$pc" "127.0.0.1:$pa"
wait_for_line A "^node: member $(addr C) joined$" "$markA"
wait_for_line B "^node: member $(addr C) joined$" "$markB"
wait_until "A lists 3 members again (step 5)" 20 status_is A "len(m) == 3"
load load3 --accounts 300 --commands 3000 --concurrency 32
say "5. C rejoined; load 3 (3000 commands): $(figures "$tmp/load3.out")"
wait_until "C hosts aggregates again (step 5)" 10 \
  status_is A "any(x['address'] == '$(addr C)' and x['aggregates'] > 0 for x in m)"
say "   C hosts $(status A | python3 -c 'import json, sys
print([x["aggregates"] for x in json.load(sys.stdin) if x["address"] == sys.argv[1]][0])' "$(addr C)") aggregates again"

# -- 5b. a silent member (SIGSTOP) is removed after the failure timeout ---------------
markA=$(mark A)
kill -STOP "${pid[C]}"
stopped_at=$(now_ms)
wait_for_line A "^node: member $(addr C) left \(silent for 1000 ms\)$" "$markA"
say "5b. C stopped: A removed it after $(($(now_ms) - stopped_at)) ms (failure timeout 1000 ms)"
run "$bank" --via "$(addr A)" deposit acct-1 1
((rc == 0)) || die "step 5b: a deposit through A failed while C is stopped: $err"
markA=$(mark A)
kill -CONT "${pid[C]}"
wait_for_line A "^node: member $(addr C) joined$" "$markA"
wait_until "A lists 3 members after SIGCONT (step 5b)" 20 status_is A "len(m) == 3"
say "    C continued and rejoined"

# -- 6. B leaves gracefully ---------------------------------------------------------------
markA=$(mark A)
kill -TERM "${pid[B]}"
wait_exit "${pid[B]}" 20 || die "step 6: B still runs 20 s after SIGTERM"
((rc == 0)) || die "step 6: B exited $rc after SIGTERM: $(cat "$tmp/B.err")"
wait_for_line A "^node: member $(addr B) left" "$markA"
wait_until "A lists 2 members (step 6)" 20 status_is A "len(m) == 2"
load load4 --accounts 300 --commands 1000 --concurrency 16
say "6. B left: $(sed -n "s/^node: member $(addr B) left/A: B left/p" "$tmp/A.log" | tail -1); load 4 (1000 commands): $(figures "$tmp/load4.out")"

# -- 7. bad cases ---------------------------------------------------------------------------
run "$bank" --store "$url" serve --node-port "$pa" --peers "127.0.0.1:$pc"
[[ $rc == 1 && $err =~ ^bank:\ cannot\ start:\  ]] ||
  die "step 7: a node on a port in use: exit $rc, stderr: $err"
run "$bank" --via "127.0.0.1:$closed" balance acct-1
[[ $rc == 1 && $err == *"cannot reach node"* ]] ||
  die "step 7: --via a closed port: exit $rc, stderr: $err"
for peers in nope 127.0.0.1:0 127.0.0.1:70000 ""; do
  run "$bank" --store "$url" serve --node-port 0 --peers "$peers"
  ((rc == 2)) || die "step 7: bank serve --peers '$peers': exit $rc (expected 2), stderr: $err"
done
run "$es" cluster status
((rc == 2)) || die "step 7: eventsource cluster status without --node: exit $rc (expected 2), stderr: $err"
run "$es" --node "127.0.0.1:$closed" cluster status
((rc == 1)) || die "step 7: eventsource cluster status to a closed port: exit $rc (expected 1), stderr: $err"
# A peer that accepts connections and never says a word.
python3 -u -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1])
held = []
while True:
    held.append(s.accept()[0])' >"$tmp/silent.port" &
pids+=("$!")
wait_until "the silent listener is up" 20 test -s "$tmp/silent.port"
silent=$(<"$tmp/silent.port")
read -r pd <<<"$(free_ports 1)"
start_node D "$pd" "127.0.0.1:$silent"
wait_for_line D "^node: cannot reach 127\.0\.0\.1:$silent: "
status_is D "len(m) == 1 and m[0]['self']" || die "step 7: node D with a silent peer: status $(status D 2>&1)"
kill -TERM "${pid[D]}"
wait_exit "${pid[D]}" 20 || die "step 7: node D (a silent peer) still runs 20 s after SIGTERM"
((rc == 0)) || die "step 7: node D exited $rc after SIGTERM: $(cat "$tmp/D.err")"
say "7. bad cases: clear errors, no hangs; $(grep -m1 "cannot reach 127.0.0.1:$silent" "$tmp/D.log")"

# -- 8. TLS: members with certificates of one CA; a client of another CA, or
# without TLS, is refused ----------------------------------------------------------------
certs=$tmp/certs
mkdir -p "$certs"
ssl() { openssl "$@" >/dev/null 2>&1 || die "step 8: openssl $*"; }
for ca in ca other; do
  ssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$ca" \
    -keyout "$certs/$ca.key" -out "$certs/$ca.pem"
done
for pair in e:ca f:ca rogue:other; do
  name=${pair%%:*} ca=${pair##*:}
  ssl req -newkey rsa:2048 -nodes -subj "/CN=$name" \
    -keyout "$certs/$name.key" -out "$certs/$name.csr"
  ssl x509 -req -days 2 -in "$certs/$name.csr" -CA "$certs/$ca.pem" \
    -CAkey "$certs/$ca.key" -CAcreateserial -out "$certs/$name.pem"
done
tls_e=(--tls-cert "$certs/e.pem" --tls-key "$certs/e.key" --tls-ca "$certs/ca.pem")
tls_f=(--tls-cert "$certs/f.pem" --tls-key "$certs/f.key" --tls-ca "$certs/ca.pem")
tls_rogue=(--tls-cert "$certs/rogue.pem" --tls-key "$certs/rogue.key" --tls-ca "$certs/other.pem")
read -r pe pf <<<"$(free_ports 2)"
touch "$tmp/E.log" "$tmp/F.log"
"$bank" "${tls_e[@]}" --store "$url" serve --node-port "$pe" --failure-timeout-ms 1000 >>"$tmp/E.log" 2>>"$tmp/E.err" &
pid[E]=$!; pids+=("$!"); port[E]=$pe
"$bank" "${tls_f[@]}" --store "$url" serve --node-port "$pf" --peers "127.0.0.1:$pe" --failure-timeout-ms 1000 >>"$tmp/F.log" 2>>"$tmp/F.err" &
pid[F]=$!; pids+=("$!"); port[F]=$pf
wait_for_line E "^node: member 127\\.0\\.0\\.1:$pf joined$"
run "$es" --node "127.0.0.1:$pe" "${tls_e[@]}" cluster status --json
((rc == 0)) || die "step 8: cluster status over TLS: exit $rc: $err"
[[ $(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/run.out") == 2 ]] ||
  die "step 8: cluster status over TLS: $(cat "$tmp/run.out")"
run "$bank" --via "127.0.0.1:$pf" "${tls_e[@]}" open tls-1 ada
((rc == 0)) || die "step 8: a command over TLS: exit $rc: $err"
run "$bank" --via "127.0.0.1:$pf" "${tls_rogue[@]}" balance tls-1
[[ $rc == 1 && $err == *"cannot reach node"* ]] ||
  die "step 8: a client of another CA: exit $rc, stderr: $err"
run "$bank" --via "127.0.0.1:$pf" balance tls-1
[[ $rc == 1 && $err == *"cannot reach node"* ]] ||
  die "step 8: a client without TLS: exit $rc, stderr: $err"
run "$es" --node "127.0.0.1:$pe" cluster status
((rc == 1)) || die "step 8: cluster status without TLS: exit $rc (expected 1)"
run "$bank" --via "127.0.0.1:$pf" --tls-cert "$certs/nope.pem" --tls-key "$certs/e.key" --tls-ca "$certs/ca.pem" balance tls-1
[[ $rc == 1 && $err == *"cannot read the TLS certificate"* ]] ||
  die "step 8: a missing certificate file: exit $rc, stderr: $err"
say "8. TLS: members joined, status and commands over TLS; another CA, no TLS and a missing file refused"
kill -TERM "${pid[E]}" "${pid[F]}"

kill -TERM "${pid[A]}" "${pid[C]}"
for n in A C E F; do
  wait_exit "${pid[$n]}" 20 || die "node $n still runs 20 s after SIGTERM"
  ((rc == 0)) || die "node $n exited $rc after SIGTERM: $(cat "$tmp/$n.err")"
done
say "passed in ${SECONDS} s"
