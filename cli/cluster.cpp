// `eventsource --node HOST:PORT cluster status`: the members of the
// cluster as that node sees them.
#include <iostream>

#include "commands.hpp"
#include "es/node_client.hpp"
#include "sources.hpp"

namespace es::cli {

namespace {

int cluster_status(const context& ctx) {
  auto node = connect_node(ctx);
  if (!node)
    return ctx.fail("cannot reach node " + ctx.node, node.error());
  auto members = (*node)->members();
  if (!members)
    return ctx.fail("cluster status", members.error());
  if (ctx.json) {
    auto all = json::array();
    for (const auto& m : *members)
      all.push_back({{"address", m.address},
                     {"self", m.self},
                     {"heard_ms_ago", m.heard_ms_ago},
                     {"aggregates", m.aggregates}});
    std::cout << all.dump() << '\n';
    return exit_ok;
  }
  table t{{"MEMBER", "", "HEARD", "AGGREGATES"}};
  for (const auto& m : *members)
    t.add({m.address, m.self ? "(this node)" : "",
           m.self ? "-" : std::to_string(m.heard_ms_ago) + " ms ago",
           std::to_string(m.aggregates)});
  t.print(std::cout);
  return exit_ok;
}

} // namespace

void add_cluster_commands(CLI::App& app, context& ctx, action& run) {
  auto* cluster = app.add_subcommand(
    "cluster", "The cluster of running nodes (needs --node)");
  cluster->require_subcommand(1);
  auto* status = cluster->add_subcommand(
    "status", "List the members as the node sees them");
  add_json_flag(status, ctx);
  set_example(status, "--node 127.0.0.1:4710 cluster status");
  status->callback([&] { run = [&] { return cluster_status(ctx); }; });
}

} // namespace es::cli
