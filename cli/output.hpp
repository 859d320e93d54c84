// Output helpers of the `eventsource` CLI: aligned tables, events as JSON,
// ISO 8601 times, and error lines that never show a database password.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "es/error.hpp"
#include "es/persistence/event.hpp"

namespace es::cli {

using json = nlohmann::json;

/// Exit codes.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

/// A table printed with its columns aligned (numbers right-aligned unless
/// `align_numbers` is false, as in field/value lists).
class table {
public:
  explicit table(std::vector<std::string> header, bool align_numbers = true);

  /// Adds a row; it must have as many cells as the header.
  void add(std::vector<std::string> row);

  /// Prints the header and the rows; "(none)" when there are no rows.
  void print(std::ostream& out) const;

private:
  bool align_numbers_;
  std::vector<std::vector<std::string>> rows_;
};

using es::persistence::to_iso8601;

/// Returns the event as the JSON object `--json` prints.
json event_json(const es::persistence::recorded_event& e);

/// Returns `text` with the password of `url` (URI or key=value) masked.
std::string mask_password(std::string text, const std::string& url);

/// Returns `text` on one line (libpq's messages span several).
std::string one_line(std::string text);

/// The database URL and how to report failures: every error goes to stderr
/// as one line, "eventsource: WHAT: REASON; HINT", password masked.
struct context {
  std::string url;
  /// HOST:PORT of a running node (`--node`); empty: the database.
  std::string node;
  /// TLS files for the node (`--tls-cert`, `--tls-key`, `--tls-ca`).
  std::string tls_certificate, tls_key, tls_ca;
  bool json = false;

  /// Prints the error line and returns `exit_failure`.
  int fail(const std::string& what, const std::string& reason,
           const std::string& hint = {}) const;

  /// As above, with the reason from `err` and a hint from its code.
  int fail(const std::string& what, const es::error& err) const;
};

} // namespace es::cli
