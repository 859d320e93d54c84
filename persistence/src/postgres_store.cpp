#include "es/persistence/postgres_store.hpp"

#include "postgres_detail.hpp"

#include <future>
#include <thread>

namespace es::persistence {

namespace {

using namespace std::string_literals;

// Columns of a recorded event, in the order `to_event` reads them.
constexpr const char* event_columns
  = "global_position, event_id::text, stream_id, stream_type, version,"
    " event_type, schema_version, payload::text, metadata::text,"
    " (extract(epoch from recorded_at) * 1000000)::bigint";

// Reads the row's columns in order through one field iterator: every
// pqxx::row and pqxx::field object holds a reference-counted copy of the
// result, and the two threads decoding one result would contend for that
// count (it was a fifth of a long stream's recovery).
recorded_event to_event(const pqxx::row& row) {
  auto f = row.begin(); // the column read below, advanced after each
  recorded_event e;
  e.global_position = f.as<int64_t>();
  e.event_id = *uuid::parse((++f).c_str());
  e.stream_id = (++f).as<std::string>();
  e.stream_type = (++f).as<std::string>();
  e.version = (++f).as<int64_t>();
  e.event_type = (++f).as<std::string>();
  e.schema_version = (++f).as<int32_t>();
  e.payload = json::parse((++f).c_str());
  e.metadata = json::parse((++f).c_str());
  e.recorded_at = detail::from_micros((++f).as<int64_t>());
  return e;
}

// Results of at least this many rows are decoded on two threads.
constexpr size_t decode_in_parallel_from = 4096;

void decode(const pqxx::result& rows, size_t first, size_t last,
            recorded_event* out) {
  auto row = rows.begin() + static_cast<pqxx::result::difference_type>(first);
  for (auto i = first; i < last; ++i, ++row)
    out[i] = to_event(row); // the iterator is the row: no copy
}

// Decoding (JSON above all) costs the client more than PostgreSQL spends
// sending the rows: a long stream's recovery decodes its second half on a
// second thread. A decoding error is rethrown here by `get()`.
std::vector<recorded_event> to_events(const pqxx::result& rows) {
  std::vector<recorded_event> out(rows.size());
  auto n = out.size();
  if (n < decode_in_parallel_from || std::thread::hardware_concurrency() < 2) {
    decode(rows, 0, n, out.data());
    return out;
  }
  auto half = n / 2;
  auto second = std::async(std::launch::async,
                           [&] { decode(rows, half, n, out.data()); });
  decode(rows, 0, half, out.data());
  second.get();
  return out;
}

int64_t to_limit(size_t n) {
  constexpr auto max = static_cast<size_t>(std::numeric_limits<int64_t>::max());
  return static_cast<int64_t>(std::min(n, max));
}

// A NULL array parameter means "no filter".
const char* filter_param(const std::vector<std::string>& items,
                         std::string& storage) {
  if (items.empty())
    return nullptr;
  storage = detail::pg_array(items);
  return storage.c_str();
}

void prepare_statements(pqxx::connection& c) {
  auto sel = "SELECT "s + event_columns + " FROM es_events ";
  c.prepare("head", "SELECT position FROM es_head WHERE id = 1");
  c.prepare("read_forward", sel
                              + "WHERE stream_id = $1 AND version >= $2"
                                " ORDER BY version LIMIT $3");
  c.prepare("read_backward", sel
                               + "WHERE stream_id = $1 AND version <= $2"
                                 " ORDER BY version DESC LIMIT $3");
  c.prepare("stream_version",
            "SELECT coalesce(max(version), 0) FROM es_events"
            " WHERE stream_id = $1");
  c.prepare("read_all",
            sel
              + "WHERE global_position > $1 AND global_position <= $2"
                " AND ($3::text[] IS NULL OR stream_type = ANY($3::text[]))"
                " AND ($4::text[] IS NULL OR event_type = ANY($4::text[]))"
                " ORDER BY global_position LIMIT $5");
  c.prepare("save_snapshot",
            "INSERT INTO es_snapshots"
            " (stream_id, stream_type, version, schema_version, state)"
            " VALUES ($1, $2, $3, $4, $5::jsonb)"
            " ON CONFLICT (stream_id) DO UPDATE SET"
            " stream_type = excluded.stream_type, version = excluded.version,"
            " schema_version = excluded.schema_version,"
            " state = excluded.state, recorded_at = now()"
            " WHERE es_snapshots.version < excluded.version");
  c.prepare("load_snapshot",
            "SELECT stream_id, stream_type, version, schema_version,"
            " state::text, (extract(epoch from recorded_at) * 1000000)::bigint"
            " FROM es_snapshots WHERE stream_id = $1");
  c.prepare("delete_snapshot", "DELETE FROM es_snapshots WHERE stream_id = $1");
  c.prepare("delete_snapshots", "DELETE FROM es_snapshots"
                                " WHERE stream_type = $1 AND schema_version < $2");
  c.prepare("get_checkpoint",
            "SELECT position FROM es_checkpoints WHERE name = $1");
}

} // namespace

struct postgres_store::impl {
  impl(std::string url, postgres_options opts)
    : session(std::move(url), std::move(opts), [](pqxx::connection& c) {
        prepare_statements(c);
        detail::pg_appender::prepare(c);
      }) {
    // nop
  }

  template <class T, class F>
  result<T> run(F&& f) {
    return session.run<T>(std::forward<F>(f));
  }

  detail::pg_session session;
  detail::pg_appender appender; // used inside `run` only: under its lock
};

postgres_store::postgres_store(std::unique_ptr<impl> ptr)
  : event_store(ptr->session.options().limits), impl_(std::move(ptr)) {
  // nop
}

postgres_store::~postgres_store() {
  // nop
}

result<std::unique_ptr<postgres_store>>
postgres_store::open(const std::string& url, postgres_options opts) {
  auto ptr = std::make_unique<impl>(url, std::move(opts));
  const auto& o = ptr->session.options();
  auto migrated = ptr->run<std::vector<migration_info>>([&](pqxx::connection& c) {
    return detail::pg_migrate(c, o, false, o.migrate);
  });
  if (!migrated)
    return migrated.error();
  return std::unique_ptr<postgres_store>{new postgres_store(std::move(ptr))};
}

result<std::vector<migration_info>>
postgres_store::migrate(const std::string& url, const postgres_options& opts,
                        bool dry_run) {
  try {
    auto conn = detail::pg_connect(url, opts);
    return detail::pg_migrate(*conn, opts, dry_run);
  } catch (const std::exception& ex) {
    bool drop = false;
    return detail::pg_error(ex, drop);
  }
}

int postgres_store::schema_version() {
  return detail::pg_schema_version();
}

void postgres_store::write_checkpoint(pqxx::transaction_base& txn,
                                      const std::string& name,
                                      int64_t position) {
  txn.exec_params("INSERT INTO es_checkpoints (name, position)"
                  " VALUES ($1, $2) ON CONFLICT (name) DO UPDATE"
                  " SET position = excluded.position, updated_at = now()",
                  name, position);
}

std::vector<result<append_result>>
postgres_store::do_append_batch(const std::vector<append_request>& requests) {
  auto plan = impl_->run<detail::append_plan>([&](pqxx::connection& c) {
    return impl_->appender.append(c, requests);
  });
  if (plan)
    return std::move(plan->results);
  return std::vector<result<append_result>>(requests.size(), plan.error());
}

result<std::vector<recorded_event>>
postgres_store::do_read_stream(std::string_view stream_id,
                               int64_t from_version, size_t max_count,
                               direction dir) {
  return impl_->run<std::vector<recorded_event>>([&](pqxx::connection& c) {
    pqxx::read_transaction txn{c};
    auto name = dir == direction::forward ? "read_forward" : "read_backward";
    return to_events(txn.exec_prepared(name, std::string{stream_id},
                                       from_version, to_limit(max_count)));
  });
}

result<int64_t> postgres_store::do_stream_version(std::string_view stream_id) {
  return impl_->run<int64_t>([&](pqxx::connection& c) {
    pqxx::read_transaction txn{c};
    return txn.exec_prepared1("stream_version", std::string{stream_id})[0]
      .as<int64_t>();
  });
}

result<feed_page> postgres_store::do_read_all(int64_t after_position,
                                              size_t limit,
                                              const feed_filter& filter) {
  return impl_->run<feed_page>([&](pqxx::connection& c) {
    // Read the head first: every position up to it is committed (invariant
    // 3), so a short page proves there is nothing more up to the head.
    pqxx::read_transaction txn{c};
    auto head = txn.exec_prepared1("head")[0].as<int64_t>();
    std::string stream_types;
    std::string event_types;
    feed_page page;
    page.events = to_events(txn.exec_prepared(
      "read_all", after_position, head,
      filter_param(filter.stream_types, stream_types),
      filter_param(filter.event_types, event_types), to_limit(limit)));
    page.at_head = page.events.size() < limit
                   || page.events.back().global_position >= head;
    page.next_after = page.events.size() < limit
                        ? std::max(head, after_position)
                        : page.events.back().global_position;
    return page;
  });
}

result<int64_t> postgres_store::do_head_position() {
  return impl_->run<int64_t>([&](pqxx::connection& c) {
    pqxx::read_transaction txn{c};
    return txn.exec_prepared1("head")[0].as<int64_t>();
  });
}

result<bool> postgres_store::do_save_snapshot(const snapshot& s) {
  return impl_->run<bool>([&](pqxx::connection& c) {
    pqxx::work txn{c};
    auto r = txn.exec_prepared("save_snapshot", s.stream_id, s.stream_type,
                               s.version, s.schema_version, s.state.dump());
    txn.commit();
    return r.affected_rows() > 0;
  });
}

result<std::optional<snapshot>>
postgres_store::do_load_snapshot(std::string_view stream_id) {
  return impl_->run<std::optional<snapshot>>([&](pqxx::connection& c) {
    pqxx::read_transaction txn{c};
    auto rows = txn.exec_prepared("load_snapshot", std::string{stream_id});
    if (rows.empty())
      return std::optional<snapshot>{};
    const auto& row = rows[0];
    return std::optional<snapshot>{snapshot{
      row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int64_t>(),
      row[3].as<int32_t>(), json::parse(row[4].c_str()),
      detail::from_micros(row[5].as<int64_t>())}};
  });
}

result<size_t> postgres_store::do_delete_snapshot(std::string_view stream_id) {
  return impl_->run<size_t>([&](pqxx::connection& c) {
    pqxx::work txn{c};
    auto r = txn.exec_prepared("delete_snapshot", std::string{stream_id});
    txn.commit();
    return r.affected_rows();
  });
}

result<size_t>
postgres_store::do_delete_snapshots(std::string_view stream_type,
                                    int32_t below_schema_version) {
  return impl_->run<size_t>([&](pqxx::connection& c) {
    pqxx::work txn{c};
    auto r = txn.exec_prepared("delete_snapshots", std::string{stream_type},
                               below_schema_version);
    txn.commit();
    return r.affected_rows();
  });
}

result<int64_t> postgres_store::do_checkpoint(std::string_view name) {
  return impl_->run<int64_t>([&](pqxx::connection& c) {
    pqxx::read_transaction txn{c};
    auto rows = txn.exec_prepared("get_checkpoint", std::string{name});
    return rows.empty() ? int64_t{0} : rows[0][0].as<int64_t>();
  });
}

result<void> postgres_store::do_checkpoint(std::string_view name,
                                           int64_t position) {
  return impl_->run<void>([&](pqxx::connection& c) {
    pqxx::work txn{c};
    write_checkpoint(txn, std::string{name}, position);
    txn.commit();
    return result<void>{};
  });
}

} // namespace es::persistence
