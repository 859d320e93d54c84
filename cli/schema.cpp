// `eventsource migrate` and `eventsource status`.
#include <iostream>
#include <map>

#include "commands.hpp"
#include "es/persistence/postgres_admin.hpp"
#include "es/persistence/postgres_catalog.hpp"

namespace es::cli {

namespace {

using namespace es::persistence;

int migrate(const context& ctx, bool dry_run) {
  auto done = postgres_store::migrate(ctx.url, connect_options(), dry_run);
  if (!done)
    return ctx.fail(dry_run ? "cannot check the schema"
                            : "cannot migrate the schema",
                    done.error());
  auto version = postgres_store::schema_version();
  if (ctx.json) {
    auto list = json::array();
    for (const auto& m : *done)
      list.push_back({{"version", m.version}, {"name", m.name}});
    std::cout << json{{dry_run ? "pending" : "applied", list},
                      {"schema_version", version}}
                   .dump()
              << '\n';
    return exit_ok;
  }
  if (done->empty()) {
    std::cout << "schema is up to date (version " << version << ")\n";
    return exit_ok;
  }
  std::cout << (dry_run ? "pending migrations:\n" : "applied migrations:\n");
  table t{{"version", "name"}};
  for (const auto& m : *done)
    t.add({std::to_string(m.version), m.name});
  t.print(std::cout);
  if (dry_run)
    std::cout << "run 'eventsource migrate' to apply them\n";
  else
    std::cout << "schema is up to date (version " << version << ")\n";
  return exit_ok;
}

int status(const context& ctx) {
  auto pending = postgres_store::migrate(ctx.url, connect_options(), true);
  if (!pending)
    return ctx.fail("cannot read the schema version", pending.error());
  if (!pending->empty())
    return ctx.fail("status",
                    "the schema is at version "
                      + std::to_string(pending->front().version - 1)
                      + ", this program needs "
                      + std::to_string(postgres_store::schema_version()),
                    "run 'eventsource migrate'");
  auto admin = postgres_admin::open(ctx.url, connect_options());
  if (!admin)
    return ctx.fail("cannot open the store", admin.error());
  auto counts = (*admin)->counts();
  if (!counts)
    return ctx.fail("cannot count streams and events", counts.error());
  auto catalog = postgres_catalog::open(ctx.url, connect_options());
  if (!catalog)
    return ctx.fail("cannot open the projection catalog", catalog.error());
  auto records = (*catalog)->list();
  if (!records)
    return ctx.fail("cannot list the projections", records.error());
  std::map<std::string, int64_t> by_state;
  for (const auto& r : *records)
    ++by_state[to_string(r.state)];
  auto head = counts->events; // positions are gapless: head == count
  if (ctx.json) {
    std::cout << json{{"schema_version", postgres_store::schema_version()},
                      {"head_position", head},
                      {"streams", counts->streams},
                      {"events", counts->events},
                      {"snapshots", counts->snapshots},
                      {"projections",
                       {{"total", records->size()}, {"by_state", by_state}}}}
                   .dump()
              << '\n';
    return exit_ok;
  }
  table t{{"item", "value"}, false};
  t.add({"schema version", std::to_string(postgres_store::schema_version())});
  t.add({"head position", std::to_string(head)});
  t.add({"streams", std::to_string(counts->streams)});
  t.add({"events", std::to_string(counts->events)});
  t.add({"snapshots", std::to_string(counts->snapshots)});
  t.add({"projections", std::to_string(records->size())});
  for (const auto& [state, n] : by_state)
    t.add({"  " + state, std::to_string(n)});
  t.print(std::cout);
  return exit_ok;
}

} // namespace

void add_schema_commands(CLI::App& app, context& ctx, action& run) {
  auto dry_run = std::make_shared<bool>(false);
  auto* m = app.add_subcommand("migrate", "Create or upgrade the schema");
  m->add_flag("--dry-run", *dry_run, "Only list the pending migrations");
  add_json_flag(m, ctx);
  set_example(m, "--db postgresql://es@127.0.0.1:5432/es migrate --dry-run");
  m->callback([&ctx, &run, dry_run] {
    run = [&ctx, dry_run] { return migrate(ctx, *dry_run); };
  });

  auto* s = app.add_subcommand(
    "status", "Show the schema version, head position, counts and "
              "projections by state");
  add_json_flag(s, ctx);
  set_example(s, "status --json");
  s->callback([&ctx, &run] { run = [&ctx] { return status(ctx); }; });
}

} // namespace es::cli
