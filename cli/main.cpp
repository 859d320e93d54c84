// The `eventsource` admin CLI: migrates the schema, reads streams and the
// global feed, shows and controls projections and dead letters, lists and
// deletes snapshots. Talks to PostgreSQL through es::persistence, or (for
// projections and dead letters, with --node; the cluster, which needs it) to
// a running node over CAF networking.
//
//   eventsource --db postgresql://es@127.0.0.1:5432/es migrate
//   eventsource status --json
//   eventsource events --from 100 --limit 20 --follow
//   eventsource projections rebuild bank_balances --yes
//   eventsource --node 127.0.0.1:4710 projections rebuild bank_balances --yes
//   eventsource --node 127.0.0.1:4710 cluster status
//
// The database comes from --db or ES_DATABASE_URL. Exit codes: 0 done,
// 1 the command failed (one line on stderr), 2 usage.
#include <charconv>
#include <cstdlib>
#include <iostream>

#include "commands.hpp"

namespace es::cli {

CLI::Validator integer_in(int64_t min, int64_t max) {
  auto check = [min, max](std::string& text) -> std::string {
    int64_t value = 0;
    auto end = text.data() + text.size();
    auto [ptr, err] = std::from_chars(text.data(), end, value);
    if (text.empty() || err != std::errc{} || ptr != end)
      return "'" + text + "' is not an integer";
    if (value < min)
      return "'" + text + "' is below " + std::to_string(min);
    if (value > max)
      return "'" + text + "' is above " + std::to_string(max);
    text = std::to_string(value);
    return {};
  };
  auto name = max == INT64_MAX ? "INT>=" + std::to_string(min)
                               : "INT in [" + std::to_string(min) + ", "
                                   + std::to_string(max) + "]";
  return CLI::Validator{check, name};
}

CLI::Validator host_port() {
  auto check = [](std::string& text) -> std::string {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return "'" + text + "' is not HOST:PORT";
    auto port = text.substr(colon + 1);
    int64_t value = 0;
    auto [ptr, err] = std::from_chars(port.data(), port.data() + port.size(),
                                      value);
    if (port.empty() || err != std::errc{} || ptr != port.data() + port.size()
        || value < 1 || value > 65535)
      return "'" + text + "' has no port in [1, 65535]";
    return {};
  };
  return CLI::Validator{check, ""};
}

void add_json_flag(CLI::App* cmd, context& ctx) {
  cmd->add_flag("--json", ctx.json, "Print JSON instead of a table");
}

void set_example(CLI::App* cmd, const std::string& example) {
  cmd->footer("Example:\n  eventsource " + example);
}

es::persistence::postgres_options connect_options() {
  es::persistence::postgres_options opts;
  opts.migrate = false;
  return opts;
}

} // namespace es::cli

int main(int argc, char** argv) {
  using namespace es::cli;
  context ctx;
  action run;
  CLI::App app{"eventsource: administer an event store in PostgreSQL and "
               "the nodes that run on it"};
  app.require_subcommand(1);
  app.fallthrough(); // --db may also follow the subcommand
  app.add_option("--db", ctx.url,
                 "libpq URI or key=value string (default: $ES_DATABASE_URL)");
  app.add_option("--node", ctx.node,
                 "HOST:PORT of a running node: projections and dead-letters "
                 "commands go to it instead of the database; cluster needs it")
    ->type_name("HOST:PORT")
    ->check(host_port());
  app.add_option("--tls-cert", ctx.tls_certificate,
                 "With --node: this client's certificate (PEM), for nodes "
                 "that run TLS");
  app.add_option("--tls-key", ctx.tls_key, "With --node: its private key");
  app.add_option("--tls-ca", ctx.tls_ca,
                 "With --node: the CA that signed the node's certificate");
  set_example(&app, "--db postgresql://es@127.0.0.1:5432/es status");
  add_schema_commands(app, ctx, run);
  add_event_commands(app, ctx, run);
  add_projection_commands(app, ctx, run);
  add_dead_letter_commands(app, ctx, run);
  add_snapshot_commands(app, ctx, run);
  add_cluster_commands(app, ctx, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RequiredError& e) {
    // `eventsource frob` would otherwise only say "A subcommand is required".
    if (app.get_subcommands().empty() && !app.remaining().empty())
      return app.exit(CLI::ExtrasError(app.remaining())) == 0 ? 0 : exit_usage;
    return app.exit(e) == 0 ? 0 : exit_usage;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage; // 0 only for --help
  }
  if (ctx.url.empty()) {
    if (const char* env = std::getenv("ES_DATABASE_URL"))
      ctx.url = env;
  }
  auto command = app.get_subcommands().front()->get_name();
  bool node_command = command == "projections" || command == "dead-letters"
                      || command == "cluster";
  if (!ctx.node.empty() && !node_command) {
    std::cerr << "eventsource: --node applies to the projections, "
                 "dead-letters and cluster commands only; '"
              << command << "' reads the database (--db)\n";
    return exit_usage;
  }
  if (ctx.node.empty() && command == "cluster") {
    std::cerr << "eventsource: cluster asks a running node: pass --node "
                 "HOST:PORT (e.g. --node 127.0.0.1:4710)\n";
    return exit_usage;
  }
  if (ctx.url.empty() && ctx.node.empty()) {
    std::cerr << "eventsource: no database: pass --db URL or set "
                 "ES_DATABASE_URL (e.g. postgresql://es@127.0.0.1:5432/es)\n";
    return exit_usage;
  }
  if (!run) {
    std::cerr << "eventsource: no command given; run 'eventsource --help'\n";
    return exit_usage;
  }
  try {
    return run();
  } catch (const std::exception& ex) {
    return ctx.fail("unexpected error", ex.what());
  }
}
