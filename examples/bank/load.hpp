// `bank load`: a closed-loop load generator for the account aggregate.
//
//   bank::load_options opts;
//   opts.accounts = 1000;
//   opts.commands = 200000;
//   opts.concurrency = 256;
//   auto report = bank::run_load(*rt, opts);   // blocks until all replied
//   if (!report) die(report.error());
//   bank::print_summary(std::cout, opts, *report);
//
// Opens acct-1..acct-N first (an account that is already open, e.g. in a
// database from an earlier run, counts as opened), then keeps `concurrency`
// random deposits and withdrawals (`withdrawals` percent of them) in flight
// until `commands` have replied.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "es/error.hpp"

namespace es {
class runtime;
} // namespace es

namespace bank {

/// What `run_load` does. Preconditions: accounts >= 1, concurrency >= 1,
/// 0 <= withdrawals <= 100.
struct load_options {
  /// Accounts opened before the measured phase: acct-1..acct-N.
  int64_t accounts = 1000;
  /// Measured deposit/withdraw commands (the opening is not counted).
  int64_t commands = 10000;
  /// Requests kept in flight, in both phases.
  int64_t concurrency = 64;
  /// Percent of the measured commands that are withdrawals, 0..100; the
  /// others are deposits. A withdrawal beyond the balance is rejected and
  /// appends nothing; with 0 every command appends one event.
  int64_t withdrawals = 40;
  /// Seed of the random account, amount and command choice.
  uint64_t seed = 1;
  /// "memory" or "postgresql"; only reported.
  std::string store_kind = "memory";
  /// When set, every acknowledged command of the measured phase is written
  /// there as "ACCOUNT VERSION" (a line each), to check later that none
  /// was lost.
  std::string acks_path;
};

/// What the measured phase produced.
struct load_report {
  int64_t commands_ok = 0;
  int64_t rejected = 0;  ///< A business rule refused (es::ec::rejected).
  int64_t conflicts = 0; ///< Another writer won every retry.
  int64_t errors = 0;    ///< Anything else (unavailable, timeout, ...).
  int64_t events = 0;    ///< Events appended by the accepted commands.
  double seconds = 0;    ///< Wall time of the measured phase.
  int64_t already_open = 0; ///< Accounts open before this run.
  double open_seconds = 0;   ///< Wall time of the opening phase.
  double p50_ms = 0; ///< Per-command latency, send to reply.
  double p99_ms = 0;
  std::string first_error; ///< The first of the `errors`.

  double commands_per_second() const;
  double events_per_second() const;
};

/// Runs both phases on `rt`'s actor system and returns the measured phase's
/// figures. Errors: the first failure to open an account (other than "is
/// already open"), e.g. `unavailable` when the database is down.
[[nodiscard]] es::result<load_report> run_load(es::runtime& rt,
                                               const load_options& opts);

/// Writes the readable summary.
void print_summary(std::ostream& out, const load_options& opts,
                   const load_report& r);

/// Writes the summary as one line of JSON, with the members of `extra`
/// (an object) added.
void print_json(std::ostream& out, const load_options& opts,
                const load_report& r,
                const nlohmann::json& extra = nlohmann::json::object());

} // namespace bank
