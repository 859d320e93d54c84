# Sourced by the bank and CLI test scripts.
# bank_mismatches_sql [LIMIT_SQL]: prints one SQL statement (one snapshot)
# that counts the accounts whose bank_balances row differs from es_events
# folded up to global position LIMIT_SQL (an SQL expression; default: all).
bank_mismatches_sql() {
  local upto="${1:-(SELECT coalesce(max(global_position), 0) FROM es_events)}"
  printf '%s' "WITH truth AS (
       SELECT stream_id, max(version) AS version,
         coalesce(sum(CASE event_type
           WHEN 'deposited' THEN (payload->>'amount')::bigint
           WHEN 'withdrawn' THEN -(payload->>'amount')::bigint END), 0) AS balance
       FROM es_events
       WHERE stream_type = 'account' AND global_position <= coalesce($upto, 0)
       GROUP BY stream_id)
     SELECT count(*) FROM truth t FULL JOIN bank_balances b ON b.account_id = t.stream_id
     WHERE t.stream_id IS NULL OR b.account_id IS NULL
        OR b.balance <> t.balance OR b.version <> t.version"
}
