// The event store: append with optimistic concurrency, read streams and the
// global feed, keep snapshots and checkpoints. Synchronous by design: it runs
// inside detached actors, the CLI and tests.
//
//   auto store = open_store("memory:");                  // or postgresql://...
//   if (!store) die(store.error());
//   auto r = (*store)->append("acct-1", "account", expected_version::no_stream(),
//                             {make_event(account_opened{"ada"})});
//   if (!r && r.error().code() == ec::conflict) { /* reload, retry */ }
//   auto events = (*store)->read_stream("acct-1");       // versions 1..n
//   auto page = (*store)->read_all(0, 500);              // positions 1..
//
// Idempotency rule. Every event carries a UUID `event_id`, stored at most
// once. An append whose events are all stored already, in the same stream,
// in the same order, at consecutive versions and positions (as one append
// wrote them), is an *exact retry*: it
// succeeds with the original result (`duplicate == true`) without checking
// the expected version again and writes nothing. An append that repeats only
// some of the stored ids, or repeats them elsewhere, fails with `conflict`.
//
// Invariants: versions of a stream are exactly 1..n; global positions are
// exactly 1..N and commit-ordered (whoever sees position p sees all below);
// the events of one append get consecutive versions and positions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "es/error.hpp"
#include "es/persistence/event.hpp"

namespace es::persistence {

/// What an append expects of its stream; a mismatch is `ec::conflict`.
class expected_version {
public:
  enum class kind : uint8_t { exact, any, stream_exists };

  /// The stream's version must be exactly `v` (0 means: no stream yet).
  static expected_version exact(int64_t v) {
    return {kind::exact, v};
  }

  /// Any version, including no stream.
  static expected_version any() {
    return {kind::any, 0};
  }

  /// The stream must not exist yet (the same as `exact(0)`).
  static expected_version no_stream() {
    return {kind::exact, 0};
  }

  /// The stream must have at least one event.
  static expected_version stream_exists() {
    return {kind::stream_exists, 0};
  }

  kind what() const noexcept {
    return kind_;
  }

  /// Returns the version for `kind::exact`, else 0.
  int64_t value() const noexcept {
    return value_;
  }

  /// Returns true when a stream at `current` version satisfies this.
  bool matches(int64_t current) const noexcept;

  /// Returns e.g. "exact 3", "any", "stream_exists".
  std::string to_string() const;

private:
  expected_version(kind k, int64_t v) : kind_(k), value_(v) {
    // nop
  }

  kind kind_;
  int64_t value_;
};

/// One append: events for one stream.
struct append_request {
  std::string stream_id;
  std::string stream_type;
  expected_version expected = expected_version::any();
  std::vector<new_event> events;
};

/// The outcome of a successful append. The events got the versions
/// `version - n + 1 .. version` and the positions `first_position ..
/// last_position`, in order.
struct append_result {
  int64_t version = 0;        ///< The stream's version after the append.
  int64_t first_position = 0; ///< Global position of the first event.
  int64_t last_position = 0;  ///< Global position of the last event.
  time_point recorded_at;     ///< Commit time of the events.
  bool duplicate = false;     ///< An exact retry: nothing was written.
};

/// What `append_and_record` returns.
struct committed_batch {
  /// One per request, in order, as `append_batch` returns them.
  std::vector<result<append_result>> results;
  /// The events the batch wrote (not duplicates, not failed requests), in
  /// position order, shared and immutable: the events of result `r` start at
  /// index `r->first_position - events->front().global_position`.
  std::shared_ptr<const std::vector<recorded_event>> events;
};

/// Which way `read_stream` walks.
enum class direction : uint8_t { forward, backward };

/// Selects events of the global feed; an empty list means "all".
struct feed_filter {
  std::vector<std::string> stream_types;
  std::vector<std::string> event_types;
};

/// One page of the global feed.
struct feed_page {
  std::vector<recorded_event> events;
  /// Pass as `after_position` to read the next page. It can be beyond the
  /// last returned event when a filter skipped events.
  int64_t next_after = 0;
  /// True when the page reached the head position as it was when read.
  bool at_head = false;
};

/// The latest state of one stream, so that recovery can skip old events.
struct snapshot {
  std::string stream_id;
  std::string stream_type;
  int64_t version = 0;        ///< The state includes events 1..version.
  int32_t schema_version = 1; ///< Version of the state's JSON shape.
  json state;
  time_point recorded_at;
};

/// Limits applied to every append; larger inputs are `invalid_argument`.
struct store_limits {
  /// Longest stream id, stream type or event type, in bytes.
  size_t max_name_bytes = 256;
  /// Most events in one append.
  size_t max_events_per_append = 10'000;
  /// Largest payload plus metadata of one event, as encoded JSON (bytes).
  size_t max_event_bytes = 1024 * 1024;
  /// Largest snapshot state, as encoded JSON (bytes).
  size_t max_snapshot_bytes = 16 * 1024 * 1024;
};

/// Returned by reads when the caller wants everything.
inline constexpr size_t unlimited = std::numeric_limits<size_t>::max();

/// The store interface. Implementations: `memory_store`, `postgres_store`.
/// Every call is thread-safe. Arguments are checked here, once, for every
/// implementation; bad ones are `invalid_argument`.
class event_store {
public:
  virtual ~event_store();

  /// Appends `events` to `stream_id` if the stream's version satisfies
  /// `expected`. Errors: `conflict` (version mismatch or partial retry;
  /// nothing written), `invalid_argument`, `unavailable`.
  [[nodiscard]] result<append_result>
  append(std::string stream_id, std::string stream_type,
         expected_version expected, std::vector<new_event> events);

  /// Appends many requests in one transaction, one result per request, in
  /// order. A request that conflicts or is invalid fails alone; the others
  /// commit. Requests see the effects of earlier requests in the batch. When
  /// the database fails, every request gets `unavailable` and none is
  /// written. The journal actor's group commit.
  [[nodiscard]] std::vector<result<append_result>>
  append_batch(const std::vector<append_request>& requests);

  /// `append_batch` that takes the requests and hands back the events it
  /// wrote as recorded events, moving payloads and metadata rather than
  /// copying them. The journal publishes these very events to the bus.
  [[nodiscard]] committed_batch
  append_and_record(std::vector<append_request> requests);

  /// For backward reads: start at the stream's last event.
  static constexpr int64_t latest = std::numeric_limits<int64_t>::max();

  /// Returns up to `max_count` events of `stream_id` starting at
  /// `from_version` (forward: versions >= from, ascending; backward:
  /// versions <= from, descending; pass `latest` for the last n). An unknown
  /// stream reads as empty.
  [[nodiscard]] result<std::vector<recorded_event>>
  read_stream(std::string_view stream_id, int64_t from_version = 1,
              size_t max_count = unlimited,
              direction dir = direction::forward);

  /// Returns the stream's current version; 0 when it does not exist.
  [[nodiscard]] result<int64_t> stream_version(std::string_view stream_id);

  /// Returns up to `limit` (1..10,000) events with positions greater than
  /// `after_position` that match `filter`, in position order.
  [[nodiscard]] result<feed_page>
  read_all(int64_t after_position, size_t limit,
           const feed_filter& filter = {});

  /// Returns the highest committed global position; 0 when empty.
  [[nodiscard]] result<int64_t> head_position();

  /// Stores `s` unless the stream already has a snapshot at the same or a
  /// newer version. Returns true when stored.
  [[nodiscard]] result<bool> save_snapshot(const snapshot& s);

  /// Returns the latest snapshot of `stream_id`, if any.
  [[nodiscard]] result<std::optional<snapshot>>
  load_snapshot(std::string_view stream_id);

  /// Deletes the snapshot of `stream_id`. Returns how many were deleted.
  [[nodiscard]] result<size_t> delete_snapshot(std::string_view stream_id);

  /// Deletes the snapshots of `stream_type` whose schema version is below
  /// `below_schema_version` (all of them by default). Returns the count.
  [[nodiscard]] result<size_t> delete_snapshots(
    std::string_view stream_type,
    int32_t below_schema_version = std::numeric_limits<int32_t>::max());

  /// Returns the position stored under `name`; 0 when none.
  [[nodiscard]] result<int64_t> checkpoint(std::string_view name);

  /// Stores `position` under `name` (overwrites, also with a lower value).
  [[nodiscard]] result<void> checkpoint(std::string_view name,
                                        int64_t position);

  /// Returns the limits this store enforces.
  const store_limits& limits() const noexcept {
    return limits_;
  }

protected:
  explicit event_store(store_limits limits) : limits_(limits) {
    // nop
  }

private:
  // Implementations receive arguments that passed the checks above.
  virtual std::vector<result<append_result>>
  do_append_batch(const std::vector<append_request>& requests) = 0;
  // By default `do_append_batch`, then the written events moved out of the
  // requests; a store that keeps events in memory shares them instead.
  virtual committed_batch
  do_append_and_record(std::vector<append_request>&& requests);
  virtual result<std::vector<recorded_event>>
  do_read_stream(std::string_view stream_id, int64_t from_version,
                 size_t max_count, direction dir)
    = 0;
  virtual result<int64_t> do_stream_version(std::string_view stream_id) = 0;
  virtual result<feed_page> do_read_all(int64_t after_position, size_t limit,
                                        const feed_filter& filter)
    = 0;
  virtual result<int64_t> do_head_position() = 0;
  virtual result<bool> do_save_snapshot(const snapshot& s) = 0;
  virtual result<std::optional<snapshot>>
  do_load_snapshot(std::string_view stream_id) = 0;
  virtual result<size_t> do_delete_snapshot(std::string_view stream_id) = 0;
  virtual result<size_t> do_delete_snapshots(std::string_view stream_type,
                                             int32_t below_schema_version)
    = 0;
  virtual result<int64_t> do_checkpoint(std::string_view name) = 0;
  virtual result<void> do_checkpoint(std::string_view name, int64_t position)
    = 0;

  store_limits limits_;
};

/// Opens a store by URL: "memory:" for a fresh in-memory store, or a
/// PostgreSQL URL ("postgresql://..." or "postgres://...") which connects and
/// migrates the schema. Errors: `invalid_argument` (unknown scheme),
/// `unavailable` (cannot connect).
[[nodiscard]] result<std::unique_ptr<event_store>>
open_store(const std::string& url);

} // namespace es::persistence
