// Talks to a running node's admin actor over CAF networking: what the
// `eventsource --node HOST:PORT` commands use. No CAF in this header.
//
//   auto node = es::node_client::connect("127.0.0.1", 4710);
//   if (!node) die(node.error());                  // unavailable: not there
//   auto all = (*node)->projections();             // as that node sees them
//   auto done = (*node)->control("bank_balances", projection_op::rebuild);
//   auto members = (*node)->members();            // the cluster it sees
//
// A node serves its admin actor when `runtime_options::node_port` is set.
// Every call waits for the node's reply, at most `timeout`. Errors are the
// node's own (`not_found`, `rejected`, ...) or `unavailable` when the node
// cannot be reached or does not answer in time. Not thread-safe: one caller
// at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "es/cluster.hpp"
#include "es/error.hpp"
#include "es/persistence/projection_catalog.hpp"
#include "es/projections/status.hpp"

namespace es {

class node_client {
public:
  /// Connects to the node at `host`:`port` (over TLS with `tls`, as the
  /// node requires). Errors: `unavailable` (nothing listens there, it is
  /// not an eventsource node, or it refused the TLS handshake),
  /// `invalid_argument` (TLS files missing).
  [[nodiscard]] static result<std::unique_ptr<node_client>>
  connect(const std::string& host, uint16_t port,
          std::chrono::milliseconds timeout = std::chrono::seconds{30},
          const tls_files& tls = {});

  ~node_client();

  node_client(const node_client&) = delete;
  node_client& operator=(const node_client&) = delete;

  /// Returns the status of the node's projections, ordered by name.
  [[nodiscard]] result<std::vector<projections::projection_status>>
  projections();

  /// Applies `op` to projection `name` on the node (see runtime::control).
  [[nodiscard]] result<void> control(const std::string& name,
                                     persistence::projection_op op);

  /// Returns the dead letters of `projection` (of all when empty).
  [[nodiscard]] result<std::vector<persistence::dead_letter>>
  dead_letters(const std::string& projection = {});

  /// Runs dead letter `id` through its projection again (see
  /// runtime::redrive). Errors: `not_found`, `rejected` (failed again).
  [[nodiscard]] result<void> redrive(int64_t id);

  /// Deletes dead letter `id`. Errors: `not_found`.
  [[nodiscard]] result<void> discard(int64_t id);

  /// Returns the cluster's members as the node sees them (see
  /// es/cluster.hpp), ordered by address.
  [[nodiscard]] result<std::vector<cluster_member>> members();

private:
  struct impl;

  explicit node_client(std::unique_ptr<impl> ptr);

  std::unique_ptr<impl> impl_;
};

} // namespace es
