// What the benchmark programs that fill a schema of their own share.
//
//   auto url = bench::schema_url(db, "es_bench_x");  // a runtime's store URL
//   bench::fresh_schema(db, "es_bench_x");           // empty, migrated
//   auto start = bench::clock_type::now(); ... bench::seconds_since(start);
#pragma once

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "es/persistence/postgres_store.hpp"

namespace bench {

using clock_type = std::chrono::steady_clock;

// Returns the median of `xs` (the upper one of an even count).
inline double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs.empty() ? 0.0 : xs[xs.size() / 2];
}

inline double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// Returns `db` with libpq's search_path set to `schema`.
inline std::string schema_url(const std::string& db, const std::string& schema) {
  return db + (db.find('?') == std::string::npos ? "?" : "&")
         + "options=-csearch_path%3D" + schema;
}

/// Drops and creates `schema`, then lets the store create its tables there.
inline void fresh_schema(const std::string& db, const std::string& schema) {
  pqxx::connection conn{db};
  pqxx::work tx{conn};
  tx.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  tx.exec("CREATE SCHEMA " + schema);
  tx.commit();
  if (!es::persistence::postgres_store::open(schema_url(db, schema)))
    throw std::runtime_error("cannot open the store in " + schema);
}

} // namespace bench
