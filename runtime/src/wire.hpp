// The forms in which commands, replies and events cross between nodes
// (private to the runtime library). Inside a process the actors share
// pointers; across nodes everything is copied, JSON as text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "es/error.hpp"
#include "es/persistence/event.hpp"

namespace es::detail {

/// A recorded event; `payload` and `metadata` as JSON text.
struct wire_event {
  int64_t global_position = 0;
  persistence::uuid event_id;
  std::string stream_id;
  std::string stream_type;
  int64_t version = 0;
  std::string event_type;
  int32_t schema_version = 1;
  std::string payload;
  std::string metadata;
  int64_t recorded_at_ns = 0; ///< Since the epoch.
};

template <class Inspector>
auto inspect(Inspector& f, wire_event& x) {
  return f(x.global_position, x.event_id, x.stream_id, x.stream_type,
           x.version, x.event_type, x.schema_version, x.payload, x.metadata,
           x.recorded_at_ns);
}

wire_event to_wire(const persistence::recorded_event& e);

/// Errors: `corrupt_event` (the JSON does not parse).
result<persistence::recorded_event> from_wire(const wire_event& e);

/// Events a member committed, for the other members' event bus (the fast
/// path to their projections; the store stays the truth).
struct wire_batch {
  std::vector<wire_event> events;
};

template <class Inspector>
auto inspect(Inspector& f, wire_batch& x) {
  return f(x.events);
}

/// A command for aggregate `id` of type `type`: the model's
/// `encode_command` JSON as text. Replied to with a `wire_result`. From a
/// client it goes on to the member that owns the aggregate; from a member
/// (`routed`) it runs where it arrives, so that it never travels twice.
struct wire_command {
  std::string type;
  std::string id;
  std::string command;
  std::string correlation_id;
  std::string causation_id;
  bool routed = false;
};

template <class Inspector>
auto inspect(Inspector& f, wire_command& x) {
  return f(x.type, x.id, x.command, x.correlation_id, x.causation_id,
           x.routed);
}

/// The reply to a `wire_command` (see actors::command_result).
struct wire_result {
  int64_t version = 0;
  std::vector<wire_event> events;
};

template <class Inspector>
auto inspect(Inspector& f, wire_result& x) {
  return f(x.version, x.events);
}

/// Asks for the state of aggregate `id` of type `type`. Replied to with a
/// `wire_state`. Routed as a `wire_command`.
struct wire_inspect {
  std::string type;
  std::string id;
  bool routed = false;
};

template <class Inspector>
auto inspect(Inspector& f, wire_inspect& x) {
  return f(x.type, x.id, x.routed);
}

/// An aggregate's state as JSON text, and its version.
struct wire_state {
  std::string state;
  int64_t version = 0;
};

template <class Inspector>
auto inspect(Inspector& f, wire_state& x) {
  return f(x.state, x.version);
}

/// Asks for the events of a stream. Replied to with a
/// `std::vector<wire_event>`.
struct wire_read {
  std::string stream_id;
};

template <class Inspector>
auto inspect(Inspector& f, wire_read& x) {
  return f(x.stream_id);
}

} // namespace es::detail
