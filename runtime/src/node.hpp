// A node: the actor a runtime publishes on its port (private to the runtime
// library). It is
// - the admin endpoint of `eventsource --node` (projections, dead letters,
//   members), forwarding to the projection manager;
// - a cluster member: it joins the seed peers, exchanges member lists with
//   heartbeats, removes members that go silent or whose connection drops,
//   and lets members that come back rejoin;
// - the router between nodes: commands for aggregates another member owns
//   go to that member's node actor (as JSON, see wire.hpp) and the reply
//   comes back through here; commands from other members run on this node;
// - the event bus between nodes: what this node's journal publishes on the
//   local group "es.events" goes to every member, which publishes it on its
//   own "es.events" (its projections get it without waiting for
//   PostgreSQL's NOTIFY; a batch that arrives out of order is a gap they
//   re-read from the store).
// A client (runtime_options::via) runs the same actor: it joins no one,
// connects to one node and sends it everything.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/duration.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "es/cluster.hpp"
#include "es/error.hpp"

namespace es::actors {
class aggregate_model;
} // namespace es::actors

namespace es::detail {

// (members_atom) -> std::vector<cluster_member>
using members_atom = caf::atom_constant<caf::atom("es_membrs")>;
// (join_atom, name, members) -> (name, members); an empty name: a client.
using join_atom = caf::atom_constant<caf::atom("es_join")>;
// (heartbeat_atom, name, members, live aggregates), no reply.
using heartbeat_atom = caf::atom_constant<caf::atom("es_heart")>;
// (leave_atom, name) from a member; (leave_atom) from the runtime.
using leave_atom = caf::atom_constant<caf::atom("es_leave")>;
// (start_atom) -> name, from the runtime once the node is published: a
// member starts its heartbeats and joins its seeds (the reply is its own
// name); a client connects to its node (the reply is the node's name).
using start_atom = caf::atom_constant<caf::atom("es_start")>;

/// Registers eventsource's message types and error category with `cfg`.
/// Both ends of a connection must call it (CAF serializes by type name).
void add_types(caf::actor_system_config& cfg);

/// Returns why `tls` cannot be used (some files unset or unreadable), or
/// no error. CAF hangs on a certificate file that does not exist.
es::error check_tls(const tls_files& tls);

/// Loads the middleman and, when `tls` is enabled, CAF's OpenSSL module
/// with those files.
void use_networking(caf::actor_system_config& cfg, const tls_files& tls);

// (probe_atom, host, port, timeout) -> true, or `unavailable` with why.
using probe_atom = caf::atom_constant<caf::atom("es_probe")>;

/// Runs one bounded TCP connect to host:port (spawn it detached): CAF's own
/// connect blocks every other connect for minutes on an address that drops
/// SYNs. Quits after one request.
caf::behavior prober(caf::event_based_actor* self);

/// Splits "host:port" (port 1..65535); false when `address` is not one.
bool split_address(const std::string& address, std::string& host,
                   uint16_t& port);

/// The members and the aggregate types this node hosts: read by the runtime
/// for every command (who owns it), changed by the node actor. Thread-safe.
class cluster_view {
public:
  /// Sets this node's "host:port" (a client has none). Call it before the
  /// node actor starts.
  void set_self(std::string self) {
    self_ = std::move(self);
  }

  const std::string& self() const {
    return self_;
  }

  /// Returns the member owning (type, id); empty when none is known.
  std::string owner(std::string_view type, std::string_view id) const;

  /// Returns true when this node owns (type, id).
  bool owns(std::string_view type, std::string_view id) const {
    return !self_.empty() && owner(type, id) == self_;
  }

  void set_members(std::vector<std::string> members);

  std::vector<std::string> members() const;

  /// Lets other nodes send commands for `model`'s type here.
  void host(const actors::aggregate_model& model);

  /// Returns the hosted model of `type`, or null.
  const actors::aggregate_model* model(const std::string& type) const;

private:
  std::string self_; // set before any other thread reads it
  mutable std::mutex mtx_;
  std::vector<std::string> members_;
  std::unordered_map<std::string, const actors::aggregate_model*> models_;
};

/// What the node actor needs from its runtime.
struct node_config {
  std::shared_ptr<cluster_view> view;
  /// A client joins no one and sends everything to its one seed.
  bool client = false;
  /// Connect to members over TLS (see use_networking).
  bool tls = false;
  /// Members to join and rejoin (a client: the one node it talks to).
  std::vector<std::string> seeds;
  /// The projection manager (a client: none, it asks its node).
  caf::actor manager;
  /// Stream reads for clients.
  caf::actor readers;
  /// The journal, whose batches go to the other members; none: the bus
  /// stays local (memory stores are not shared).
  caf::actor journal;
  /// How long a forwarded request may take.
  caf::duration timeout;
  /// A member silent this long is removed; also bounds a connection
  /// attempt.
  caf::timespan failure_timeout;
  /// Sends to the local instance of (model, id); false when the runtime is
  /// shutting down.
  std::function<bool(const actors::aggregate_model&, const std::string&,
                     const std::function<void(const caf::actor&)>&)>
    dispatch;
  /// Returns the number of live aggregates here.
  std::function<size_t()> live;
  /// Called after the members changed (passivates what moved away).
  std::function<void()> changed;
  /// Lines for the operator: members joining and leaving, peers that
  /// cannot be reached.
  std::function<void(const std::string&)> log;
};

/// Spawns the node actor.
caf::actor spawn_node(caf::actor_system& sys, node_config cfg);

} // namespace es::detail
