// The PostgreSQL event store (libpqxx). Schema in README.md ("Schema"):
// `es_events` plus `es_`-prefixed tables, created and upgraded by versioned
// migrations recorded in `es_schema_migrations`.
//
//   auto store = postgres_store::open("postgresql://es@127.0.0.1:5432/es");
//   if (!store) die(store.error());          // ec::unavailable, clear message
//   auto r = (*store)->append("acct-1", "account", expected_version::any(),
//                             {make_event(deposited{10})});
//
// Each instance owns one connection and serializes its calls on it (safe to
// share between threads, but give each busy thread its own instance). A
// dropped connection makes the current call fail with `unavailable`; the next
// call connects again. Global positions are gapless and commit-ordered
// across any number of processes: writers take a row lock on the one-row
// `es_head` table, amortised by batching.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "es/persistence/event_store.hpp"

namespace pqxx {
class transaction_base;
} // namespace pqxx

namespace es::persistence {

/// How `postgres_store::open` connects.
struct postgres_options {
  /// Schema (namespace) for the tables; empty means libpq's search_path.
  std::string schema;
  /// Run pending migrations on open (else fail when the schema is old).
  bool migrate = true;
  /// Seconds to wait for a connection before reporting `unavailable`.
  int connect_timeout_seconds = 5;
  /// Input limits.
  store_limits limits;
};

/// One schema migration, as `postgres_store::migrate` reports it.
struct migration_info {
  int version = 0;
  std::string name;
};

class postgres_store final : public event_store {
public:
  /// Connects to `url` (libpq URI or key=value string) and, by default,
  /// migrates the schema. Errors: `unavailable` (cannot connect, with
  /// libpq's reason), `invalid_argument` (schema newer than this program).
  [[nodiscard]] static result<std::unique_ptr<postgres_store>>
  open(const std::string& url, postgres_options opts = {});

  /// Applies the pending migrations (or only lists them when `dry_run`).
  /// Returns the migrations applied (or pending). Safe to run concurrently
  /// from several processes.
  [[nodiscard]] static result<std::vector<migration_info>>
  migrate(const std::string& url, const postgres_options& opts, bool dry_run);

  /// Returns the newest schema version this program knows.
  static int schema_version();

  /// Writes a checkpoint inside the caller's transaction, so that a read
  /// model and its checkpoint commit together. Throws pqxx exceptions.
  static void write_checkpoint(pqxx::transaction_base& txn,
                               const std::string& name, int64_t position);

  ~postgres_store() override;

private:
  std::vector<result<append_result>>
  do_append_batch(const std::vector<append_request>& requests) override;
  result<std::vector<recorded_event>>
  do_read_stream(std::string_view stream_id, int64_t from_version,
                 size_t max_count, direction dir) override;
  result<int64_t> do_stream_version(std::string_view stream_id) override;
  result<feed_page> do_read_all(int64_t after_position, size_t limit,
                                const feed_filter& filter) override;
  result<int64_t> do_head_position() override;
  result<bool> do_save_snapshot(const snapshot& s) override;
  result<std::optional<snapshot>>
  do_load_snapshot(std::string_view stream_id) override;
  result<size_t> do_delete_snapshot(std::string_view stream_id) override;
  result<size_t> do_delete_snapshots(std::string_view stream_type,
                                     int32_t below_schema_version) override;
  result<int64_t> do_checkpoint(std::string_view name) override;
  result<void> do_checkpoint(std::string_view name, int64_t position) override;

  struct impl;
  explicit postgres_store(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

} // namespace es::persistence
