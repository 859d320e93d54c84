// Carries PostgreSQL notifications to the projection manager: new events
// written by any process (`<schema>.es_events`) and operator requests from
// the CLI (`<schema>.es_projections`). A thread of its own waits on a
// dedicated connection; after a lost connection it reconnects and tells the
// manager to re-check everything, since notifications sent meanwhile are
// gone (the manager's poll is the last fallback).
//
//   auto pump = notification_pump::start(url, {}, manager);
//   // ... until the runtime stops; the destructor stops the thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <caf/actor.hpp>

#include "es/error.hpp"
#include "es/persistence/postgres_store.hpp"

namespace es::projections {

class notification_pump {
public:
  /// Connects and starts the thread. Errors: `unavailable`.
  [[nodiscard]] static result<std::unique_ptr<notification_pump>>
  start(const std::string& url, persistence::postgres_options opts,
        caf::actor manager);

  /// Stops and joins the thread (within about 200 ms).
  ~notification_pump();

private:
  notification_pump() = default;
  void run();

  struct impl;
  std::unique_ptr<impl> impl_;
  caf::actor manager_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace es::projections
