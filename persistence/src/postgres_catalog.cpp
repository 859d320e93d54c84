// The projection catalog on PostgreSQL: tables es_projections and
// es_dead_letters (migrations 2 and 3). Its statements are also declared on
// the read model's connection (postgres_read_model.cpp).
#include "es/persistence/postgres_catalog.hpp"

#include <stdexcept>

#include "postgres_detail.hpp"

namespace es::persistence {

namespace {

using namespace std::string_literals;

// Columns of a projection record, in the order `to_record` reads them.
constexpr const char* record_columns
  = "name, state, checkpoint, last_error, error_position, requested,"
    " (extract(epoch from updated_at) * 1000000)::bigint, request_id,"
    " applied_id, applied_error";

// Columns of a dead letter, in the order `to_dead_letter` reads them.
constexpr const char* letter_columns
  = "id, projection, global_position, event_id::text, stream_id, event_type,"
    " error, (extract(epoch from recorded_at) * 1000000)::bigint, retry";

// The CHECK constraints of the table keep other values out.
[[noreturn]] void bad_column(const char* what, const pqxx::field& f) {
  throw std::runtime_error("es_projections holds an unknown "s + what + " '"
                           + f.c_str() + "'");
}

projection_record to_record(const pqxx::row& row) {
  projection_record r;
  r.name = row[0].as<std::string>();
  if (auto s = parse_projection_state(row[1].c_str()))
    r.state = *s;
  else
    bad_column("state", row[1]);
  r.checkpoint = row[2].as<int64_t>();
  r.last_error = row[3].as<std::string>();
  r.error_position = row[4].as<int64_t>();
  if (!row[5].is_null()) {
    r.requested = parse_projection_op(row[5].c_str());
    if (!r.requested)
      bad_column("request", row[5]);
  }
  r.updated_at = detail::from_micros(row[6].as<int64_t>());
  r.request_id = row[7].as<int64_t>();
  r.applied_id = row[8].as<int64_t>();
  r.applied_error = row[9].as<std::string>();
  return r;
}

dead_letter to_dead_letter(const pqxx::row& row) {
  dead_letter d;
  d.id = row[0].as<int64_t>();
  d.projection = row[1].as<std::string>();
  d.global_position = row[2].as<int64_t>();
  d.event_id = *uuid::parse(row[3].c_str());
  d.stream_id = row[4].as<std::string>();
  d.event_type = row[5].as<std::string>();
  d.error = row[6].as<std::string>();
  d.recorded_at = detail::from_micros(row[7].as<int64_t>());
  d.retry = row[8].is_null() ? retry_state::none
            : std::string_view{row[8].c_str()} == "running"
              ? retry_state::running
              : retry_state::requested;
  return d;
}

es::error not_registered(std::string_view name) {
  return {ec::not_found,
          "projection '" + std::string{name} + "' is not registered"};
}

es::error no_dead_letter(int64_t id) {
  return {ec::not_found, "no dead letter " + std::to_string(id)};
}

// Runs a one-row UPDATE of `name`'s record and commits it.
template <class... Ts>
result<void> update_record(pqxx::connection& c, const char* statement,
                           std::string_view name, const Ts&... args) {
  pqxx::work txn{c};
  auto r = txn.exec_prepared(statement, std::string{name}, args...);
  if (r.affected_rows() == 0)
    return not_registered(name);
  txn.commit();
  return {};
}

} // namespace

void detail::pg_prepare_catalog(pqxx::connection& c) {
  auto select_record = "SELECT "s + record_columns + " FROM es_projections ";
  auto select_letter = "SELECT "s + letter_columns + " FROM es_dead_letters ";
  c.prepare("cat_register", "INSERT INTO es_projections (name) VALUES ($1)"
                            " ON CONFLICT (name) DO NOTHING");
  c.prepare("cat_find", select_record + "WHERE name = $1");
  // Byte order, as the in-memory catalog sorts, whatever the collation.
  c.prepare("cat_list", select_record + "ORDER BY name COLLATE \"C\"");
  c.prepare("cat_set_state",
            "UPDATE es_projections SET state = $2, last_error = $3,"
            " error_position = $4, updated_at = now() WHERE name = $1");
  c.prepare("cat_set_checkpoint",
            "UPDATE es_projections SET checkpoint = $2, updated_at = now()"
            " WHERE name = $1");
  // One statement: the NOTIFY goes out (at commit) only when a row changed.
  c.prepare("cat_request",
            "WITH r AS (UPDATE es_projections SET requested = $2,"
            "  request_id = request_id + 1, updated_at = now()"
            "  WHERE name = $1 RETURNING name, request_id)"
            " SELECT request_id, pg_notify("
              + detail::pg_channel_sql("current_schema()", "es_projections")
              + ", name) FROM r");
  // The row lock makes a second taker wait, then find the request gone.
  c.prepare("cat_take_request",
            "UPDATE es_projections p SET requested = NULL, updated_at = now()"
            " FROM (SELECT name, requested FROM es_projections"
            "  WHERE name = $1 AND requested IS NOT NULL FOR UPDATE) old"
            " WHERE p.name = old.name RETURNING old.requested, p.request_id");
  c.prepare("cat_set_applied",
            "UPDATE es_projections SET applied_id = greatest(applied_id, $2),"
            " applied_error = CASE WHEN $2 > applied_id THEN $3"
            "  ELSE applied_error END, updated_at = now() WHERE name = $1");
  // The no-op update returns the id of the row that already exists.
  c.prepare("cat_add_dead_letter",
            "INSERT INTO es_dead_letters (projection, global_position,"
            " event_id, stream_id, event_type, error)"
            " VALUES ($1, $2, $3::uuid, $4, $5, $6)"
            " ON CONFLICT (projection, global_position)"
            " DO UPDATE SET projection = excluded.projection RETURNING id");
  c.prepare("cat_dead_letters",
            select_letter
              + "WHERE ($1 = '' OR projection = $1)"
                " ORDER BY global_position, id LIMIT $2");
  c.prepare("cat_find_dead_letter", select_letter + "WHERE id = $1");
  c.prepare("cat_remove_dead_letter",
            "DELETE FROM es_dead_letters WHERE id = $1");
  // As cat_request: one statement, the NOTIFY only when a letter was marked;
  // on the channel and with the payload of a request, so the nodes' one
  // listener wakes them for both.
  c.prepare("cat_request_retry",
            "WITH d AS (UPDATE es_dead_letters SET retry = 'requested'"
            "  WHERE id = $1 RETURNING *)"
            " SELECT "s + letter_columns + ", pg_notify("
              + detail::pg_channel_sql("current_schema()", "es_projections")
              + ", projection) FROM d");
  // The row locks make a second taker wait, then skip the cleared rows.
  c.prepare("cat_take_retry_requests",
            "WITH t AS (UPDATE es_dead_letters SET retry = 'running'"
            "  WHERE projection = $1 AND retry = 'requested'"
            "  RETURNING id, global_position)"
            " SELECT id FROM t ORDER BY global_position, id");
  c.prepare("cat_retry_failed",
            "UPDATE es_dead_letters SET retry = NULL, error = $2"
            " WHERE id = $1");
}

struct postgres_catalog::impl {
  impl(std::string url, postgres_options opts)
    : session(std::move(url), std::move(opts), detail::pg_prepare_catalog) {
    // nop
  }

  detail::pg_session session;
};

postgres_catalog::postgres_catalog(std::unique_ptr<impl> ptr)
  : impl_(std::move(ptr)) {
  // nop
}

postgres_catalog::~postgres_catalog() {
  // nop
}

result<std::unique_ptr<postgres_catalog>>
postgres_catalog::open(const std::string& url, postgres_options opts) {
  auto ptr = std::make_unique<impl>(url, std::move(opts));
  auto checked = ptr->session.require_schema();
  if (!checked)
    return checked.error();
  return std::unique_ptr<postgres_catalog>{new postgres_catalog(std::move(ptr))};
}

result<projection_record>
postgres_catalog::do_register(std::string_view name) {
  return impl_->session.run<projection_record>([&](pqxx::connection& c) {
    pqxx::work txn{c};
    txn.exec_prepared("cat_register", std::string{name});
    // A new statement: it also sees a row a concurrent caller just added.
    auto row = txn.exec_prepared1("cat_find", std::string{name});
    txn.commit();
    return to_record(row);
  });
}

result<std::optional<projection_record>>
postgres_catalog::do_find(std::string_view name) {
  using out = std::optional<projection_record>;
  return impl_->session.run<out>([&](pqxx::connection& c) {
    pqxx::read_transaction txn{c};
    auto rows = txn.exec_prepared("cat_find", std::string{name});
    return rows.empty() ? out{} : out{to_record(rows[0])};
  });
}

result<std::vector<projection_record>> postgres_catalog::do_list() {
  using out = std::vector<projection_record>;
  return impl_->session.run<out>([&](pqxx::connection& c) {
    pqxx::read_transaction txn{c};
    out records;
    for (const auto& row : txn.exec_prepared("cat_list"))
      records.push_back(to_record(row));
    return records;
  });
}

result<void> postgres_catalog::do_set_state(std::string_view name,
                                            projection_state state,
                                            const std::string& last_error,
                                            int64_t error_position) {
  return impl_->session.run<void>([&](pqxx::connection& c) {
    return update_record(c, "cat_set_state", name, std::string{to_string(state)},
                         last_error, error_position);
  });
}

result<void> postgres_catalog::do_set_checkpoint(std::string_view name,
                                                 int64_t position) {
  return impl_->session.run<void>([&](pqxx::connection& c) {
    return update_record(c, "cat_set_checkpoint", name, position);
  });
}

result<int64_t> postgres_catalog::do_request(std::string_view name,
                                             projection_op op) {
  return impl_->session.run<int64_t>(
    [&](pqxx::connection& c) -> result<int64_t> {
      pqxx::work txn{c};
      auto rows = txn.exec_prepared("cat_request", std::string{name},
                                    std::string{to_string(op)});
      if (rows.empty())
        return not_registered(name);
      txn.commit();
      return rows[0][0].as<int64_t>();
    });
}

result<std::optional<projection_request>>
postgres_catalog::do_take_request(std::string_view name) {
  using out = std::optional<projection_request>;
  return impl_->session.run<out>([&](pqxx::connection& c) {
    pqxx::work txn{c};
    auto rows = txn.exec_prepared("cat_take_request", std::string{name});
    txn.commit();
    if (rows.empty())
      return out{};
    auto op = parse_projection_op(rows[0][0].c_str());
    if (!op)
      bad_column("request", rows[0][0]);
    return out{projection_request{*op, rows[0][1].as<int64_t>()}};
  });
}

result<void> postgres_catalog::do_set_applied(std::string_view name,
                                              int64_t id,
                                              const std::string& error) {
  return impl_->session.run<void>([&](pqxx::connection& c) {
    return update_record(c, "cat_set_applied", name, id, error);
  });
}

result<int64_t> postgres_catalog::do_add_dead_letter(const dead_letter& d) {
  return impl_->session.run<int64_t>([&](pqxx::connection& c) {
    pqxx::work txn{c};
    auto row = txn.exec_prepared1("cat_add_dead_letter", d.projection,
                                  d.global_position, d.event_id.to_string(),
                                  d.stream_id, d.event_type, d.error);
    txn.commit();
    return row[0].as<int64_t>();
  });
}

result<std::vector<dead_letter>>
postgres_catalog::do_dead_letters(std::string_view projection, size_t limit) {
  using out = std::vector<dead_letter>;
  return impl_->session.run<out>([&](pqxx::connection& c) {
    pqxx::read_transaction txn{c};
    out letters;
    for (const auto& row :
         txn.exec_prepared("cat_dead_letters", std::string{projection},
                           static_cast<int64_t>(limit)))
      letters.push_back(to_dead_letter(row));
    return letters;
  });
}

result<std::optional<dead_letter>>
postgres_catalog::do_find_dead_letter(int64_t id) {
  using out = std::optional<dead_letter>;
  return impl_->session.run<out>([&](pqxx::connection& c) {
    pqxx::read_transaction txn{c};
    auto rows = txn.exec_prepared("cat_find_dead_letter", id);
    return rows.empty() ? out{} : out{to_dead_letter(rows[0])};
  });
}

result<bool> postgres_catalog::do_remove_dead_letter(int64_t id) {
  return impl_->session.run<bool>([&](pqxx::connection& c) {
    pqxx::work txn{c};
    auto r = txn.exec_prepared("cat_remove_dead_letter", id);
    txn.commit();
    return r.affected_rows() > 0;
  });
}

result<dead_letter> postgres_catalog::do_request_retry(int64_t id) {
  return impl_->session.run<dead_letter>(
    [&](pqxx::connection& c) -> result<dead_letter> {
      pqxx::work txn{c};
      auto rows = txn.exec_prepared("cat_request_retry", id);
      if (rows.empty())
        return no_dead_letter(id);
      txn.commit();
      return to_dead_letter(rows[0]);
    });
}

result<std::vector<int64_t>>
postgres_catalog::do_take_retry_requests(std::string_view projection) {
  using out = std::vector<int64_t>;
  return impl_->session.run<out>([&](pqxx::connection& c) {
    pqxx::work txn{c};
    auto rows = txn.exec_prepared("cat_take_retry_requests",
                                  std::string{projection});
    txn.commit();
    out ids;
    ids.reserve(rows.size());
    for (const auto& row : rows)
      ids.push_back(row[0].as<int64_t>());
    return ids;
  });
}

result<void> postgres_catalog::do_retry_failed(int64_t id,
                                               const std::string& error) {
  return impl_->session.run<void>([&](pqxx::connection& c) -> result<void> {
    pqxx::work txn{c};
    auto r = txn.exec_prepared("cat_retry_failed", id, error);
    if (r.affected_rows() == 0)
      return no_dead_letter(id);
    txn.commit();
    return {};
  });
}

} // namespace es::persistence
