// Private helpers of the PostgreSQL classes (store, catalog, read model,
// listener): connecting, mapping libpqxx exceptions to `es::ec`, the schema
// migrations and PostgreSQL array literals.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "append_plan.hpp"
#include "es/persistence/postgres_store.hpp"

namespace es::persistence::detail {

/// Connects (with the connect timeout unless `url` sets one) and sets the
/// search_path to `opts.schema` when given. Throws pqxx exceptions.
std::unique_ptr<pqxx::connection> pg_connect(const std::string& url,
                                             const postgres_options& opts);

/// Maps an exception thrown by libpqxx (or while using it) to an error, and
/// says whether the connection must be dropped and opened again.
es::error pg_error(const std::exception& ex, bool& drop_connection);

/// Returns true when `ex` says the connection is gone (or the commit's
/// outcome is unknown): the caller should retry later on a new connection.
bool pg_connection_lost(const std::exception& ex);

/// Brings the schema up to date (or, with `dry_run`, lists what is pending).
/// With `apply == false` it only verifies that nothing is pending.
result<std::vector<migration_info>>
pg_migrate(pqxx::connection& conn, const postgres_options& opts, bool dry_run,
           bool apply = true);

/// Verifies, without changing anything, that the schema is at this
/// program's version, as `postgres_store::open` does with `migrate =
/// false`. Errors: `invalid_argument` (unmigrated, older or newer).
result<void> pg_require_schema(pqxx::connection& conn,
                               const postgres_options& opts);

/// One connection, opened on first use and again after it broke; `run`
/// serializes the calls on it (thread-safe).
class pg_session {
public:
  /// Declares a new connection's prepared statements.
  using prepare_fn = void (*)(pqxx::connection&);

  pg_session(std::string url, postgres_options opts, prepare_fn prepare)
    : url_(std::move(url)), opts_(std::move(opts)), prepare_(prepare) {
    // nop
  }

  const postgres_options& options() const noexcept {
    return opts_;
  }

  /// Runs `f(connection)` under the lock, connecting first when needed, and
  /// turns exceptions into errors. A broken connection is dropped; the next
  /// call connects again.
  template <class T, class F>
  result<T> run(F&& f) {
    std::lock_guard guard{mtx_};
    try {
      if (!conn_) {
        auto c = pg_connect(url_, opts_);
        prepare_(*c);
        conn_ = std::move(c);
      }
      return f(*conn_);
    } catch (const std::exception& ex) {
      bool drop = false;
      auto err = pg_error(ex, drop);
      if (drop)
        conn_.reset();
      return err;
    }
  }

  /// Connects and checks that the schema is migrated to this program's
  /// version (for the objects that do not migrate it themselves).
  result<void> require_schema() {
    return run<void>(
      [this](pqxx::connection& c) { return pg_require_schema(c, opts_); });
  }

private:
  std::string url_;
  postgres_options opts_;
  prepare_fn prepare_;
  std::mutex mtx_;
  std::unique_ptr<pqxx::connection> conn_;
};

/// Declares the statements of the projection catalog (named "cat_...").
void pg_prepare_catalog(pqxx::connection& c);

/// Returns an SQL expression naming the notification channel
/// "<schema>.<suffix>" of the schema that SQL expression `schema` names
/// (e.g. "current_schema()"). A schema name longer than 48 bytes stands in
/// as its MD5 digest: channels have at most 63 bytes, pg_notify refuses
/// longer ones (failing the append) and LISTEN would cut them, which could
/// make the two channels of one schema the same.
std::string pg_channel_sql(const std::string& schema, const char* suffix);

/// Returns the time `us` microseconds after the Unix epoch (how the queries
/// return timestamptz columns).
inline time_point from_micros(int64_t us) {
  return time_point{std::chrono::microseconds{us}};
}

/// Returns the highest migration version this program knows.
int pg_schema_version();

/// The write path of postgres_store (see postgres_append.cpp). Not
/// thread-safe: the store calls it under its connection's lock.
class pg_appender {
public:
  /// Declares the statements the write path uses on a new connection.
  static void prepare(pqxx::connection& c);

  /// Appends `requests` atomically. Throws pqxx exceptions; nothing is
  /// written then (or the connection broke and the outcome is unknown).
  append_plan append(pqxx::connection& c,
                     const std::vector<append_request>& requests);

private:
  // Returns nothing when the fast path cannot give a verdict.
  std::optional<append_plan>
  append_fast(pqxx::connection& c,
              const std::vector<append_request>& requests);

  append_plan append_careful(pqxx::connection& c,
                             const std::vector<append_request>& requests);

  // Records the heads `plan` wrote. `cached[k]` may point to the cache
  // entry of `requests[k]`'s stream (found before the write).
  void remember(const append_plan& plan,
                const std::vector<append_request>& requests,
                const std::vector<stream_head*>& cached);

  // Stream heads this connection has seen committed. A stale entry is
  // caught by the unique index on (stream_id, version); see the .cpp.
  std::unordered_map<std::string, stream_head> heads_;
};

/// Builds a PostgreSQL array literal such as {"a","b\\"c"} or {1,2,3}.
class pg_array_builder {
public:
  /// Adds a string element, quoted and escaped.
  void add(const std::string& item);
  /// Adds `value` as compact JSON text, quoted and escaped (one pass, no
  /// temporary string).
  void add_json(const json& value);
  /// Adds an element that needs no quoting (a UUID).
  void add_plain(const std::string& item);
  /// Adds a number.
  void add_number(int64_t x);
  /// Returns the literal (and leaves the builder empty).
  std::string take();

private:
  void separate();
  std::string text_ = "{";
};

/// Where `put_json` writes: inside a quoted array-literal element (a quote
/// or backslash takes a backslash) or a field of COPY's text format (a
/// backslash takes a backslash; compact JSON has no raw tab or newline).
enum class json_context { array_element, copy_field };

/// Appends `value` to `out` as compact JSON text, escaped for `where`, in
/// one pass without a temporary string. Strings must be valid UTF-8 (the
/// store's input checks); their bytes pass through.
void put_json(std::string& out, const json& value, json_context where);

/// Returns a PostgreSQL array literal of quoted `items`.
std::string pg_array(const std::vector<std::string>& items);

} // namespace es::persistence::detail
