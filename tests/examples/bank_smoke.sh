#!/usr/bin/env bash
# tests/examples/bank_smoke.sh — smoke test of the `bank` example (ctest: bank_smoke).
#
# Usage: tests/examples/bank_smoke.sh path/to/bank
#
# In memory: a short load whose JSON figures must add up (also those of the
# bank_totals projection, which counts the load's events in the same
# process), single commands, `bank projections`, usage errors (exit 2) and
# bad or unreachable stores (exit 1, one line).
# memory: forgets everything when the process ends, so the multi-step flow
# (open, deposit, withdraw, balance, history, close) runs on PostgreSQL: on
# ES_DATABASE_URL, with an account id of its own; there `bank projections`
# must show bank_balances live with lag 0 and the table must hold the
# account's balance. Without ES_DATABASE_URL the PostgreSQL part is skipped,
# or fails when CI=true.
set -euo pipefail
# shellcheck source=../support/bank_sql.sh
source "$(dirname "$0")/../support/bank_sql.sh"

bank=${1:?usage: bank_smoke.sh BANK_BINARY}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect CODE STDOUT_REGEX STDERR_REGEX BANK_ARGS...: runs bank and checks the
# exit code and (unless empty) the outputs. Exit 0 must leave stderr empty,
# exit 1 must explain itself in exactly one line, exit 2 (usage) at all.
expect() {
  local code=$1 out_re=$2 err_re=$3 rc=0
  shift 3
  "$bank" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  local what="bank $*"
  if ((rc != code)); then
    fail "$what: exit $rc, expected $code; stdout: $(cat "$tmp/out"); stderr: $(cat "$tmp/err")"
    return
  fi
  if [[ -n $out_re ]] && ! grep -Eq -- "$out_re" "$tmp/out"; then
    fail "$what: stdout does not match /$out_re/: $(cat "$tmp/out")"
  fi
  if [[ -n $err_re ]] && ! grep -Eq -- "$err_re" "$tmp/err"; then
    fail "$what: stderr does not match /$err_re/: $(cat "$tmp/err")"
  fi
  if ((code == 0)) && [[ -s $tmp/err ]]; then
    fail "$what: unexpected stderr: $(cat "$tmp/err")"
  fi
  if ((code == 1)) && [[ $(wc -l <"$tmp/err") -ne 1 ]]; then
    fail "$what: expected one line on stderr, got: $(cat "$tmp/err")"
  fi
  if ((code == 2)) && [[ ! -s $tmp/err ]]; then
    fail "$what: a usage error without a message"
  fi
}

# json_field NAME: the number NAME in the last line of $tmp/out.
json_field() {
  tail -n 1 "$tmp/out" | grep -Eo "\"$1\":-?[0-9.eE+-]+" | cut -d: -f2
}

# has REGEX WHAT: the last stdout has a line matching REGEX.
has() {
  grep -Eq -- "$1" "$tmp/out" || fail "$2: no line matches /$1/: $(cat "$tmp/out")"
}

# check_totals ACCOUNTS: the bank_totals figures of the last `bank load` on
# a fresh store: every account opened, one event per accepted command.
check_totals() {
  local opened deposits withdrawals deposited withdrawn ok
  opened=$(json_field opened) deposits=$(json_field deposits)
  withdrawals=$(json_field withdrawals) ok=$(json_field commands_ok)
  deposited=$(json_field deposited) withdrawn=$(json_field withdrawn)
  ((opened == $1)) || fail "bank_totals: opened $opened, expected $1"
  ((deposits + withdrawals == ok)) ||
    fail "bank_totals: $deposits deposits + $withdrawals withdrawals != $ok ok"
  ((deposited >= withdrawn && withdrawn >= withdrawals)) ||
    fail "bank_totals: deposited $deposited, withdrawn $withdrawn"
  (($(json_field closed) == 0)) || fail "bank_totals: closed accounts"
  has '^  lag: +bank_totals max [0-9]+, [0-9]+ after the last command, caught up in [0-9.]+ s$' load
  has "^  totals: +opened $1, closed 0, deposits $deposits \\(sum $deposited\\), withdrawals $withdrawals \\(sum $withdrawn\\)\$" load
}

# check_load ACCOUNTS COMMANDS STORE: the JSON line of the last `bank load`.
check_load() {
  local line
  line=$(tail -n 1 "$tmp/out")
  if [[ $line != \{*\} ]]; then
    fail "load: last line is not a JSON object: $line"
    return
  fi
  if command -v python3 >/dev/null; then
    python3 -c 'import json, sys; json.loads(sys.argv[1])' "$line" ||
      fail "load: last line is not valid JSON: $line"
  fi
  local key
  for key in commands_ok rejected conflicts errors commands_per_second \
    events_per_second p50_ms p99_ms accounts commands concurrency; do
    [[ -n $(json_field "$key") ]] || fail "load: no number \"$key\" in: $line"
  done
  [[ $line == *"\"store\":\"$3\""* ]] || fail "load: store is not $3: $line"
  local ok rejected errors conflicts
  ok=$(json_field commands_ok) rejected=$(json_field rejected)
  errors=$(json_field errors) conflicts=$(json_field conflicts)
  ((ok + rejected == $2)) || fail "load: $ok ok + $rejected rejected != $2"
  ((errors == 0 && conflicts == 0)) ||
    fail "load: $errors errors, $conflicts conflicts: $(cat "$tmp/out")"
  (($(json_field accounts) == $1)) || fail "load: accounts != $1: $line"
}

# -- in memory ------------------------------------------------------------------
expect 0 'commands/s' '' load --accounts 100 --commands 2000 --concurrency 32 --json
check_load 100 2000 memory
check_totals 100
# The same on CAF's work-stealing scheduler (the default is sharing).
expect 0 'commands/s' '' --scheduler stealing load --accounts 100 --commands 2000 --concurrency 32 --json
check_load 100 2000 memory
check_totals 100
expect 0 '^bank_totals +in_memory +live +0 +0 +0 +0\.0$' '' projections
has '^name +kind +state +checkpoint +head +lag +events/s +last error$' projections
has '^bank_totals: opened 0, closed 0, deposits 0 \(sum 0\), withdrawals 0 \(sum 0\)$' projections
expect 0 '^bank_totals +in_memory +live ' '' projections --wait-seconds 1
expect 0 '0 ok, 0 rejected' '' load --accounts 1 --commands 0 --concurrency 1
# Deposits only: every command appends exactly one event (what the
# benchmarks' "1 event each" runs rely on); all withdrawals: some of them
# are beyond the balance of a fresh account and rejected.
expect 0 ' 0% withdrawals' '' load --accounts 50 --commands 500 --concurrency 8 --withdrawals 0 --json
check_load 50 500 memory
(($(json_field commands_ok) == 500 && $(json_field events) == 500 &&
  $(json_field withdrawals) == 0 && $(json_field deposits) == 500)) ||
  fail "load --withdrawals 0: not one deposit event per command: $(tail -n 1 "$tmp/out")"
expect 0 ' 100% withdrawals' '' load --accounts 50 --commands 500 --concurrency 8 --withdrawals 100 --json
check_load 50 500 memory
(($(json_field rejected) == 500 && $(json_field events) == 0)) ||
  fail "load --withdrawals 100: a withdrawal from an empty account passed: $(tail -n 1 "$tmp/out")"
expect 0 '^acct-1: version 1$' '' open acct-1 ada
expect 1 '' '^bank: deposit acct-1: rejected: account is not open$' deposit acct-1 5
expect 1 '' '^bank: acct-9: no such account$' balance acct-9
expect 1 '' '^bank: acct-9: no such account$' history acct-9
expect 0 'Usage' '' --help

# -- usage errors -----------------------------------------------------------------
expect 2 '' 'not an integer' deposit acct-1 abc
expect 2 '' '' deposit acct-1 0
expect 2 '' '' withdraw acct-1 -3
expect 2 '' '' withdraw acct-1 1.5
expect 2 '' '' deposit acct-1
expect 2 '' 'frob' frob
expect 2 '' '' # no subcommand
expect 2 '' '' load --accounts 0 --commands 10 --concurrency 1
expect 2 '' '' load --accounts 10 --commands -1 --concurrency 1
expect 2 '' '' load --accounts 10 --commands 10 --concurrency 0
expect 2 '' '' load --accounts 10 --commands 10
expect 2 '' 'above 100' load --accounts 10 --commands 10 --concurrency 1 --withdrawals 101
expect 2 '' 'below 0' load --accounts 10 --commands 10 --concurrency 1 --withdrawals -1
expect 2 '' 'not an integer' load --accounts 10 --commands 10 --concurrency 1 --withdrawals 0.5
expect 2 '' '' load --accounts 1 --commands 1 --concurrency 1 --wait-seconds -1
expect 2 '' 'not in {sharing,stealing}' --scheduler fifo balance acct-1
expect 2 '' 'not in {sharing,stealing}' --scheduler '' balance acct-1
expect 2 '' 'below 0' projections --wait-seconds -1
expect 2 '' 'not an integer' projections --wait-seconds soon
expect 2 '' '' projections extra

# -- stores that cannot be used ---------------------------------------------------
expect 1 '' '^bank: cannot start: invalid_argument: ' --store mysql://x balance acct-1
expect 1 '' '^bank: cannot start: unavailable: ' \
  --store postgresql://es:sm0ke-secret@127.0.0.1:1/es balance acct-1
if grep -q sm0ke-secret "$tmp/err"; then fail "the password was printed"; fi

# -- PostgreSQL -------------------------------------------------------------------
if [[ -z ${ES_DATABASE_URL:-} ]]; then
  if [[ ${CI:-} == true ]]; then
    fail "ES_DATABASE_URL is not set (required when CI=true)"
  else
    echo "bank_smoke: ES_DATABASE_URL not set, skipping the PostgreSQL part"
  fi
elif ! command -v psql >/dev/null; then
  fail "psql is not installed (needed for the PostgreSQL part)"
else
  db=(--store "$ES_DATABASE_URL")
  sql() { psql -qtAX "$ES_DATABASE_URL" -c "$1"; }
  # sql_with_id ID QUERY: QUERY with :'id' bound to ID (quoted by psql).
  sql_with_id() { psql -qtAX -v id="$1" "$ES_DATABASE_URL" <<<"$2"; }
  # check_balances ID BALANCE VERSION: `bank projections` shows both live
  # with lag 0, and bank_balances holds the account as given. (bank_totals
  # reads the whole feed in each process: give a big database time.)
  check_balances() {
    expect 0 '^bank_balances +postgres +live +[0-9]+ +[0-9]+ +0 ' '' \
      "${db[@]}" projections --wait-seconds 60
    has '^bank_totals +in_memory +live +[0-9]+ +[0-9]+ +0 ' projections
    local got
    got=$(sql_with_id "$1" "SELECT balance || ' ' || version FROM bank_balances WHERE account_id = :'id'")
    [[ $got == "$2 $3" ]] || fail "bank_balances: $1 has '$got', expected '$2 $3'"
  }
  id="acct-smoke-$$-$RANDOM$RANDOM"
  expect 0 "^$id: version 1\$" '' "${db[@]}" open "$id" ada
  expect 0 "^$id: version 2\$" '' "${db[@]}" deposit "$id" 100
  expect 1 '' "^bank: withdraw $id: rejected: insufficient funds\$" \
    "${db[@]}" withdraw "$id" 130
  expect 0 "^$id: version 3\$" '' "${db[@]}" withdraw "$id" 30
  expect 0 "^$id: balance 70, version 3\$" '' "${db[@]}" balance "$id"
  check_balances "$id" 70 3
  expect 0 '^3 [0-9-]{10}T[0-9:.]{15}Z withdrawn \{"amount":30\}$' '' \
    "${db[@]}" history "$id"
  [[ $(wc -l <"$tmp/out") -eq 3 ]] || fail "history: expected 3 lines: $(cat "$tmp/out")"
  grep -Eq '^1 .*Z account_opened \{"owner":"ada"\}$' "$tmp/out" ||
    fail "history: no account_opened: $(cat "$tmp/out")"
  expect 1 '' "^bank: close $id: rejected: balance is not zero\$" \
    "${db[@]}" close "$id"
  expect 1 '' 'rejected: account is already open' "${db[@]}" open "$id" bob
  expect 0 "^$id: version 4\$" '' "${db[@]}" withdraw "$id" 70
  expect 0 "^$id: version 5\$" '' "${db[@]}" close "$id"
  expect 0 "^$id: balance 0, version 5, closed\$" '' "${db[@]}" balance "$id"
  check_balances "$id" 0 5
  expect 1 '' 'rejected: account is not open' "${db[@]}" deposit "$id" 1
  expect 1 '' "^bank: $id-none: no such account\$" "${db[@]}" balance "$id-none"
  # Ids are user input: bank_balances passes them in an array literal.
  odd="$id \"q\" \\b {c},NULL 'x'"
  expect 0 'version 1$' '' "${db[@]}" open "$odd" ada
  expect 0 'version 2$' '' "${db[@]}" deposit "$odd" 12
  check_balances "$odd" 12 2
  expect 0 'commands/s' '' "${db[@]}" load --accounts 20 --commands 300 \
    --concurrency 8 --json
  check_load 20 300 postgresql
  has '^  lag: +bank_balances max [0-9]+, [0-9]+ after the last command, caught up in [0-9.]+ s$' load
  [[ $(tail -n 1 "$tmp/out") =~ \"bank_balances\":\{[^}]*\"lag\":0[,}] ]] ||
    fail "load: bank_balances not caught up: $(tail -n 1 "$tmp/out")"
  # Every account in bank_balances as es_events has it, none missing.
  expect 0 '^bank_balances +postgres +live +[0-9]+ +[0-9]+ +0 ' '' \
    "${db[@]}" projections --wait-seconds 60
  wrong=$(sql "$(bank_mismatches_sql)")
  [[ $wrong == 0 ]] || fail "bank_balances: $wrong accounts differ from es_events"
fi

if ((failures > 0)); then
  echo "bank_smoke: $failures check(s) failed" >&2
  exit 1
fi
echo "bank_smoke: all checks passed"
