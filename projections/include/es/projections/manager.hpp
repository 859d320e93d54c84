// The projection manager: one actor per node that runs the node's
// projections, stores their status in the catalog, and applies operators'
// requests (from this process or, through the catalog and NOTIFY, from the
// `eventsource` CLI).
//
//   auto mgr = spawn_manager(sys, cfg);
//   self->request(mgr, timeout, add_projection_msg{def}).then([] {}, ...);
//   self->request(mgr, timeout, status_atom::value).then(
//     [](std::vector<projection_status>& all) { ... });
//   self->request(mgr, timeout, control_msg{"bank_balances",
//                                           projection_op::rebuild});
//
// The runtime wraps all of this (es::runtime::add_projection & co.).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include "es/persistence/postgres_lease.hpp"
#include "es/persistence/postgres_store.hpp"
#include "es/persistence/projection_catalog.hpp"
#include "es/projections/projection.hpp"
#include "es/projections/status.hpp"

namespace es::projections {

using persistence::dead_letter;
using persistence::projection_op;
using persistence::projection_state;

/// How the manager reaches the store and the catalog.
struct manager_config {
  /// The runtime's readers (catch-up pages, head position, single events).
  caf::actor readers;
  std::shared_ptr<persistence::projection_catalog> catalog;
  /// PostgreSQL URL for read models; empty on the memory store.
  std::string database_url;
  /// One node at a time runs a projection: the one holding its lease
  /// ("projection:<name>"); the others stand by and take over when it goes
  /// (checked every poll). Null: this node runs every projection it adds.
  std::shared_ptr<persistence::postgres_lease> leases;
  persistence::postgres_options database;
  /// Give each PostgreSQL read model a thread of its own (it blocks).
  bool detached = true;
  /// The fallback when notifications are lost: re-check the head and the
  /// catalog's requests this often.
  std::chrono::milliseconds poll_interval{1000};
  /// After a notification of new events, wait this long for the event bus
  /// to bring them before reading the store.
  std::chrono::milliseconds wake_delay{20};
};

/// Manager: add a projection and start it. Errors: `invalid_argument`
/// (bad or duplicate name, a PostgreSQL read model without PostgreSQL),
/// `unavailable`.
struct add_projection_msg {
  std::shared_ptr<const projection> def;
};

/// Manager: apply `op` to projection `name`. Errors: `not_found`,
/// `unavailable` (e.g. a reset whose transaction failed).
struct control_msg {
  std::string name;
  projection_op op;
};

template <class Inspector>
auto inspect(Inspector& f, control_msg& x) {
  return f(x.name, x.op);
}

/// Manager, from the listener: the store's head moved to `position`
/// (0: unknown, re-check everything).
struct head_msg {
  int64_t position = 0;
};

// (status_atom) -> std::vector<projection_status>
using status_atom = caf::atom_constant<caf::atom("es_pstat")>;
// (requested_atom, name): the catalog holds a request for `name`.
using requested_atom = caf::atom_constant<caf::atom("es_preq")>;
// (dead_letters_atom, projection) -> std::vector<dead_letter>
using dead_letters_atom = caf::atom_constant<caf::atom("es_dlist")>;
// (redrive_atom, id): run dead letter `id` through its projection again.
using redrive_atom = caf::atom_constant<caf::atom("es_redrv")>;
// (discard_atom, id): delete dead letter `id`.
using discard_atom = caf::atom_constant<caf::atom("es_discrd")>;

/// Spawns the manager (detached when `cfg.detached`: the catalog blocks).
caf::actor spawn_manager(caf::actor_system& sys, manager_config cfg);

} // namespace es::projections

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::projections::add_projection_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::projections::head_msg)
