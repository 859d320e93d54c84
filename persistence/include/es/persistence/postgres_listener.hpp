// Notifications from other processes: every append to a PostgreSQL store
// sends NOTIFY on `<schema>.es_events` with the new head position, and
// `projection_catalog::request` on `<schema>.es_projections` with the
// projection's name (`<schema>` is the store's schema, e.g. "public"; a
// name longer than 48 bytes stands in as its MD5 hex digest, to keep the
// channel within PostgreSQL's 63 bytes).
//
//   auto l = postgres_listener::open(url);
//   while (running) {
//     auto n = (*l)->wait(std::chrono::milliseconds{500});
//     if (!n) { /* connection lost: notifications may be lost; re-read */ }
//     for (auto& x : *n) if (x.channel == l->events_channel()) ...
//   }
//
// One connection of its own (a connection inside a transaction receives
// nothing). Not thread-safe, except `interrupt`: one thread waits on it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "es/persistence/postgres_store.hpp"

namespace es::persistence {

class postgres_listener {
public:
  struct notification {
    std::string channel;
    std::string payload;
  };

  /// Connects to `url` and listens on the events and projections
  /// channels of `opts.schema` (else of the search_path's first schema;
  /// the schema need not be migrated). Errors: `unavailable`.
  [[nodiscard]] static result<std::unique_ptr<postgres_listener>>
  open(const std::string& url, postgres_options opts = {});

  ~postgres_listener();

  /// Returns "<schema>.es_events".
  const std::string& events_channel() const;

  /// Returns "<schema>.es_projections".
  const std::string& projections_channel() const;

  /// Waits up to `timeout` and returns the notifications received, in
  /// order (none when it timed out). Errors: `unavailable` when the
  /// connection is lost; the next call reconnects and listens again.
  /// Notifications sent while disconnected are lost: after an error (or
  /// the first success after one), callers should re-read the store.
  [[nodiscard]] result<std::vector<notification>>
  wait(std::chrono::milliseconds timeout);

  /// Ends the current (or the next) `wait` early, with what it has. The
  /// one call that is safe from another thread: for shutting down.
  void interrupt();

private:
  struct impl;
  explicit postgres_listener(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

} // namespace es::persistence
