// What a node knows of its cluster, as `runtime::members()` and
// `node_client::members()` return it. No CAF inside.
//
//   for (const auto& m : *rt->members())
//     std::cout << m.address << (m.self ? " (this node)" : "") << '\n';
//
// Members name each other "host:port" (the node's `node_host` and port). A
// node sends every other member a heartbeat four times per
// `runtime_options::failure_timeout`; a member silent for that long, or
// whose connection drops, is removed, and one that comes back rejoins. Which
// member owns an aggregate: es/placement.hpp.
#pragma once

#include <cstdint>
#include <string>

namespace es {

struct cluster_member {
  std::string address;      ///< "host:port"
  bool self = false;        ///< The node that answered.
  int64_t heard_ms_ago = 0; ///< Since its last heartbeat; 0 for `self`.
  int64_t aggregates = 0;   ///< Live aggregates, as of that heartbeat.
};

template <class Inspector>
auto inspect(Inspector& f, cluster_member& x) {
  return f(x.address, x.self, x.heard_ms_ago, x.aggregates);
}

} // namespace es
