// `--wait`, `--no-wait`, `--timeout`: following a request until a node has
// finished it (projections and dead-letters commands).
#pragma once

#include <chrono>
#include <cstdint>

#include <CLI/CLI.hpp>

#include "output.hpp"
#include "progress.hpp"

namespace es::cli {

/// A queued request no node has taken after this long is reported.
inline constexpr auto pickup_limit = std::chrono::seconds{10};

/// How often a wait looks again.
inline constexpr auto poll_every = std::chrono::milliseconds{100};

struct wait_args {
  bool wait = false;
  bool no_wait = false;
  int64_t timeout = 600; ///< seconds

  /// Returns true when the command waits: --wait, or on a terminal unless
  /// --no-wait.
  bool enabled() const {
    return wait || (progress::on_terminal() && !no_wait);
  }

  std::chrono::seconds limit() const {
    return std::chrono::seconds{timeout};
  }
};

/// Adds --wait, --no-wait and --timeout to `cmd`.
void add_wait_flags(CLI::App* cmd, wait_args& args);

/// Reports that the database or the node (`ctx.node`) could not be opened.
int open_failed(const context& ctx, const es::error& err);

} // namespace es::cli
