// `eventsource snapshots list` and `snapshots delete`.
#include <iostream>

#include "commands.hpp"
#include "es/persistence/postgres_admin.hpp"

namespace es::cli {

namespace {

using namespace es::persistence;

struct snapshot_args {
  std::string type;
  std::string stream;
  int64_t below_schema = 0; ///< 0: all schema versions
};

int list(const context& ctx, const snapshot_args& a) {
  auto admin = postgres_admin::open(ctx.url, connect_options());
  if (!admin)
    return ctx.fail("cannot open the store", admin.error());
  auto snaps = (*admin)->snapshots(a.type, 10'000);
  if (!snaps)
    return ctx.fail("cannot list the snapshots", snaps.error());
  if (ctx.json) {
    auto arr = json::array();
    for (const auto& s : *snaps)
      arr.push_back({{"stream_id", s.stream_id},
                     {"stream_type", s.stream_type},
                     {"version", s.version},
                     {"schema_version", s.schema_version},
                     {"state_bytes", s.state_bytes},
                     {"recorded_at", to_iso8601(s.recorded_at)}});
    std::cout << json{{"snapshots", arr}}.dump() << '\n';
    return exit_ok;
  }
  table t{{"stream_id", "type", "version", "schema_version", "bytes",
           "recorded_at"}};
  for (const auto& s : *snaps)
    t.add({s.stream_id, s.stream_type, std::to_string(s.version),
           std::to_string(s.schema_version), std::to_string(s.state_bytes),
           to_iso8601(s.recorded_at)});
  t.print(std::cout);
  return exit_ok;
}

int remove(const context& ctx, const snapshot_args& a) {
  auto store = postgres_store::open(ctx.url, connect_options());
  if (!store)
    return ctx.fail("cannot open the store", store.error());
  auto n = !a.stream.empty()
             ? (*store)->delete_snapshot(a.stream)
             : a.below_schema > 0
                 ? (*store)->delete_snapshots(
                   a.type, static_cast<int32_t>(a.below_schema))
                 : (*store)->delete_snapshots(a.type);
  if (!n)
    return ctx.fail("cannot delete snapshots", n.error());
  std::cout << "deleted " << *n << (*n == 1 ? " snapshot\n" : " snapshots\n");
  return exit_ok;
}

} // namespace

void add_snapshot_commands(CLI::App& app, context& ctx, action& run) {
  auto a = std::make_shared<snapshot_args>();
  auto* s = app.add_subcommand("snapshots", "List and delete snapshots");
  s->require_subcommand(1);
  auto* l = s->add_subcommand("list", "List snapshots (without their state)");
  l->add_option("--type", a->type, "Only snapshots of this stream type");
  add_json_flag(l, ctx);
  set_example(l, "snapshots list --type account");
  l->callback([&ctx, &run, a] { run = [&ctx, a] { return list(ctx, *a); }; });

  auto* d = s->add_subcommand(
    "delete", "Delete a stream's snapshot, or those of a stream type");
  auto* stream = d->add_option("--stream", a->stream, "This stream's snapshot");
  auto* type = d->add_option("--type", a->type, "The snapshots of this type");
  d->add_option("--below-schema", a->below_schema,
                "Only those with a schema version below this")
    ->check(integer_in(1, INT32_MAX))
    ->needs(type);
  stream->excludes(type);
  d->require_option(1, 2); // --stream or --type, maybe --below-schema
  set_example(d, "snapshots delete --type account --below-schema 3");
  d->callback([&ctx, &run, a] { run = [&ctx, a] { return remove(ctx, *a); }; });
}

} // namespace es::cli
