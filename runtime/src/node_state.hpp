// The node actor's state and its membership side (membership.cpp), shared
// by the files of the node actor (private). node.cpp holds its behavior and
// the routing of commands.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>

#include "node.hpp"

namespace es::detail {

using tick_atom = caf::atom_constant<caf::atom("es_tick")>;
using steady = std::chrono::steady_clock;

struct peer {
  caf::actor handle;
  steady::time_point heard;
  int64_t aggregates = 0;
};

// A request forwarded to a member, until its reply: when the member goes
// away first, `fail` answers the caller at once.
struct pending_call {
  std::string member;
  std::function<void(caf::error)> fail;
};

struct node_state {
  node_config cfg;
  bool client = false; ///< No name: joins no one, talks to one node.
  bool leaving = false;
  std::map<std::string, peer> peers; ///< The other members, by name.
  std::set<std::string> connecting;  ///< Addresses being connected to.
  std::map<std::string, std::string> seed_names; ///< Seed -> member name.
  std::map<std::string, std::string> last_error; ///< Per address, logged.
  /// Seeds that failed: when to dial again, and the delay after that (it
  /// doubles up to 10 s, so that a peer that refuses us is not hammered).
  std::map<std::string, std::pair<steady::time_point, caf::timespan>> backoff;
  std::map<uint64_t, pending_call> pending;
  uint64_t next_call = 0;

  static inline const char* name = "es.node";

  const std::string& self_name() const {
    return cfg.view->self();
  }

  std::vector<std::string> member_names() const {
    std::vector<std::string> out;
    if (!client)
      out.push_back(self_name());
    for (const auto& kv : peers)
      out.push_back(kv.first);
    return out;
  }

  void log(const std::string& line) {
    if (cfg.log)
      cfg.log(line);
  }

  // Logs a failure to reach `address` once, until it changes.
  void unreachable(const std::string& address, const std::string& why) {
    auto& last = last_error[address];
    if (last != why)
      log("cannot reach " + address + ": " + why);
    last = why;
  }
};

using node_actor = caf::stateful_actor<node_state>;

// -- membership (membership.cpp) -----------------------------------------------

/// Publishes the member list to the cluster view.
void members_changed(node_actor* self);

/// Adds (or refreshes) member `name` and monitors it.
void add_peer(node_actor* self, const std::string& name, caf::actor handle);

/// Removes member `name` (by value: callers pass keys of `peers`) and fails
/// the calls still waiting for it.
void remove_peer(node_actor* self, std::string name, const std::string& why);

/// Connects to every member in `names` this node does not know yet.
void learn(node_actor* self, const std::vector<std::string>& names);

/// Probes, connects and joins `address` (a client: asks the node its name),
/// then adds the member; `done` hears how it ended.
void dial(node_actor* self, const std::string& address,
          std::function<void(const caf::error&)> done = {});

/// Heartbeats, removes silent members, redials seeds; then schedules itself.
void tick(node_actor* self);

} // namespace es::detail
