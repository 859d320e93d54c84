// Read-only summaries for operators (the `eventsource` CLI): how many
// streams and events there are, which streams and snapshots exist. Queries
// the event store interface does not need, kept apart from it.
//
//   auto admin = postgres_admin::open("postgresql://es@127.0.0.1/es");
//   if (!admin) die(admin.error());
//   auto c = (*admin)->counts();                 // streams, events, snapshots
//   for (auto& s : *(*admin)->streams("account", 100))
//     std::cout << s.stream_id << ' ' << s.version << '\n';
//
// Owns one connection and serializes its calls on it (thread-safe). Needs
// the schema migrated (it does not migrate it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "es/persistence/postgres_store.hpp"

namespace es::persistence {

/// Totals over the whole store.
struct store_counts {
  int64_t streams = 0;
  int64_t events = 0;
  int64_t snapshots = 0;
};

/// One stream: its type, current version and last write.
struct stream_summary {
  std::string stream_id;
  std::string stream_type;
  int64_t version = 0;
  time_point last_recorded_at; ///< Of the stream's newest event.
};

/// One stored snapshot, without its state.
struct snapshot_summary {
  std::string stream_id;
  std::string stream_type;
  int64_t version = 0;
  int32_t schema_version = 1;
  int64_t state_bytes = 0; ///< Size of the state as stored JSON text.
  time_point recorded_at;
};

class postgres_admin {
public:
  /// Connects to `url` and checks the schema. Errors: `unavailable`
  /// (cannot connect), `invalid_argument` (schema not migrated).
  [[nodiscard]] static result<std::unique_ptr<postgres_admin>>
  open(const std::string& url, postgres_options opts = {});

  ~postgres_admin();

  /// Returns the number of streams, events and snapshots.
  [[nodiscard]] result<store_counts> counts();

  /// Returns up to `limit` (1..10,000) streams of `stream_type` (all types
  /// when empty), ordered by stream id.
  [[nodiscard]] result<std::vector<stream_summary>>
  streams(std::string_view stream_type = {}, size_t limit = 100);

  /// Returns up to `limit` (1..10,000) snapshots of `stream_type` (all
  /// types when empty), ordered by stream id.
  [[nodiscard]] result<std::vector<snapshot_summary>>
  snapshots(std::string_view stream_type = {}, size_t limit = 1000);

private:
  struct impl;
  explicit postgres_admin(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

} // namespace es::persistence
