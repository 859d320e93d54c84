// The write path of postgres_store: one transaction per append batch, made
// of as few round trips as possible, because the row lock on es_head that
// keeps positions gapless serializes all writers of the database.
//
// Fast path (two round trips when every stream is known):
//   1. BEGIN; lock es_head, read the head position and now()
//   2. (only for streams not in the cache) read their last version and type
//   3. INSERT all rows from unnested arrays, UPDATE es_head; COMMIT
// It assumes no event id is stored yet and trusts the cache of stream
// heads. Both assumptions are checked by unique indexes: a stored event id
// or a stale cached version makes the INSERT fail on (event_id) or
// (stream_id, version), nothing is written, and the batch runs again on the
// careful path, which reads every head and looks the event ids up. A
// conflict the fast path predicts from the cache is re-checked the same way.
#include "postgres_detail.hpp"

namespace es::persistence::detail {

namespace {

// The cache is dropped whole when it grows past this many streams.
constexpr size_t max_cached_heads = 100'000;

time_point from_micros(int64_t us) {
  return time_point{std::chrono::microseconds{us}};
}

// Returns the INSERT of every planned event plus the head update, with the
// column values as array literals.
std::string insert_sql(pqxx::transaction_base& tx, const append_plan& plan) {
  pg_array_builder positions, ids, streams, types, versions, event_types,
    schema_versions, payloads, metadata;
  for (const auto& w : plan.writes) {
    auto position = w.first_position;
    auto version = w.first_version;
    for (const auto& e : w.request->events) {
      positions.add_number(position++);
      ids.add_plain(e.event_id.to_string());
      streams.add(w.request->stream_id);
      types.add(w.request->stream_type);
      versions.add_number(version++);
      event_types.add(e.event_type);
      schema_versions.add_number(e.schema_version);
      payloads.add(e.payload.dump());
      metadata.add(e.metadata.dump());
    }
  }
  auto arg = [&](const pg_array_builder& b, const char* type) {
    return tx.quote(b.str()) + "::" + type + "[]";
  };
  return "WITH rows AS (INSERT INTO es_events (global_position, event_id,"
         " stream_id, stream_type, version, event_type, schema_version,"
         " payload, metadata) SELECT * FROM unnest("
         + arg(positions, "bigint") + "," + arg(ids, "uuid") + ","
         + arg(streams, "text") + "," + arg(types, "text") + ","
         + arg(versions, "bigint") + "," + arg(event_types, "text") + ","
         + arg(schema_versions, "int") + "," + arg(payloads, "jsonb") + ","
         + arg(metadata, "jsonb")
         + ")) UPDATE es_head SET position = " + std::to_string(plan.new_head)
         + " WHERE id = 1";
}

// A conflict or a stream type mismatch may come from a stale cache entry.
bool has_error(const append_plan& plan) {
  for (const auto& r : plan.results)
    if (!r)
      return true;
  return false;
}

} // namespace

void pg_appender::prepare(pqxx::connection& c) {
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
  pqxx::nontransaction tx{c};
  for (bool careful : {false, true}) {
    try {
      if (auto plan = try_append(tx, requests, careful))
        return std::move(*plan);
    } catch (const pqxx::unique_violation&) {
      tx.exec("ROLLBACK");
      if (careful)
        throw;
    } catch (...) {
      try {
        tx.exec("ROLLBACK");
      } catch (...) {
        // The connection is gone; the caller drops it.
      }
      throw;
    }
  }
  return {}; // not reached: the careful path returns or throws
}

std::optional<append_plan>
pg_appender::try_append(pqxx::nontransaction& tx,
                        const std::vector<append_request>& requests,
                        bool careful) {
  auto locked = tx.exec("BEGIN; SELECT position,"
                        " (extract(epoch from now()) * 1000000)::bigint"
                        " FROM es_head WHERE id = 1 FOR UPDATE")[0];
  auto head = locked[0].as<int64_t>();
  auto now = from_micros(locked[1].as<int64_t>());
  std::unordered_map<std::string, stream_head> heads;
  pg_array_builder unknown;
  bool any_unknown = false;
  for (auto& id : requested_streams(requests)) {
    if (auto i = heads_.find(id); !careful && i != heads_.end()) {
      heads.emplace(id, i->second);
    } else {
      unknown.add(id);
      any_unknown = true;
    }
  }
  if (any_unknown)
    for (const auto& row : tx.exec_prepared("stream_heads", unknown.str()))
      heads.emplace(row[0].as<std::string>(),
                    stream_head{row[1].as<int64_t>(), row[2].as<std::string>()});
  std::unordered_map<uuid, stored_event_ref> stored;
  if (careful) {
    pg_array_builder ids;
    for (const auto& id : requested_ids(requests))
      ids.add_plain(id.to_string());
    // A plan cached while the table was small may scan it: plan afresh.
    tx.exec("SET LOCAL plan_cache_mode = force_custom_plan");
    for (const auto& row : tx.exec_prepared("stored_ids", ids.str()))
      stored.emplace(*uuid::parse(row[0].c_str()),
                     stored_event_ref{row[1].as<std::string>(),
                                      row[2].as<int64_t>(),
                                      row[3].as<int64_t>(),
                                      from_micros(row[4].as<int64_t>())});
  }
  auto plan = plan_appends(requests, head, now, std::move(heads),
                           std::move(stored));
  if (!careful && has_error(plan)) {
    tx.exec("ROLLBACK");
    return std::nullopt;
  }
  if (plan.writes.empty())
    tx.exec("COMMIT");
  else
    tx.exec(insert_sql(tx, plan) + "; COMMIT");
  remember(plan);
  return plan;
}

void pg_appender::remember(const append_plan& plan) {
  if (heads_.size() > max_cached_heads)
    heads_.clear();
  for (const auto& w : plan.writes) {
    auto n = static_cast<int64_t>(w.request->events.size());
    heads_.insert_or_assign(w.request->stream_id,
                            stream_head{w.first_version + n - 1,
                                        w.request->stream_type});
  }
}

} // namespace es::persistence::detail
