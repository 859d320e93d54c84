// Test support: the stores under test and a throwaway PostgreSQL schema.
//
//   TEST(PostgresStore, Something) {
//     ES_REQUIRE_DATABASE();                 // skips, or fails when CI=true
//     es::test::pg_schema db;                // fresh schema, dropped after
//     auto store = db.open();                // migrated postgres_store
//     db.exec("UPDATE es_events SET ...");   // raw SQL inside the schema
//   }
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "es/persistence/event_store.hpp"
#include "es/persistence/postgres_store.hpp"

namespace es::test {

/// Returns $ES_DATABASE_URL, or "" when unset.
std::string database_url();

/// Returns true when $CI is "true": database tests fail instead of skipping.
bool in_ci();

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

  /// Returns options that put a store's tables into this schema.
  persistence::postgres_options options() const;

  /// Opens (and migrates) a postgres_store in this schema; fails the test
  /// on error.
  std::unique_ptr<persistence::postgres_store> open() const;

  /// Runs `sql` inside this schema on a connection of its own.
  void exec(const std::string& sql) const;

private:
  std::string name_;
};

/// Returns a fresh, empty store: kind "memory" or "postgres" (whose schema
/// lives as long as `schema_holder`).
std::unique_ptr<persistence::event_store>
make_store(const std::string& kind, std::unique_ptr<pg_schema>& schema_holder);

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
