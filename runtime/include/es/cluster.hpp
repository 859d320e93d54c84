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

/// TLS between nodes and their clients (CAF's OpenSSL module): PEM files.
/// Set all three or none; a peer without a certificate signed by `ca` is
/// refused, and so is a peer that does not speak TLS.
struct tls_files {
  std::string certificate; ///< This node's certificate.
  std::string key;         ///< Its private key (not encrypted).
  std::string ca;          ///< The CA that signs every member's certificate.

  bool enabled() const {
    return !certificate.empty() || !key.empty() || !ca.empty();
  }
};

template <class Inspector>
auto inspect(Inspector& f, cluster_member& x) {
  return f(x.address, x.self, x.heard_ms_ago, x.aggregates);
}

} // namespace es
