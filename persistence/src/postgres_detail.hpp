// Private helpers of postgres_store: connecting, mapping libpqxx exceptions
// to `es::ec`, the schema migrations and PostgreSQL array literals.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <pqxx/pqxx>

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

/// Returns the highest migration version this program knows.
int pg_schema_version();

/// Returns a PostgreSQL array literal ("{\"a\",\"b\"}") of `items`.
std::string pg_array(const std::vector<std::string>& items);

} // namespace es::persistence::detail
