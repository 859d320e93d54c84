// The journal: one actor per node that owns the store's write side and
// commits appends in groups.
//
//   auto journal = spawn_journal(sys, store, {/*max_batch=*/512}, true);
//   self->request(journal, timeout, append_msg{req}).then(
//     [](append_reply& r) { /* committed: r.result, r.events */ },
//     [](caf::error& e) { /* conflict, invalid_argument, unavailable */ });
//
// Group commit: an append is queued; with nothing else in the mailbox it is
// committed at once, otherwise a flush is scheduled behind what waits, and
// everything that arrived before it is committed in one `append_and_record`
// (at most `max_batch` requests). While that transaction runs, new appends
// queue up for the next one: no timer, no added latency when idle. A
// request that conflicts fails alone. After each commit the journal
// publishes the events the store hands back, as one
// `std::shared_ptr<const event_batch>` (the very batch the memory store
// keeps), to the local group "es.events" and to "es.events.<stream type>"
// (the event bus), to each only while some actor listens there:
//
//   join_bus(self);             // every committed batch
//   join_bus(self, "account");  // the account events of each batch
//
// (A CAF local group relays every message through a hidden broker actor,
// one more message and actor resume per group and commit, even when
// nobody joined: the journal skips groups nobody joined with `join_bus`.)
#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>
#include <caf/group.hpp>

#include "es/persistence/event_store.hpp"

namespace es::actors {

using store_ptr = std::shared_ptr<persistence::event_store>;

struct journal_options {
  /// Most append requests committed in one transaction.
  size_t max_batch = 512;
};

/// Returns the name of the bus group for all events ("es.events").
std::string bus_group();

/// Returns the name of the bus group for one stream type.
std::string bus_group(const std::string& stream_type);

namespace detail {

/// Counts `self` as a listener of the bus group (of `stream_type`, of all
/// events when empty) until it terminates; returns the group.
caf::group count_bus_listener(caf::local_actor* self,
                              const std::string& stream_type);

} // namespace detail

/// Joins `self` (an event-based or blocking actor) to bus group
/// `bus_group()` (or, given a stream type, `bus_group(stream_type)`); it
/// receives `std::shared_ptr<const event_batch>` messages. Join through
/// this function, not `join(group)`: the journal publishes only to groups
/// that an actor joined this way.
template <class Self>
void join_bus(Self* self, const std::string& stream_type = {}) {
  self->join(detail::count_bus_listener(self, stream_type));
}

/// Returns whether an actor that joined `group` through `join_bus` is
/// still running.
bool has_bus_listeners(const caf::group& group);

/// Spawns the journal over `store`; `detached` gives it a thread of its own
/// (it blocks in the store).
caf::actor spawn_journal(caf::actor_system& sys, store_ptr store,
                         journal_options opts, bool detached);

} // namespace es::actors
