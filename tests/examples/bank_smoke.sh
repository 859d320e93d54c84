#!/usr/bin/env bash
# tests/examples/bank_smoke.sh — smoke test of the `bank` example (ctest: bank_smoke).
#
# Usage: tests/examples/bank_smoke.sh path/to/bank
#
# In memory: a short load whose JSON figures must add up, single commands,
# usage errors (exit 2) and bad or unreachable stores (exit 1, one line).
# memory: forgets everything when the process ends, so the multi-step flow
# (open, deposit, withdraw, balance, history, close) runs on PostgreSQL: on
# ES_DATABASE_URL, with an account id of its own. Without ES_DATABASE_URL the
# PostgreSQL part is skipped, or fails when CI=true.
set -euo pipefail

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
expect 0 '0 ok, 0 rejected' '' load --accounts 1 --commands 0 --concurrency 1
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
else
  db=(--store "$ES_DATABASE_URL")
  id="acct-smoke-$$-$RANDOM$RANDOM"
  expect 0 "^$id: version 1\$" '' "${db[@]}" open "$id" ada
  expect 0 "^$id: version 2\$" '' "${db[@]}" deposit "$id" 100
  expect 1 '' "^bank: withdraw $id: rejected: insufficient funds\$" \
    "${db[@]}" withdraw "$id" 130
  expect 0 "^$id: version 3\$" '' "${db[@]}" withdraw "$id" 30
  expect 0 "^$id: balance 70, version 3\$" '' "${db[@]}" balance "$id"
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
  expect 1 '' 'rejected: account is not open' "${db[@]}" deposit "$id" 1
  expect 1 '' "^bank: $id-none: no such account\$" "${db[@]}" balance "$id-none"
  expect 0 'commands/s' '' "${db[@]}" load --accounts 20 --commands 300 \
    --concurrency 8 --json
  check_load 20 300 postgresql
fi

if ((failures > 0)); then
  echo "bank_smoke: $failures check(s) failed" >&2
  exit 1
fi
echo "bank_smoke: all checks passed"
