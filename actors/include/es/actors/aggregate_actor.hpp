// The persistent actor: one per aggregate instance. Recovery in phases
// (snapshot -> replay -> running), then one command at a time:
// execute -> append (expected version) -> apply -> reply.
//
//   auto a = spawn_aggregate(sys, ctx, model_of<account>(), "acct-1", false);
//   self->request(a, timeout, command_msg{cmd, {}}).then(
//     [](command_result& r) { /* r.version, r.events */ },
//     [](caf::error& e) { /* rejected, conflict, unavailable, ... */ });
//
// Commands that arrive while it recovers or waits for the journal stay in
// its mailbox, in order. A rejection changes nothing. A conflict (another
// writer) makes it read the new events and run the command again, at most
// `max_conflict_retries` times. An unavailable journal fails the command
// and leaves the state as it was. Snapshots follow the policy and are
// written by a reader, without waiting. A failed recovery answers the
// commands that queued with its error and passivates, so that the next
// command recovers afresh.
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/duration.hpp>

#include "es/aggregate.hpp"

namespace es::actors {

class aggregate_model;
class registry;

/// What every aggregate actor of a runtime shares.
struct aggregate_context {
  caf::actor journal;
  caf::actor readers;
  registry* instances = nullptr;
  snapshot_policy snapshots = snapshot_policy::never();
  int max_conflict_retries = 3;
  /// For reads (caf::infinite: no limit).
  caf::duration timeout = caf::duration{std::chrono::seconds{30}};
};

/// Spawns the actor for aggregate `id` of `model`'s type. A `waiting` one
/// starts recovering only on `go_atom` (a successor during passivation).
caf::actor spawn_aggregate(caf::actor_system& sys,
                           std::shared_ptr<const aggregate_context> ctx,
                           const aggregate_model& model, std::string id,
                           bool waiting);

} // namespace es::actors
