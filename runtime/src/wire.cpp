#include "wire.hpp"

#include <chrono>

namespace es::detail {

wire_event to_wire(const persistence::recorded_event& e) {
  wire_event w;
  w.global_position = e.global_position;
  w.event_id = e.event_id;
  w.stream_id = e.stream_id;
  w.stream_type = e.stream_type;
  w.version = e.version;
  w.event_type = e.event_type;
  w.schema_version = e.schema_version;
  w.payload = e.payload.dump();
  w.metadata = e.metadata.dump();
  w.recorded_at_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       e.recorded_at.time_since_epoch())
                       .count();
  return w;
}

result<persistence::recorded_event> from_wire(const wire_event& w) {
  persistence::recorded_event e;
  e.global_position = w.global_position;
  e.event_id = w.event_id;
  e.stream_id = w.stream_id;
  e.stream_type = w.stream_type;
  e.version = w.version;
  e.event_type = w.event_type;
  e.schema_version = w.schema_version;
  try {
    e.payload = persistence::json::parse(w.payload);
    e.metadata = persistence::json::parse(w.metadata);
  } catch (const std::exception& ex) {
    return {ec::corrupt_event, "event " + std::to_string(w.global_position)
                                 + " arrived from another node as bad JSON: "
                                 + ex.what()};
  }
  e.recorded_at = persistence::time_point{
    std::chrono::duration_cast<persistence::time_point::duration>(
      std::chrono::nanoseconds{w.recorded_at_ns})};
  return e;
}

} // namespace es::detail
