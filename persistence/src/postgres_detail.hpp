// Private helpers of postgres_store: connecting, mapping libpqxx exceptions
// to `es::ec`, the schema migrations and PostgreSQL array literals.
#pragma once

#include <memory>
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

/// Brings the schema up to date (or, with `dry_run`, lists what is pending).
/// With `apply == false` it only verifies that nothing is pending.
result<std::vector<migration_info>>
pg_migrate(pqxx::connection& conn, const postgres_options& opts, bool dry_run,
           bool apply = true);

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

  void remember(const append_plan& plan);

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
  void put(char c);
  void put(std::string_view s);
  void put_json(const json& value);
  void put_json_string(const std::string& s);
  std::string text_ = "{";
};

/// Returns a PostgreSQL array literal of quoted `items`.
std::string pg_array(const std::vector<std::string>& items);

} // namespace es::persistence::detail
