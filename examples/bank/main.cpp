// The `bank` program: drives the account aggregate through es::runtime, one
// command per run (open, deposit, withdraw, close, balance, history), a
// load test (`bank load`, see load.hpp), the projections' status (`bank
// projections`), or a node that serves until stopped (`bank serve`, see
// serve.hpp). `load`, `projections` and `serve` run the projections of
// projections.hpp: bank_totals, and on PostgreSQL bank_balances.
//
//   bank --store postgresql://es@127.0.0.1:54329/es open acct-1 ada
//   bank --store postgresql://es@127.0.0.1:54329/es deposit acct-1 70
//   bank --store postgresql://es@127.0.0.1:54329/es projections
//   bank load --accounts 1000 --commands 200000 --concurrency 256
//   bank --store postgresql://es@127.0.0.1:54329/es serve --node-port 4710
//   bank --store postgresql://... serve --node-port 4711 --peers 127.0.0.1:4710
//   bank --via 127.0.0.1:4711 load --accounts 1000 --commands 20000
//        --concurrency 64            (commands go through that node)
//
// Exit codes: 0 done, 1 the command failed (its reason on stderr; for `load`:
// a command failed for a reason other than a rejection or conflict, or the
// projections did not catch up; for `projections`: one failed or did not
// catch up in time), 2 usage.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "account.hpp"
#include "es/runtime.hpp"
#include "load.hpp"
#include "projections.hpp"
#include "serve.hpp"
#include "watch.hpp"

namespace {

// Accepts a base-10 integer in [min, max] and rewrites it canonically:
// CLI11 alone reads "010" as octal and "-1" as a huge unsigned value.
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
  auto name = max == std::numeric_limits<int64_t>::max()
                ? "INT>=" + std::to_string(min)
                : "INT in " + std::to_string(min) + ".." + std::to_string(max);
  return CLI::Validator{check, name};
}

CLI::Validator integer_at_least(int64_t min) {
  return integer_in(min, std::numeric_limits<int64_t>::max());
}

// Accepts HOST:PORT with a port in 1..65535.
CLI::Validator host_port() {
  auto check = [](std::string& text) -> std::string {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return "'" + text + "' is not HOST:PORT";
    auto port = text.substr(colon + 1);
    int64_t n = 0;
    auto end = port.data() + port.size();
    auto [ptr, err] = std::from_chars(port.data(), end, n);
    if (port.empty() || err != std::errc{} || ptr != end || n < 1
        || n > 65535)
      return "'" + text + "' has no port in 1..65535";
    return {};
  };
  return CLI::Validator{check, "HOST:PORT"};
}

// Returns `text` with the password of `url` (if any) masked.
std::string redact(std::string text, const std::string& url) {
  auto scheme = url.find("://");
  auto at = url.find('@');
  auto colon = url.find(':', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos || colon > at)
    return text;
  auto password = url.substr(colon + 1, at - colon - 1);
  if (password.empty())
    return text;
  for (auto pos = text.find(password); pos != std::string::npos;
       pos = text.find(password, pos + 3))
    text.replace(pos, password.size(), "***");
  return text;
}

std::string store_kind(const std::string& url) {
  return url.rfind("memory", 0) == 0 ? "memory" : "postgresql";
}

// Returns `text` on one line (libpq's messages span several).
std::string one_line(std::string text) {
  for (auto& c : text)
    if (c == '\n' || c == '\t')
      c = ' ';
  for (auto pos = text.find("  "); pos != std::string::npos;
       pos = text.find("  ", pos))
    text.erase(pos, 1);
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text;
}

int fail(const std::string& what, const es::error& err) {
  std::cerr << "bank: " << what << ": " << one_line(err.to_string()) << '\n';
  return 1;
}

int no_such_account(const std::string& id) {
  std::cerr << "bank: " << id << ": no such account\n";
  return 1;
}

int execute(es::runtime& rt, const std::string& verb, const std::string& id,
            bank::account::command cmd) {
  auto r = rt.execute<bank::account>(id, std::move(cmd));
  if (!r)
    return fail(verb + " " + id, es::actors::from_caf(r.error()));
  std::cout << id << ": version " << r->version << '\n';
  return 0;
}

int balance(es::runtime& rt, const std::string& id) {
  auto view = rt.inspect<bank::account>(id);
  if (!view)
    return fail("balance " + id, es::actors::from_caf(view.error()));
  if (view->version == 0 || !view->state.opened)
    return no_such_account(id);
  std::cout << id << ": balance " << view->state.balance << ", version "
            << view->version << (view->state.closed ? ", closed" : "")
            << '\n';
  return 0;
}

int history(es::runtime& rt, const std::string& id) {
  auto events = rt.read_stream(id);
  if (!events)
    return fail("history " + id, es::actors::from_caf(events.error()));
  if (events->empty())
    return no_such_account(id);
  for (const auto& e : *events)
    std::cout << e.version << ' ' << es::persistence::to_iso8601(e.recorded_at) << ' '
              << e.event_type << ' ' << e.payload.dump() << '\n';
  return 0;
}

// What the command line asks for.
struct arguments {
  std::string store = "memory:";
  std::string id;
  std::string owner;
  int64_t amount = 0;
  bank::load_options load;
  bool json = false;
  int64_t timeout_ms = 30'000;
  std::string scheduler = "sharing";
  int64_t wait_seconds = 10;      ///< bank projections
  int64_t load_wait_seconds = 60; ///< bank load, after the last command
  bool no_projections = false;    ///< bank load: the write side alone
  int64_t node_port = 0;          ///< bank serve; 0: any free port
  std::vector<std::string> peers; ///< bank serve
  int64_t failure_timeout_ms = 3000; ///< bank serve
  std::string via;                ///< a client of this node
  es::tls_files tls;              ///< serve and --via
};

// Runs the load while sampling the projections' lag, then waits for them.
int load(es::runtime& rt, const bank::totals& totals,
         const arguments& args) {
  const auto& opts = args.load;
  bank::lag_sampler sampler{rt};
  auto report = bank::run_load(rt, opts);
  bank::load_lag lag;
  lag.max = sampler.stop();
  if (!report)
    return fail("load", report.error());
  lag.catch_up = bank::wait_for_projections(
    rt, std::chrono::seconds{args.load_wait_seconds});
  auto figures = totals.figures();
  bank::print_summary(std::cout, opts, *report);
  bank::print_lag(std::cout, lag);
  // Through a node, bank_totals counts in that node's memory, not here.
  bool local = args.via.empty();
  if (local)
    std::cout << "  totals:     " << figures << '\n';
  if (args.json) {
    nlohmann::json extra{{"projections", bank::lag_json(lag)}};
    if (local)
      extra[bank::totals_name] = bank::totals_json(figures);
    else
      extra["via"] = args.via;
    bank::print_json(std::cout, opts, *report, extra);
  }
  std::cout.flush();
  if (report->errors > 0) {
    std::cerr << "bank: load: " << report->errors << " of " << opts.commands
              << " commands failed, the first with: "
              << one_line(report->first_error) << '\n';
    return 1;
  }
  if (!lag.catch_up.problem.empty()) {
    std::cerr << "bank: load: projections: "
              << one_line(redact(lag.catch_up.problem, args.store)) << '\n';
    return 1;
  }
  return 0;
}

// Waits for the projections, then prints their status and bank_totals.
int show_projections(es::runtime& rt, const bank::totals& totals,
                     const arguments& args) {
  auto w = bank::wait_for_projections(rt,
                                      std::chrono::seconds{args.wait_seconds});
  bank::print_projections(std::cout, w.statuses);
  if (args.via.empty())
    std::cout << bank::totals_name << ": " << totals.figures() << '\n';
  std::cout.flush();
  if (w.problem.empty())
    return 0;
  std::cerr << "bank: projections: " << one_line(redact(w.problem, args.store))
            << '\n';
  return 1;
}

void add_account_commands(CLI::App& app, arguments& args) {
  auto with_id = [&](const char* name, const char* what) {
    auto* cmd = app.add_subcommand(name, what);
    cmd->add_option("ID", args.id, "The account, e.g. acct-1")->required();
    return cmd;
  };
  auto with_amount = [&](CLI::App* cmd) {
    cmd->add_option("AMOUNT", args.amount, "A positive integer")
      ->required()
      ->check(integer_at_least(1));
  };
  with_id("open", "Open an account")
    ->add_option("OWNER", args.owner)
    ->required();
  with_amount(with_id("deposit", "Deposit into an account"));
  with_amount(with_id("withdraw", "Withdraw from an account"));
  with_id("close", "Close an account (its balance must be 0)");
  with_id("balance", "Print an account's balance and version");
  with_id("history", "Print an account's events");
}

void add_load_command(CLI::App& app, arguments& args) {
  auto* cmd = app.add_subcommand("load", "Run random deposits and withdrawals");
  auto& lo = args.load;
  // The last of a repeated option wins (scripts/demo passes overrides on).
  auto number = [&](const char* name, int64_t& value, int64_t min,
                    const char* what) {
    return cmd->add_option(name, value, what)
      ->check(integer_at_least(min))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  };
  number("--accounts", lo.accounts, 1, "Accounts acct-1..acct-N")->required();
  number("--commands", lo.commands, 0, "Measured commands")->required();
  number("--concurrency", lo.concurrency, 1, "Commands in flight")
    ->required();
  cmd
    ->add_option("--withdrawals", lo.withdrawals,
                 "Percent of the measured commands that withdraw (the others "
                 "deposit); 0 makes every command append one event")
    ->check(integer_in(0, 100))
    ->capture_default_str()
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("--seed", lo.seed, "Random seed")
    ->capture_default_str()
    ->check(integer_at_least(0))
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_flag("--json", args.json, "Also print the figures as one JSON line");
  cmd->add_option("--acks", lo.acks_path,
                  "Write each acknowledged command there as \"ACCOUNT "
                  "VERSION\"");
  cmd->add_option("--wait-seconds", args.load_wait_seconds,
                  "How long to wait for the projections after the load")
    ->capture_default_str()
    ->check(integer_at_least(0))
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_flag("--no-projections", args.no_projections,
                "Run no projections: measure the write side alone");
}

void add_projections_command(CLI::App& app, arguments& args) {
  auto* cmd = app.add_subcommand(
    "projections",
    "Wait until the projections are live and caught up; print their status");
  cmd->add_option("--wait-seconds", args.wait_seconds,
                  "How long to wait; exit 1 when they are still behind")
    ->capture_default_str()
    ->check(integer_at_least(0))
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

void add_serve_command(CLI::App& app, arguments& args) {
  auto* cmd = app.add_subcommand(
    "serve", "Run a cluster node with the accounts and projections until "
             "SIGINT or SIGTERM; `eventsource --node` and `bank --via` talk "
             "to it");
  cmd->add_option("--node-port,--admin-port", args.node_port,
                  "TCP port on 127.0.0.1; 0 picks a free one (printed)")
    ->capture_default_str()
    ->check(CLI::Range(0, 65535));
  cmd->add_option("--peers", args.peers,
                  "Members to join, HOST:PORT[,HOST:PORT...]")
    ->delimiter(',')
    ->check(host_port());
  cmd->add_option("--failure-timeout-ms", args.failure_timeout_ms,
                  "A member silent this long is removed")
    ->capture_default_str()
    ->check(integer_at_least(100));
}

int run(es::runtime& rt, const bank::totals& totals,
        const std::string& command, arguments& args) {
  const auto& id = args.id;
  if (command == "open")
    return execute(rt, command, id, bank::open_account{args.owner});
  if (command == "deposit")
    return execute(rt, command, id, bank::deposit{args.amount});
  if (command == "withdraw")
    return execute(rt, command, id, bank::withdraw{args.amount});
  if (command == "close")
    return execute(rt, command, id, bank::close_account{});
  if (command == "balance")
    return balance(rt, id);
  if (command == "history")
    return history(rt, id);
  if (command == "projections")
    return show_projections(rt, totals, args);
  if (command == "serve")
    return bank::serve(rt, std::cout);
  args.load.store_kind
    = args.via.empty() ? store_kind(args.store) : "via " + args.via;
  return load(rt, totals, args);
}

} // namespace

int main(int argc, char** argv) {
  arguments args;
  CLI::App app{"bank: an event-sourced bank account (es::runtime demo)"};
  app.require_subcommand(1);
  app.fallthrough(); // --store may also follow the subcommand
  app.add_option("--store", args.store,
                 "memory: (nothing persists) or postgresql://user@host:port/db")
    ->capture_default_str();
  app.add_option("--via", args.via,
                 "Send every command through the node at HOST:PORT (a "
                 "`bank serve`) instead of hosting the accounts here")
    ->check(host_port());
  app.add_option("--tls-cert", args.tls.certificate,
                 "TLS between nodes (serve, --via): this node's certificate");
  app.add_option("--tls-key", args.tls.key, "Its private key (PEM)");
  app.add_option("--tls-ca", args.tls.ca,
                 "The CA every member's certificate is signed by; peers "
                 "without one are refused");
  app.add_option("--timeout-ms", args.timeout_ms,
                 "How long a command may take; 0: no limit")
    ->capture_default_str()
    ->check(integer_at_least(0));
  app.add_option("--scheduler", args.scheduler,
                 "How CAF's threads share the ready actors")
    ->capture_default_str()
    ->check(CLI::IsMember({"sharing", "stealing"}));
  add_account_commands(app, args);
  add_load_command(app, args);
  add_projections_command(app, args);
  add_serve_command(app, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RequiredError& e) {
    // `bank frob` would otherwise only say "A subcommand is required".
    if (app.get_subcommands().empty() && !app.remaining().empty())
      return app.exit(CLI::ExtrasError(app.remaining())) == 0 ? 0 : 2;
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2; // 0 only for --help
  }

  auto command = app.get_subcommands().front()->get_name();
  if (!args.via.empty() && command == "serve") {
    std::cerr << "bank: serve runs a node: --via is for the other commands\n";
    return 2;
  }
  // CAF never sees argv: the runtime configures the actor system itself.
  es::runtime_options opts;
  opts.store_url = args.store;
  opts.request_timeout = std::chrono::milliseconds{args.timeout_ms};
  opts.scheduler = args.scheduler == "stealing"
                     ? es::scheduler_policy::stealing
                     : es::scheduler_policy::sharing;
  opts.via = args.via;
  if (command == "serve" || !args.via.empty())
    opts.tls = args.tls;
  if (command == "serve") {
    bank::block_stop_signals(); // before the runtime starts its threads
    opts.node_port = static_cast<uint16_t>(args.node_port);
    opts.peers = args.peers;
    opts.failure_timeout = std::chrono::milliseconds{args.failure_timeout_ms};
    opts.cluster_log = [](const std::string& line) {
      std::cout << "node: " << line << std::endl;
    };
  }
  auto rt = es::runtime::start(opts);
  if (!rt) {
    auto err = es::actors::from_caf(rt.error()).to_string();
    std::cerr << "bank: cannot start: " << one_line(redact(err, args.store))
              << '\n';
    return 1;
  }
  // Other members and clients may send account commands here.
  (*rt)->host<bank::account>();
  auto totals = std::make_shared<bank::totals>();
  bool postgres = store_kind(args.store) == "postgresql";
  // Only the commands that watch the projections run them: a single
  // command should not read the whole feed (bank_totals lives in memory).
  // Through a node, the nodes run them.
  bool watches
    = (command == "load" && !args.no_projections) || command == "projections"
      || command == "serve";
  if (watches && args.via.empty()) {
    if (auto err = bank::add_projections(**rt, args.store, postgres, totals)) {
      std::cerr << "bank: cannot start: "
                << one_line(redact(err.to_string(), args.store)) << '\n';
      return 1;
    }
  }
  return run(**rt, *totals, command, args);
}
