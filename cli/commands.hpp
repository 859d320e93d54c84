// The command groups of the `eventsource` CLI. Each `add_*` function
// declares its subcommands on `app`; when one is chosen, parsing stores
// what to run in `run` (main calls it once the database URL is known).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "es/persistence/postgres_store.hpp"
#include "output.hpp"

namespace es::cli {

/// What the chosen subcommand does; returns the exit code.
using action = std::function<int()>;

/// Accepts a base-10 integer in [min, max] and rewrites it canonically:
/// CLI11 alone reads "010" as octal and "-1" as a huge unsigned value.
CLI::Validator integer_in(int64_t min, int64_t max = INT64_MAX);

/// Accepts "HOST:PORT" with a port in [1, 65535].
CLI::Validator host_port();

/// Adds "--json" to `cmd`, setting `ctx.json`.
void add_json_flag(CLI::App* cmd, context& ctx);

/// Sets the footer of `cmd` to "Example:\n  eventsource " + `example`.
void set_example(CLI::App* cmd, const std::string& example);

/// Returns the connection options of every command (does not migrate).
es::persistence::postgres_options connect_options();

/// migrate, status
void add_schema_commands(CLI::App& app, context& ctx, action& run);

/// events, streams show, streams list
void add_event_commands(CLI::App& app, context& ctx, action& run);

/// projections ...
void add_projection_commands(CLI::App& app, context& ctx, action& run);

/// dead-letters list, retry, discard
void add_dead_letter_commands(CLI::App& app, context& ctx, action& run);

/// cluster status (needs --node)
void add_cluster_commands(CLI::App& app, context& ctx, action& run);

/// snapshots list, snapshots delete
void add_snapshot_commands(CLI::App& app, context& ctx, action& run);

/// The `events --follow` loop (follow.cpp): prints events after `after`
/// matching `filter` as they are appended, until SIGINT or SIGTERM.
int follow_events(const context& ctx, es::persistence::event_store& store,
                  int64_t after, const es::persistence::feed_filter& filter,
                  const std::function<void(
                    const es::persistence::recorded_event&)>& print);

} // namespace es::cli
