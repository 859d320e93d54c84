// The write path of postgres_store. Writers of a database serialize on the
// row lock of es_head (that is what makes global positions gapless and
// commit-ordered), so the time a batch holds that lock — its round trips —
// is the throughput of the whole store.
//
// Fast path: one statement in its own (autocommit) transaction, one round
// trip. It advances es_head by the batch's event count (taking the lock),
// and inserts the rows at positions computed from the old head, server-side.
// The versions come from a cache of stream heads this connection has seen
// committed (streams not in it are read first, without a lock, unless the
// request expects a new stream), and no
// event id is looked up. Both shortcuts are checked by unique indexes: a
// stale version collides on (stream_id, version), a stored event id on
// (event_id); the statement then fails whole, nothing is written, and the
// batch runs again on the careful path. A conflict the fast path predicts
// from possibly stale heads goes to the careful path too.
//
// Careful path: a transaction that locks es_head first, reads every head
// and looks the event ids up (exact retries, conflicts), then runs the same
// insert statement.
//
// Both paths NOTIFY `<schema>.es_events` with the new head position from
// that statement, so other processes (postgres_listener) hear of every
// commit that wrote events, and only of those.
//
// Big batches (copy_from events) go in with COPY instead of the unnest
// statement: cheaper for the server per row, worth its extra round trip
// (BEGIN, the head statement and COPY in one query, then the rows, after
// which the same query's COMMIT runs). Same checks, same fallback to the
// careful path.

#include <algorithm>

#include <libpq-fe.h>

#include "postgres_detail.hpp"

namespace es::persistence::detail {

namespace {

// libpqxx 6 keeps a connection's libpq handle private (only its
// largeobject class may ask for it); insert_copy needs it. The names in an
// explicit instantiation are exempt from access checks, so instantiating
// this template with the private member defines the friend function that
// returns it. Tied to libpqxx 6 (Debian 12's 6.4.5): 7 renamed the member,
// and this then fails to compile rather than misbehave.
using libpq_member = pqxx::internal::pq::PGconn* pqxx::connection_base::*;
libpq_member libpq_handle_member();

template <libpq_member Member>
struct libpq_handle_access {
  friend libpq_member libpq_handle_member() {
    return Member;
  }
};

template struct libpq_handle_access<&pqxx::connection_base::m_conn>;

PGconn* libpq_handle(pqxx::connection& c) {
  return c.*libpq_handle_member();
}

// The cache is dropped whole when it grows past this many streams. Each
// costs about 120 bytes (ids of up to 15 bytes; 180 with UUIDs), against
// about 2 KB for a live aggregate. A stream missing from it costs its batch
// a read of its head first: with 100,000 here, `bank load --accounts
// 1000000 --commands 50000` made 32,090 / 38,606 events/s, against 57,311
// / 54,130 with room for every stream.
constexpr size_t max_cached_heads = 1'000'000;

// Batches of at least this many events are written with COPY. Below, one
// round trip (unnest) beats COPY's two; from here the server's lower time
// per event with COPY wins (pg_stat_statements under `bank load`: 19 µs
// against 21 µs). Measured with the two-round-trip COPY: 64 ran ahead of
// 16 (`store_bench --batch 16` and `bank load` at 32 and 256 in flight)
// and of 128 (`bank load` at 256 in flight); at 100-event batches
// `store_bench` ran even.
constexpr int64_t copy_from = 64;

// Returns true when a request of `plan` fails: with possibly stale heads
// that is not yet a verdict.
bool has_error(const append_plan& plan) {
  for (const auto& r : plan.results)
    if (!r)
      return true;
  return false;
}

// Runs the insert of every planned write and returns the old head position
// and the commit time. The statement advances es_head by the number of
// events and puts them at the positions after the old head, in order.
std::pair<int64_t, time_point> insert_unnest(pqxx::transaction_base& tx,
                                             const append_plan& plan,
                                             int64_t count) {
  pg_array_builder ids, streams, types, versions, event_types,
    schema_versions, payloads, metadata;
  for (const auto& w : plan.writes) {
    auto version = w.first_version;
    for (const auto& e : w.request->events) {
      ids.add_plain(e.event_id.to_string());
      streams.add(w.request->stream_id);
      types.add(w.request->stream_type);
      versions.add_number(version++);
      event_types.add(e.event_type);
      schema_versions.add_number(e.schema_version);
      payloads.add_json(e.payload);
      metadata.add_json(e.metadata);
    }
  }
  auto row = tx.exec_prepared1("append_events", ids.take(), streams.take(),
                               types.take(), versions.take(), event_types.take(),
                               schema_versions.take(), payloads.take(),
                               metadata.take(), count);
  return {row[0].as<int64_t>(), from_micros(row[1].as<int64_t>())};
}

// A stream whose first request expects it not to exist is planned as new
// without reading its head: if it does exist, its version 1 collides.
bool expects_new(const append_request& req) {
  return req.expected.what() == expected_version::kind::exact
         && req.expected.value() == 0;
}

// Appends `s` to `out` as a field of COPY's text format: backslash, newline,
// carriage return and tab escaped; plain runs go in whole.
void put_copy_field(std::string& out, std::string_view s) {
  size_t from = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char* escaped = nullptr;
    switch (s[i]) {
      case '\\':
        escaped = "\\\\";
        break;
      case '\n':
        escaped = "\\n";
        break;
      case '\r':
        escaped = "\\r";
        break;
      case '\t':
        escaped = "\\t";
        break;
      default:
        continue;
    }
    out.append(s.data() + from, i - from);
    out += escaped;
    from = i + 1;
  }
  out.append(s.data() + from, s.size() - from);
}

// Returns the rows of `plan` in COPY's text format, the events at the
// positions after `base`.
std::string copy_text(const append_plan& plan, int64_t base, int64_t count) {
  std::string out;
  out.reserve(static_cast<size_t>(count) * 384); // a typical row, grown once
  auto position = base;
  for (const auto& w : plan.writes) {
    auto version = w.first_version;
    for (const auto& e : w.request->events) {
      out += std::to_string(++position);
      out += '\t';
      out += e.event_id.to_string();
      out += '\t';
      put_copy_field(out, w.request->stream_id);
      out += '\t';
      put_copy_field(out, w.request->stream_type);
      out += '\t';
      out += std::to_string(version++);
      out += '\t';
      put_copy_field(out, e.event_type);
      out += '\t';
      out += std::to_string(e.schema_version);
      out += '\t';
      put_json(out, e.payload, json_context::copy_field);
      out += '\t';
      put_json(out, e.metadata, json_context::copy_field);
      out += '\n';
    }
  }
  return out;
}

// Sends `text` as the data of the COPY in progress on `conn` and ends it;
// false when the connection failed. In pieces: libpq takes an int length.
bool put_copy(PGconn* conn, const std::string& text) {
  constexpr size_t piece = 1 << 20;
  for (size_t at = 0; at < text.size(); at += piece) {
    auto n = std::min(piece, text.size() - at);
    if (PQputCopyData(conn, text.data() + at, static_cast<int>(n)) != 1)
      return false;
  }
  return PQputCopyEnd(conn, nullptr) == 1;
}

// The same as insert_unnest with COPY, in two round trips: one query holds
// the head statement and `COPY ... FROM STDIN` (with `own_transaction`,
// also BEGIN before them and COMMIT after). The server stops at the COPY
// for the rows, which are formatted once the head's row has told their
// positions; then it runs the rest of the query. libpqxx 6 can neither
// run such a query nor hand back the head's row from it, so this speaks
// libpq on the connection's own handle (through libpqxx: four round trips,
// BEGIN, head, COPY, COMMIT; `store_bench` made 20% more events/s with
// two). Without `own_transaction` the caller's transaction must be open.
// recorded_at is the column default, now(): the transaction's time, as
// returned. Throws libpqxx's exceptions; on an error nothing is written
// and the connection is out of any transaction it began.
std::pair<int64_t, time_point> insert_copy(pqxx::connection& c,
                                           const append_plan& plan,
                                           int64_t count,
                                           bool own_transaction) {
  c.prepare_now("advance_head"); // once per connection: EXECUTEd below
  auto* conn = libpq_handle(c);
  auto query = "EXECUTE advance_head(" + std::to_string(count)
               + "); COPY es_events (global_position, event_id, stream_id,"
                 " stream_type, version, event_type, schema_version, payload,"
                 " metadata) FROM STDIN";
  if (own_transaction)
    query = "BEGIN; " + query + "; COMMIT";
  if (!PQsendQuery(conn, query.c_str()))
    throw pqxx::broken_connection{PQerrorMessage(conn)};
  std::optional<std::pair<int64_t, time_point>> head;
  std::string error, sqlstate;
  bool rows_sent = false;
  while (auto* res = PQgetResult(conn)) {
    switch (PQresultStatus(res)) {
      case PGRES_TUPLES_OK: // the head statement's row
        head.emplace(std::stoll(PQgetvalue(res, 0, 0)),
                     from_micros(std::stoll(PQgetvalue(res, 0, 1))));
        break;
      case PGRES_COPY_IN:
        // The head statement runs before the COPY, or the query stops.
        rows_sent = head && put_copy(conn, copy_text(plan, head->first, count));
        if (!rows_sent) {
          PQclear(res);
          throw pqxx::broken_connection{std::string{"COPY: "}
                                        + PQerrorMessage(conn)};
        }
        break;
      case PGRES_COMMAND_OK:
        break;
      default:
        if (error.empty()) {
          error = PQresultErrorMessage(res);
          if (auto* state = PQresultErrorField(res, PG_DIAG_SQLSTATE))
            sqlstate = state;
        }
    }
    PQclear(res);
  }
  if (PQstatus(conn) == CONNECTION_BAD) {
    // With the rows sent, the COMMIT may have run before the line broke
    // (even if an error came: the server may end the connection after it).
    if (own_transaction && rows_sent)
      throw pqxx::in_doubt_error{PQerrorMessage(conn)};
    throw pqxx::broken_connection{error.empty() ? PQerrorMessage(conn) : error};
  }
  if (error.empty())
    return *head;
  if (own_transaction && PQtransactionStatus(conn) != PQTRANS_IDLE)
    PQclear(PQexec(conn, "ROLLBACK"));
  if (sqlstate == "23505")
    throw pqxx::unique_violation{error, query, sqlstate.c_str()};
  throw pqxx::sql_error{error, query,
                        sqlstate.empty() ? nullptr : sqlstate.c_str()};
}

bool big(int64_t count) {
  return count >= copy_from;
}

// In the caller's open transaction `tx` on `c`.
std::pair<int64_t, time_point> insert(pqxx::connection& c,
                                      pqxx::transaction_base& tx,
                                      const append_plan& plan,
                                      int64_t count) {
  return big(count) ? insert_copy(c, plan, count, false)
                    : insert_unnest(tx, plan, count);
}

void read_heads(pqxx::transaction_base& tx, pg_array_builder& streams,
                std::unordered_map<std::string, stream_head>& heads) {
  for (const auto& row : tx.exec_prepared("stream_heads", streams.take()))
    heads.insert_or_assign(row[0].as<std::string>(),
                           stream_head{row[1].as<int64_t>(),
                                       row[2].as<std::string>()});
}

} // namespace

void pg_appender::prepare(pqxx::connection& c) {
  // The NOTIFY rides in the same statement (no extra round trip) and is
  // delivered at commit.
  c.prepare("append_events",
            "WITH head AS (UPDATE es_head SET position = position + $9"
            "  WHERE id = 1 RETURNING position - $9 AS base, position AS top,"
            "  (extract(epoch from now()) * 1000000)::bigint AS now_us),"
            " written AS (INSERT INTO es_events (global_position, event_id,"
            "  stream_id, stream_type, version, event_type, schema_version,"
            "  payload, metadata)"
            "  SELECT head.base + e.n, e.id, e.s, e.t, e.v, e.et, e.sv, e.p,"
            "  e.m FROM head, unnest($1::uuid[], $2::text[], $3::text[],"
            "  $4::bigint[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[])"
            "  WITH ORDINALITY AS e(id, s, t, v, et, sv, p, m, n)),"
            " notified AS (SELECT pg_notify("
              + pg_channel_sql("current_schema()", "es_events")
              + ", top::text) FROM head)"
                " SELECT base, now_us FROM head, notified");
  c.prepare("advance_head",
            "WITH head AS (UPDATE es_head SET position = position + $1"
            "  WHERE id = 1 RETURNING position - $1 AS base, position AS top,"
            "  (extract(epoch from now()) * 1000000)::bigint AS now_us),"
            " notified AS (SELECT pg_notify("
              + pg_channel_sql("current_schema()", "es_events")
              + ", top::text) FROM head)"
                " SELECT base, now_us FROM head, notified");
  c.prepare("lock_head",
            "SELECT position, (extract(epoch from now()) * 1000000)::bigint"
            " FROM es_head WHERE id = 1 FOR UPDATE");
  c.prepare("stream_heads",
            "SELECT s.id, h.version, h.stream_type"
            " FROM unnest($1::text[]) AS s(id) CROSS JOIN LATERAL"
            " (SELECT version, stream_type FROM es_events"
            "  WHERE stream_id = s.id ORDER BY version DESC LIMIT 1) h");
  c.prepare("stored_ids",
            "SELECT event_id::text, stream_id, version, global_position,"
            " (extract(epoch from recorded_at) * 1000000)::bigint"
            " FROM es_events WHERE event_id = ANY($1::uuid[])");
}

append_plan pg_appender::append(pqxx::connection& c,
                                const std::vector<append_request>& requests) {
  if (auto plan = append_fast(c, requests))
    return std::move(*plan);
  return append_careful(c, requests);
}

std::optional<append_plan>
pg_appender::append_fast(pqxx::connection& c,
                         const std::vector<append_request>& requests) {
  // A stream planned without a known head starts at version 0, which is
  // what a new stream is; the read below overwrites the ones that exist.
  std::unordered_map<std::string, stream_head> heads;
  // The cache entry of each request's stream, if any (the first request of
  // each stream): remember() updates it without a second lookup.
  std::vector<stream_head*> cached(requests.size(), nullptr);
  pg_array_builder unknown;
  bool any_unknown = false;
  for (size_t k = 0; k < requests.size(); ++k) {
    const auto& req = requests[k];
    auto [h, added] = heads.try_emplace(req.stream_id);
    if (!added)
      continue;
    if (auto i = heads_.find(req.stream_id); i != heads_.end()) {
      h->second = i->second;
      cached[k] = &i->second;
    } else if (!expects_new(req)) {
      unknown.add(req.stream_id);
      any_unknown = true;
    }
  }
  if (any_unknown) {
    pqxx::nontransaction tx{c};
    read_heads(tx, unknown, heads);
  }
  // Planned from position 0; shifted once the statement told the head.
  auto plan = plan_appends(requests, 0, time_point{}, std::move(heads), {});
  if (has_error(plan))
    return std::nullopt;
  if (plan.writes.empty())
    return plan;
  std::pair<int64_t, time_point> head;
  try {
    if (big(plan.new_head)) {
      head = insert_copy(c, plan, plan.new_head, true);
    } else {
      pqxx::nontransaction tx{c}; // one statement: its own transaction
      head = insert_unnest(tx, plan, plan.new_head);
    }
  } catch (const pqxx::unique_violation&) {
    return std::nullopt;
  }
  auto [base, now] = head;
  for (auto& r : plan.results) {
    r->first_position += base;
    r->last_position += base;
    r->recorded_at = now;
  }
  plan.new_head += base;
  remember(plan, requests, cached);
  return plan;
}

append_plan
pg_appender::append_careful(pqxx::connection& c,
                            const std::vector<append_request>& requests) {
  pqxx::work txn{c};
  auto locked = txn.exec_prepared1("lock_head");
  auto head = locked[0].as<int64_t>();
  auto now = from_micros(locked[1].as<int64_t>());
  std::unordered_map<std::string, stream_head> heads;
  pg_array_builder streams;
  for (auto& id : requested_streams(requests))
    streams.add(id);
  read_heads(txn, streams, heads);
  pg_array_builder ids;
  for (const auto& id : requested_ids(requests))
    ids.add_plain(id.to_string());
  // A plan cached while the table was small may scan it: plan afresh.
  txn.exec("SET LOCAL plan_cache_mode = force_custom_plan");
  std::unordered_map<uuid, stored_event_ref> stored;
  for (const auto& row : txn.exec_prepared("stored_ids", ids.take()))
    stored.emplace(*uuid::parse(row[0].c_str()),
                   stored_event_ref{row[1].as<std::string>(),
                                    row[2].as<int64_t>(), row[3].as<int64_t>(),
                                    from_micros(row[4].as<int64_t>())});
  auto plan = plan_appends(requests, head, now, std::move(heads),
                           std::move(stored));
  if (!plan.writes.empty())
    insert(c, txn, plan, plan.new_head - head);
  txn.commit();
  remember(plan, requests, {});
  return plan;
}

void pg_appender::remember(const append_plan& plan,
                           const std::vector<append_request>& requests,
                           const std::vector<stream_head*>& cached) {
  bool fresh = heads_.size() > max_cached_heads;
  if (fresh)
    heads_.clear(); // and with it every pointer in `cached`
  for (const auto& w : plan.writes) {
    auto version
      = w.first_version + static_cast<int64_t>(w.request->events.size()) - 1;
    auto k = static_cast<size_t>(w.request - requests.data());
    // A cached stream's type is the request's: the plan checked it.
    if (!fresh && k < cached.size() && cached[k])
      cached[k]->version = version;
    else
      heads_.insert_or_assign(w.request->stream_id,
                              stream_head{version, w.request->stream_type});
  }
}

} // namespace es::persistence::detail
