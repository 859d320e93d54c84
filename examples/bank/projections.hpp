// The bank demo's projections: two read models that follow the accounts'
// events.
//
//   auto totals = std::make_shared<bank::totals>();
//   if (auto err = bank::add_projections(*rt, url, postgres, totals))
//     die(err);
//   ... later: totals->figures().deposits
//
// `bank_balances` is a PostgreSQL table, one row per account, written in the
// transaction that moves the projection's checkpoint (exactly once):
//   bank_balances(account_id text primary key, balance bigint not null,
//                 version bigint not null)
// `bank_totals` counts in memory what happened to all accounts; it starts
// from the first event in every process.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>

#include "account.hpp"
#include "es/error.hpp"
#include "es/projections/projection.hpp"

namespace es {
class runtime;
} // namespace es

namespace pqxx {
class transaction_base;
} // namespace pqxx

namespace bank {

/// The name of the PostgreSQL read model (and of its table).
inline constexpr const char* balances_name = "bank_balances";

/// The name of the in-memory projection.
inline constexpr const char* totals_name = "bank_totals";

/// Creates the table `bank_balances` unless it exists.
void create_read_model(pqxx::transaction_base& tx);

/// Connects to `url`, creates the table unless it exists, disconnects.
/// Errors: `unavailable` (cannot connect, or the statement failed).
[[nodiscard]] es::result<void> create_read_model(const std::string& url);

/// Returns the PostgreSQL read model `bank_balances`: one multi-row upsert
/// per batch; a reset truncates the table.
es::projections::projection balances_projection();

/// What `bank_totals` has counted.
struct totals_figures {
  int64_t opened = 0;
  int64_t closed = 0;
  int64_t deposits = 0;    ///< Number of deposits.
  int64_t deposited = 0;   ///< Their sum.
  int64_t withdrawals = 0; ///< Number of withdrawals.
  int64_t withdrawn = 0;   ///< Their sum.
};

/// Writes e.g. "opened 3, closed 0, deposits 5 (sum 250), withdrawals 2
/// (sum 40)".
std::ostream& operator<<(std::ostream& out, const totals_figures& f);

/// Returns the figures as a JSON object with the members' names.
nlohmann::json totals_json(const totals_figures& f);

/// The counters of `bank_totals`. Thread-safe: the projection's actor adds
/// while `main` reads.
class totals {
public:
  /// Counts `e`.
  void add(const account::event& e);

  /// Sets every counter to 0 (the projection's reset hook).
  void clear();

  /// Returns a consistent copy of the counters.
  totals_figures figures() const;

private:
  mutable std::mutex mtx_;
  totals_figures figures_;
};

/// Returns the in-memory projection `bank_totals`, counting into `out`.
es::projections::projection totals_projection(std::shared_ptr<totals> out);

/// Registers `bank_totals` (counting into `out`) on `rt` and, when
/// `postgres`, `bank_balances` (creating its table on `url` first).
/// Returns the first error, if any.
es::error add_projections(es::runtime& rt, const std::string& url,
                          bool postgres, std::shared_ptr<totals> out);

} // namespace bank
