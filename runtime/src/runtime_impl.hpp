// The runtime's insides, shared by its source files (private).
#pragma once

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>

#include "es/actors/aggregate_actor.hpp"
#include "es/actors/registry.hpp"
#include "es/persistence/projection_catalog.hpp"
#include "es/projections/notifications.hpp"
#include "es/runtime.hpp"
#include "deadlines.hpp"
#include "node.hpp"

namespace es {

struct runtime::impl {
  runtime_options opts;
  caf::actor_system_config cfg;
  // Destroyed after the system: aggregates call it until they are gone.
  std::unique_ptr<actors::registry> instances;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor journal;
  caf::actor readers;
  caf::actor refuse;
  caf::actor sweeper;
  caf::actor projections;
  caf::actor node; // with networking: see node.hpp
  uint16_t port = 0; // of `node`; 0: not published
  // Who owns which aggregate; null without networking.
  std::shared_ptr<detail::cluster_view> view;
  std::unique_ptr<projections::notification_pump> pump;
  std::shared_ptr<const actors::aggregate_context> ctx;
  // Times commands out (not in deterministic mode, whose clock the tests
  // drive, nor without a timeout).
  std::unique_ptr<detail::deadlines> deadlines;

  // Starts the catalog, the projection manager and (detached, on
  // PostgreSQL) the notification pump.
  caf::error start_projections(bool detached);

  // Spawns the node actor; publishes it on `opts.node_port` (a client:
  // connects to `opts.via`).
  caf::error start_node();

  bool client() const {
    return !opts.via.empty();
  }

  // Stops the actors (the journal commits what it holds first) and the
  // actor system.
  void stop();

  // In deterministic mode nothing runs until someone runs the scheduler.
  void run_pending() {
    if (opts.deterministic)
      dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler()).run();
  }

  // Sends a request from a scoped actor and waits for its reply.
  template <class T, class Send>
  caf::expected<T> ask(Send send) {
    caf::scoped_actor self{*sys};
    auto handle = send(self);
    run_pending();
    caf::expected<T> out{caf::error{}};
    if constexpr (std::is_void_v<T>)
      std::move(handle).receive([&] { out = {}; },
                                [&](caf::error& err) { out = std::move(err); });
    else
      std::move(handle).receive([&](T& x) { out = std::move(x); },
                                [&](caf::error& err) { out = std::move(err); });
    return out;
  }
};

} // namespace es
