#!/usr/bin/env bash
# Kills `bank load` on PostgreSQL with SIGKILL mid-run (its projections
# running), then checks that nothing acknowledged is lost and the invariants
# hold:
#  - every account's balance from `bank balance` (the aggregate, recovered
#    from the store) equals the sum of its events in es_events;
#  - global positions are exactly 1..N; each stream's versions exactly 1..n;
#  - the read model bank_balances always equals es_events folded up to its
#    checkpoint (same snapshot): right after the kill, and after `bank
#    projections` has caught up (then its checkpoint is the head) — no event
#    applied twice or skipped across the crash.
# Then a second SIGKILL in the middle of a catch-up (bank_balances reset by
# SQL, each batch slowed down by a trigger), and the same checks; `bank
# projections` exits 1 when the wait ends first. Last, a read model that
# fails: `bank projections` exits 1 saying which, and recovers once the
# cause is gone.
# Usage: bank_kill.sh BANK_BINARY   (needs ES_DATABASE_URL; under CI=true a
# missing database is a failure)
set -euo pipefail
# shellcheck source=../support/bank_sql.sh
source "$(dirname "$0")/../support/bank_sql.sh"
bank=$1
if [[ -z ${ES_DATABASE_URL:-} ]]; then
  [[ ${CI:-} == true ]] && { echo "bank_kill: CI=true but ES_DATABASE_URL is unset" >&2; exit 1; }
  echo "bank_kill: ES_DATABASE_URL is unset, skipping"; exit 0
fi

# A database of our own, so that the counts below are ours alone.
db=es_kill_$$
base=${ES_DATABASE_URL%/*}
url=$base/$db
psql -qX "$ES_DATABASE_URL" -c "CREATE DATABASE $db" >/dev/null
pid=
cleanup() {
  [[ -z $pid ]] || kill -KILL "$pid" 2>/dev/null || true
  psql -qX "$ES_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
}
trap cleanup EXIT

die() { echo "bank_kill: $*" >&2; exit 1; }
q() { psql -qtAX "$url" -c "$1"; }
checkpoint_sql="(SELECT checkpoint FROM es_projections WHERE name = 'bank_balances')"
checkpoint() { q "SELECT coalesce($checkpoint_sql, 0)"; }

# mismatches LIMIT_SQL: accounts where bank_balances differs from es_events
# up to position LIMIT_SQL (one statement: one snapshot).
mismatches() {
  q "$(bank_mismatches_sql "$1")"
}

# consistent WHEN: the read model equals the events up to its checkpoint.
consistent() {
  local n
  n=$(mismatches "$checkpoint_sql")
  ((n == 0)) || die "$1: $n accounts in bank_balances differ from es_events up to checkpoint $(checkpoint)"
}

# caught_up WHEN: `bank projections` gets every projection live with lag 0;
# then bank_balances is at the head and equals all of es_events.
caught_up() {
  local out
  out=$("$bank" --store "$url" projections --wait-seconds 60) ||
    die "$1: bank projections failed: $out"
  grep -Eq '^bank_balances +postgres +live +[0-9]+ +[0-9]+ +0 ' <<<"$out" ||
    die "$1: bank_balances is not live with lag 0: $out"
  local head
  head=$(q "SELECT position FROM es_head")
  [[ $(checkpoint) == "$head" ]] ||
    die "$1: bank_balances checkpoint $(checkpoint), head $head"
  local n
  n=$(mismatches "(SELECT max(global_position) FROM es_events)")
  ((n == 0)) || die "$1: $n accounts in bank_balances differ from es_events"
}

# kill_now: SIGKILL to the background bank, reaped quietly (no "Killed").
kill_now() {
  kill -KILL "$pid"
  { wait "$pid"; } 2>/dev/null || true
  pid=
}

# wait_for CONDITION_SQL SECONDS: polls until CONDITION_SQL is true.
wait_for() {
  local deadline=$((SECONDS + $2))
  until [[ $(q "SELECT $1" 2>/dev/null || echo f) == t ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# -- 1. SIGKILL during a load with the projections running ---------------------
accounts=40
"$bank" --store "$url" load --accounts $accounts --commands 1000000 \
  --concurrency 64 >/dev/null 2>&1 &
pid=$!
# Kill once commands were acknowledged (events beyond the openings) and
# bank_balances has committed a batch or more.
wait_for "(SELECT count(*) FROM es_events) > $accounts + 3000
          AND $checkpoint_sql > 0" 120 ||
  die "the load made too little progress in 120 s"
kill_now
# A commit the killed process had sent may still land: check once its
# connections are gone.
wait_for "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'
           AND datname = current_database() AND pid <> pg_backend_pid()) = 0" 30 ||
  die "the killed process's connections stayed"

events=$(q "SELECT count(*) FROM es_events")
echo "bank_kill: $events events committed before SIGKILL, bank_balances at $(checkpoint)"
(( events > accounts )) || die "too few events ($events)"
[[ $(q "SELECT count(*) = max(global_position) AND min(global_position) = 1 FROM es_events") == t ]] \
  || die "global positions are not 1..N"
[[ $(q "SELECT count(*) FROM (SELECT stream_id FROM es_events GROUP BY stream_id HAVING count(*) <> max(version) OR min(version) <> 1) s") == 0 ]] \
  || die "a stream's versions are not 1..n"
[[ $(q "SELECT position FROM es_head") == "$events" ]] \
  || die "es_head does not match the events"
consistent "after the SIGKILL of the load"
caught_up "after the SIGKILL of the load"

fails=0
while IFS='|' read -r id sum version; do
  got=$("$bank" --store "$url" balance "$id")
  want="$id: balance $sum, version $version"
  if [[ $got != "$want" ]]; then
    echo "bank_kill: $got, but es_events says: $want" >&2
    fails=$((fails + 1))
  fi
done < <(q "SELECT stream_id,
              coalesce(sum(CASE event_type WHEN 'deposited' THEN (payload->>'amount')::bigint
                                           WHEN 'withdrawn' THEN -(payload->>'amount')::bigint END), 0),
              max(version)
            FROM es_events GROUP BY stream_id ORDER BY stream_id")
(( fails == 0 )) || exit 1
echo "bank_kill: $accounts balances match es_events; bank_balances too"

# -- 2. SIGKILL during a catch-up of bank_balances ------------------------------
# Reset it as a rebuild does (read model and checkpoint in one transaction);
# a trigger makes each batch's transaction last 0.3 s, so that the kill
# lands between two commits, or inside one.
q "CREATE FUNCTION bank_kill_slow() RETURNS trigger LANGUAGE plpgsql AS
     \$\$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END \$\$;
   CREATE TRIGGER bank_kill_slow AFTER INSERT ON bank_balances
     FOR EACH STATEMENT EXECUTE FUNCTION bank_kill_slow()" >/dev/null
q "BEGIN;
   UPDATE es_projections SET checkpoint = 0 WHERE name = 'bank_balances';
   TRUNCATE bank_balances;
   COMMIT" >/dev/null
"$bank" --store "$url" projections --wait-seconds 600 >/dev/null 2>&1 &
pid=$!
wait_for "$checkpoint_sql > 0" 120 ||
  die "the catch-up made no progress in 120 s"
kill_now
at=$(checkpoint)
echo "bank_kill: catch-up killed at checkpoint $at of $events"
((at < events)) ||
  echo "bank_kill: note: the catch-up had finished before the kill"
consistent "after the SIGKILL of the catch-up"
# Still slow: a wait of 0 s finds it behind.
rc=0
err=$("$bank" --store "$url" projections --wait-seconds 0 2>&1 >/dev/null) || rc=$?
[[ $rc == 1 && $err =~ ^bank:\ projections:\ not\ caught\ up\ after\ 0\ s:\ bank_balances\ [a-z_]+,\ lag\ [1-9] ]] ||
  die "bank projections --wait-seconds 0 while behind: exit $rc, stderr: $err"
consistent "after a restart of the catch-up"
q "DROP TRIGGER bank_kill_slow ON bank_balances" >/dev/null
caught_up "after the SIGKILL of the catch-up"
echo "bank_kill: bank_balances caught up again; equals es_events"

# -- 3. A read model that fails ----------------------------------------------------
q "ALTER TABLE bank_balances ADD CONSTRAINT no_poison
     CHECK (account_id <> 'acct-poison')" >/dev/null
"$bank" --store "$url" open acct-poison eve >/dev/null
rc=0
err=$("$bank" --store "$url" projections --wait-seconds 60 2>&1 >/dev/null) || rc=$?
poison=$(q "SELECT global_position FROM es_events WHERE stream_id = 'acct-poison'")
[[ $rc == 1 && $err =~ ^bank:\ projections:\ bank_balances\ failed\ at\ position\ $poison:\ .*no_poison ]] ||
  die "a failing read model: exit $rc, stderr: $err"
[[ $(wc -l <<<"$err") == 1 ]] || die "a failing read model: more than one line: $err"
q "ALTER TABLE bank_balances DROP CONSTRAINT no_poison" >/dev/null
caught_up "after the failure was repaired"
echo "bank_kill: a failing read model stops and reports; it recovers on restart"
