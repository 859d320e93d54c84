// Test support: the stores under test and a throwaway PostgreSQL schema.
//
//   TEST(PostgresStore, Something) {
//     ES_REQUIRE_DATABASE();                 // skips, or fails when CI=true
//     es::test::pg_schema db;                // fresh schema, dropped after
//     auto store = db.open();                // migrated postgres_store
//     db.exec("UPDATE es_events SET ...");   // raw SQL inside the schema
//   }
//
// Catalogs: make_catalog("memory" | "postgres", holder), db.open_catalog().
// Outages: ES_REQUIRE_PG_CONTROL(); control_server("stop"); ...("start").
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "es/persistence/event_store.hpp"
#include "es/persistence/postgres_catalog.hpp"
#include "es/persistence/postgres_store.hpp"
#include "es/persistence/projection_catalog.hpp"

namespace es::test {

/// Returns $ES_DATABASE_URL, or "" when unset.
std::string database_url();

/// Returns true when $CI is "true": database tests fail instead of skipping.
bool in_ci();

/// Waits up to 30 s for `done()` (networking and real threads: the only
/// tests that poll); returns its last value.
template <class F>
bool eventually(F done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return done();
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return true;
}

/// A schema of its own in the test database, created empty and dropped
/// (with everything in it) on destruction.
class pg_schema {
public:
  pg_schema();
  ~pg_schema();
  pg_schema(const pg_schema&) = delete;
  pg_schema& operator=(const pg_schema&) = delete;

  /// Returns the schema's name, e.g. "es_test_1234_5".
  const std::string& name() const {
    return name_;
  }

  /// Returns a store URL for a runtime that works in this schema (libpq
  /// sets the search_path).
  std::string url() const;

  /// Returns options that put a store's tables into this schema.
  persistence::postgres_options options() const;

  /// Opens (and migrates) a postgres_store in this schema; fails the test
  /// on error.
  std::unique_ptr<persistence::postgres_store> open() const;

  /// Opens a postgres_catalog in this schema (migrating it first through a
  /// store); fails the test on error.
  std::unique_ptr<persistence::postgres_catalog> open_catalog() const;

  /// Runs `sql` inside this schema on a connection of its own.
  void exec(const std::string& sql) const;

  /// Runs `sql` inside this schema and returns the first column of its
  /// first row as a number (0 for NULL).
  int64_t query_int(const std::string& sql) const;

private:
  std::string name_;
};

/// Returns a fresh, empty store: kind "memory" or "postgres" (whose schema
/// lives as long as `schema_holder`).
std::unique_ptr<persistence::event_store>
make_store(const std::string& kind, std::unique_ptr<pg_schema>& schema_holder);

/// Returns a fresh, empty projection catalog of kind "memory" or
/// "postgres" (whose schema lives as long as `schema_holder`).
std::unique_ptr<persistence::projection_catalog>
make_catalog(const std::string& kind,
             std::unique_ptr<pg_schema>& schema_holder);

/// Returns true when $ES_PG_CONTROL names the script that stops and starts
/// the test server (scripts/test sets it).
bool can_control_server();

/// Runs `$ES_PG_CONTROL <cmd>` (scripts/pg stop|start); fails the test when
/// it does not succeed.
void control_server(const std::string& cmd);

} // namespace es::test

/// Skips the test without a database ($ES_DATABASE_URL), or fails it under
/// CI=true, where a missing database is a broken set-up.
#define ES_REQUIRE_DATABASE()                                                  \
  do {                                                                         \
    if (::es::test::database_url().empty()) {                                  \
      if (::es::test::in_ci())                                                 \
        FAIL() << "CI=true but ES_DATABASE_URL is not set";                    \
      GTEST_SKIP() << "ES_DATABASE_URL is not set";                            \
    }                                                                          \
  } while (false)

/// Skips the test unless the test server can be stopped and started
/// ($ES_PG_CONTROL), or fails it under CI=true.
#define ES_REQUIRE_PG_CONTROL()                                                \
  do {                                                                         \
    if (!::es::test::can_control_server()) {                                   \
      if (::es::test::in_ci())                                                 \
        FAIL() << "CI=true but ES_PG_CONTROL is not set (use scripts/test)";   \
      GTEST_SKIP() << "needs ES_PG_CONTROL (scripts/test sets it)";            \
    }                                                                          \
  } while (false)
