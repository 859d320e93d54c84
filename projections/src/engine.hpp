// The projection actor's state and the functions its two source files
// share (private): feed.cpp brings events in order, projection_actor.cpp
// hands them to the handler.
//
// The actor keeps a queue of chunks: runs of events in position order, each
// with the position its checkpoint reaches once the chunk is handled (a page
// read with a filter covers more positions than it holds events). The queue
// always continues the checkpoint without a hole: a bus batch that does not
// continue it is dropped and the store is read instead. Gapless global
// positions make that exact: nothing is skipped, nothing handled twice.
#pragma once

#include <deque>
#include <map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "es/actors/messages.hpp"
#include "protocol.hpp"
#include "rate_meter.hpp"

namespace es::projections::detail {

using actors::event_batch;
using persistence::postgres_read_model;
using batch_ptr = std::shared_ptr<const event_batch>;

// Reads ask for this many events; the queue stops reading beyond `high`.
// Without a filter, pages are ranges of positions known in advance (they
// are gapless), so two reads run at once: one parses while the database
// answers the other.
constexpr size_t page_size = 1000;
constexpr size_t high_water = 20'000;
constexpr int parallel_reads = 2;

struct chunk {
  batch_ptr events;
  size_t next = 0;  // first event not yet handled
  int64_t last = 0; // the checkpoint once the chunk is handled
};

struct engine {
  std::shared_ptr<const projection> def;
  caf::actor readers;
  caf::actor manager;
  std::shared_ptr<postgres_read_model> read_model;
  std::chrono::milliseconds wake_delay{20};

  projection_state phase = projection_state::starting;
  int64_t checkpoint = 0; // every event up to here is handled
  int64_t stored = 0;     // the checkpoint as stored (PostgreSQL kind)
  int64_t reported = 0;   // the checkpoint last sent to the manager
  std::chrono::steady_clock::time_point reported_at; // and when
  std::deque<chunk> queue;
  size_t queued = 0;

  int reading = 0;           // reads on their way
  int64_t read_cursor = 0;   // where the next parallel read starts
  std::map<int64_t, persistence::feed_page> arrived; // by `after`, unused yet
  bool need_read = true;
  bool gap_while_reading = false;
  uint64_t epoch = 0; // a new one drops the pages of older reads
  uint64_t timers = 0; // a new one ignores older retry timers
  bool work_scheduled = false;
  bool check_scheduled = false;
  int64_t head_hint = 0;

  // Failures: the event at the front of the queue.
  int attempts = 0;
  bool waiting = false;      // for a retry timer
  int64_t single_until = 0;  // one event per transaction up to here
  std::string last_error;
  int64_t error_position = 0;

  rate_meter rate;

  static inline const char* name = "es.projection";

  // Nothing to read and nothing queued: a catching-up projection is live
  // (not before its queue is handled: status would show it live behind).
  bool caught_up() const {
    return !need_read && reading == 0 && queue.empty();
  }

  bool halted() const {
    return phase == projection_state::paused
           || phase == projection_state::failed;
  }

  bool in_memory() const {
    return def->what() == projection::kind::in_memory;
  }

  int64_t queue_end() const {
    return queue.empty() ? checkpoint : queue.back().last;
  }

  void push(batch_ptr events, size_t next, int64_t last) {
    queued += events->size() - next;
    queue.push_back(chunk{std::move(events), next, last});
  }

  // Drops what is handled: every event up to `checkpoint`.
  void consume() {
    while (!queue.empty()) {
      auto& c = queue.front();
      while (c.next < c.events->size()
             && (*c.events)[c.next].global_position <= checkpoint) {
        ++c.next;
        --queued;
      }
      if (c.next < c.events->size() || c.last > checkpoint)
        return;
      queue.pop_front();
    }
  }

  // Forgets every read on its way and every page not used yet.
  void drop_reads() {
    ++epoch;
    reading = 0;
    arrived.clear();
  }

  void clear() {
    queue.clear();
    queued = 0;
    drop_reads();
    need_read = true;
    gap_while_reading = false;
    attempts = 0;
    waiting = false;
    ++timers;
    single_until = 0;
  }
};

using projection_actor = caf::stateful_actor<engine>;

/// How long to wait before trying again while the database is away.
inline std::chrono::milliseconds outage_pause(const projection_options& o) {
  return std::max(o.max_backoff / 10, std::chrono::milliseconds{10});
}

/// Waits `delay`, then tries the queue's front again (ignored when a
/// reset or rebuild came first).
void retry_after(projection_actor* self, std::chrono::milliseconds delay);

/// Sends the state (and the in-memory kind's checkpoint) to the manager.
void report(projection_actor* self);

/// Moves to phase `s` and reports it.
void set_phase(projection_actor* self, projection_state s);

/// Queues a `work_atom` unless one is queued or nothing can be done.
void schedule_work(projection_actor* self);

/// Handles the next batch of queued events (the `work_atom` handler).
void work(projection_actor* self);

/// Starts the reads the queue needs (when it needs any).
void maybe_read(projection_actor* self);

/// Handles a batch from the event bus.
void on_bus(projection_actor* self, const batch_ptr& batch);

/// Handles news of the head (0: unknown, read now).
void on_head(projection_actor* self, int64_t head);

/// The next events to handle: at most `limit` that pass the filter, and
/// the checkpoint reached once they are handled.
struct selection {
  event_refs events;
  int64_t reaches = 0;
};

selection select(const engine& st, size_t limit);

} // namespace es::projections::detail
