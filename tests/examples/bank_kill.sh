#!/usr/bin/env bash
# Kills `bank load` on PostgreSQL with SIGKILL mid-run, then checks that
# nothing acknowledged is lost and the invariants hold:
#  - every account's balance from `bank balance` (the aggregate, recovered
#    from the store) equals the sum of its events in es_events;
#  - global positions are exactly 1..N; each stream's versions exactly 1..n.
# Usage: bank_kill.sh BANK_BINARY   (needs ES_DATABASE_URL; under CI=true a
# missing database is a failure)
set -euo pipefail
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
trap 'psql -qX "$ES_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null' EXIT

accounts=40
"$bank" --store "$url" load --accounts $accounts --commands 1000000 \
  --concurrency 64 >/dev/null 2>&1 &
pid=$!
# Kill once some commands were acknowledged (events beyond the openings).
for _ in $(seq 100); do
  sleep 0.1
  n=$(psql -qtAX "$url" -c "SELECT count(*) FROM es_events" 2>/dev/null || echo 0)
  (( n > accounts + 500 )) && break
done
kill -KILL $pid
wait $pid 2>/dev/null || true

q() { psql -qtAX "$url" -c "$1"; }
events=$(q "SELECT count(*) FROM es_events")
echo "bank_kill: $events events committed before SIGKILL"
(( events > accounts )) || { echo "bank_kill: too few events ($events)" >&2; exit 1; }
[[ $(q "SELECT count(*) = max(global_position) AND min(global_position) = 1 FROM es_events") == t ]] \
  || { echo "bank_kill: global positions are not 1..N" >&2; exit 1; }
[[ $(q "SELECT count(*) FROM (SELECT stream_id FROM es_events GROUP BY stream_id HAVING count(*) <> max(version) OR min(version) <> 1) s") == 0 ]] \
  || { echo "bank_kill: a stream's versions are not 1..n" >&2; exit 1; }
[[ $(q "SELECT position FROM es_head") == "$events" ]] \
  || { echo "bank_kill: es_head does not match the events" >&2; exit 1; }

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
echo "bank_kill: $accounts balances match es_events; invariants hold"
