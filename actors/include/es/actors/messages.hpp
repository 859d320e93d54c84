// The messages between the runtime's actors. All of them stay inside one
// process (they carry shared pointers to avoid copying events); the
// runtime's node actor converts what crosses a node boundary.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#include "es/persistence/event_store.hpp"

namespace es::actors {

using persistence::recorded_event;

/// Committed events, in global position order.
using event_batch = std::vector<recorded_event>;

/// A part of a committed batch: the events of one append.
struct event_slice {
  std::shared_ptr<const event_batch> batch;
  size_t first = 0;
  size_t count = 0;

  const recorded_event* begin() const {
    return batch ? batch->data() + first : nullptr;
  }

  const recorded_event* end() const {
    return begin() + count;
  }

  size_t size() const {
    return count;
  }

  bool empty() const {
    return count == 0;
  }
};

/// Ids that travel from a command into its events' metadata. Every event
/// carries its `command_id`; `correlation_id` and `causation_id` only when
/// they are given here (an event without them was caused by its command,
/// and its conversation is identified by that command's id).
///
///   // a process manager reacting to `e`:
///   rt->execute<shipping>(order, ship{}, es::command_metadata::caused_by(e));
struct command_metadata {
  std::string correlation_id; ///< Empty: not written.
  std::string causation_id;   ///< Empty: not written.

  /// For a command sent in reaction to `cause`: the same correlation as
  /// `cause` (its correlation_id, else its command_id, else its event id),
  /// and `cause`'s event id as the causation.
  static command_metadata caused_by(const recorded_event& cause);
};

/// A command for one aggregate instance; `command` points to the
/// aggregate's `command` type.
struct command_msg {
  std::shared_ptr<const void> command;
  command_metadata metadata;
};

/// The reply to a command: the stream version after it and the events it
/// produced (none when it changed nothing).
struct command_result {
  int64_t version = 0;
  event_slice events;
};

/// Aggregate -> journal: append these events.
struct append_msg {
  persistence::append_request request;
};

/// Journal -> aggregate: the append committed.
struct append_reply {
  persistence::append_result result;
  event_slice events;
};

/// Aggregate -> reader: the latest snapshot (if wanted) and the events
/// after it.
struct recover_msg {
  std::string stream_id;
  bool with_snapshot = false;
};

struct recovered {
  std::optional<persistence::snapshot> snapshot;
  std::vector<recorded_event> events;
};

/// Reader: the events of a stream from a version on.
struct read_stream_msg {
  std::string stream_id;
  int64_t from_version = 1;
};

struct stream_events {
  std::vector<recorded_event> events;
};

/// Reader: store this snapshot (no reply).
struct save_snapshot_msg {
  persistence::snapshot snapshot;
};

/// Reader: a page of the global feed.
struct read_all_msg {
  int64_t after_position = 0;
  size_t limit = 1000;
  persistence::feed_filter filter;
};

/// An aggregate's current state (a copy) and version.
struct state_view {
  std::shared_ptr<const void> state;
  int64_t version = 0;
};

class aggregate_model;

/// Runtime -> its node actor: a command for an aggregate another node owns.
/// Replied to with a `command_result`.
struct routed_command {
  const aggregate_model* model = nullptr;
  std::string id;
  command_msg msg;
};

/// Runtime -> its node actor: the state of an aggregate another node owns.
/// Replied to with a `state_view`.
struct routed_inspect {
  const aggregate_model* model = nullptr;
  std::string id;
};

// Atoms live in our namespace: CAF already has get_atom, ok_atom, ...
using flush_atom = caf::atom_constant<caf::atom("es_flush")>;
using go_atom = caf::atom_constant<caf::atom("es_go")>;
/// Reader: (head_atom) -> int64_t, the store's head position.
using head_atom = caf::atom_constant<caf::atom("es_head")>;
using passivate_atom = caf::atom_constant<caf::atom("es_passiv")>;
using state_atom = caf::atom_constant<caf::atom("es_state")>;
using sweep_atom = caf::atom_constant<caf::atom("es_sweep")>;

} // namespace es::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::event_slice)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const es::actors::event_batch>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::command_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::command_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::append_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::append_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::recover_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::recovered)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::read_stream_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::stream_events)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::save_snapshot_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::read_all_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::persistence::feed_page)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::state_view)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::routed_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::actors::routed_inspect)

// The runtime registers these with its actor system
// (`cfg.add_message_types<caf::id_block::eventsource>()`), which gives
// them names in CAF's diagnostics. They are local-only: what crosses a
// node has serializable forms (runtime/src/wire.hpp).
CAF_BEGIN_TYPE_ID_BLOCK(eventsource, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(eventsource, (es::actors::event_slice))
  CAF_ADD_TYPE_ID(eventsource, (std::shared_ptr<const es::actors::event_batch>))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::command_msg))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::command_result))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::append_msg))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::append_reply))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::recover_msg))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::recovered))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::read_stream_msg))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::stream_events))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::save_snapshot_msg))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::read_all_msg))
  CAF_ADD_TYPE_ID(eventsource, (es::persistence::feed_page))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::state_view))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::routed_command))
  CAF_ADD_TYPE_ID(eventsource, (es::actors::routed_inspect))
CAF_END_TYPE_ID_BLOCK(eventsource)
