// Operator summaries on PostgreSQL (see postgres_admin.hpp).
#include "es/persistence/postgres_admin.hpp"

#include "postgres_detail.hpp"

namespace es::persistence {

namespace {

void prepare(pqxx::connection& c) {
  c.prepare("adm_counts",
            "SELECT (SELECT count(DISTINCT stream_id) FROM es_events),"
            " (SELECT position FROM es_head WHERE id = 1),"
            " (SELECT count(*) FROM es_snapshots)");
  c.prepare("adm_streams",
            "SELECT stream_id, min(stream_type), max(version),"
            " (extract(epoch from max(recorded_at)) * 1000000)::bigint"
            " FROM es_events WHERE ($1 = '' OR stream_type = $1)"
            " GROUP BY stream_id ORDER BY stream_id LIMIT $2");
  c.prepare("adm_snapshots",
            "SELECT stream_id, stream_type, version, schema_version,"
            " octet_length(state::text),"
            " (extract(epoch from recorded_at) * 1000000)::bigint"
            " FROM es_snapshots WHERE ($1 = '' OR stream_type = $1)"
            " ORDER BY stream_id LIMIT $2");
}

result<void> check_limit(size_t limit) {
  if (limit < 1 || limit > 10'000)
    return {ec::invalid_argument, "limit must be 1..10000, got "
                                    + std::to_string(limit)};
  return {};
}

} // namespace

struct postgres_admin::impl {
  impl(std::string url, postgres_options opts)
    : session(std::move(url), std::move(opts), prepare) {
    // nop
  }

  detail::pg_session session;
};

postgres_admin::postgres_admin(std::unique_ptr<impl> ptr)
  : impl_(std::move(ptr)) {
  // nop
}

postgres_admin::~postgres_admin() = default;

result<std::unique_ptr<postgres_admin>>
postgres_admin::open(const std::string& url, postgres_options opts) {
  auto ptr = std::make_unique<impl>(url, std::move(opts));
  if (auto r = ptr->session.require_schema(); !r)
    return r.error();
  return std::unique_ptr<postgres_admin>{new postgres_admin(std::move(ptr))};
}

result<store_counts> postgres_admin::counts() {
  return impl_->session.run<store_counts>([](pqxx::connection& c) {
    pqxx::read_transaction txn{c};
    auto row = txn.exec_prepared1("adm_counts");
    store_counts out;
    out.streams = row[0].as<int64_t>();
    out.events = row[1].is_null() ? 0 : row[1].as<int64_t>();
    out.snapshots = row[2].as<int64_t>();
    return out;
  });
}

result<std::vector<stream_summary>>
postgres_admin::streams(std::string_view stream_type, size_t limit) {
  if (auto r = check_limit(limit); !r)
    return r.error();
  return impl_->session.run<std::vector<stream_summary>>(
    [&](pqxx::connection& c) {
      pqxx::read_transaction txn{c};
      auto rows = txn.exec_prepared("adm_streams", std::string{stream_type},
                                    static_cast<int64_t>(limit));
      std::vector<stream_summary> out;
      for (const auto& row : rows)
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                       row[2].as<int64_t>(),
                       detail::from_micros(row[3].as<int64_t>())});
      return out;
    });
}

result<std::vector<snapshot_summary>>
postgres_admin::snapshots(std::string_view stream_type, size_t limit) {
  if (auto r = check_limit(limit); !r)
    return r.error();
  return impl_->session.run<std::vector<snapshot_summary>>(
    [&](pqxx::connection& c) {
      pqxx::read_transaction txn{c};
      auto rows = txn.exec_prepared("adm_snapshots", std::string{stream_type},
                                    static_cast<int64_t>(limit));
      std::vector<snapshot_summary> out;
      for (const auto& row : rows)
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                       row[2].as<int64_t>(), row[3].as<int32_t>(),
                       row[4].as<int64_t>(),
                       detail::from_micros(row[5].as<int64_t>())});
      return out;
    });
}

} // namespace es::persistence
