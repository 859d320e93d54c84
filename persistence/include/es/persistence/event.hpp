// Events as the store sees them: a new event to append, a recorded one read
// back, and `make_event` that turns a typed domain event into a new event.
//
//   struct deposited {
//     static constexpr const char* type_name = "deposited";  // stable name
//     static constexpr int32_t schema_version = 2;           // optional, 1
//     int64_t amount = 0;
//     std::string currency;
//   };
//   NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(deposited, amount, currency)
//
//   new_event e = make_event(deposited{100, "EUR"}, {{"correlation_id", id}});
//   // e.event_type == "deposited", e.schema_version == 2, e.payload = {...}
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>

#include <nlohmann/json.hpp>

#include "es/persistence/uuid.hpp"

namespace es::persistence {

using json = nlohmann::json;

/// Wall-clock time with microsecond precision, as PostgreSQL stores it.
using time_point = std::chrono::time_point<std::chrono::system_clock,
                                           std::chrono::microseconds>;

/// Returns `t` in ISO 8601, UTC, e.g. "2024-05-01T12:00:00.123456Z".
std::string to_iso8601(time_point t);

/// An event about to be appended. `payload` and `metadata` must be JSON
/// objects. Metadata carries correlation_id, causation_id and the like.
struct new_event {
  /// Unique id; appending the same id twice stores the event once.
  uuid event_id = uuid::v7();
  /// Stable name of the event type, e.g. "deposited".
  std::string event_type;
  /// Version of the payload's shape; upcasters lift old versions on read.
  int32_t schema_version = 1;
  json payload = json::object();
  json metadata = json::object();
};

/// An event as stored: one row of `es_events`.
struct recorded_event {
  int64_t global_position = 0; ///< Gapless, commit-ordered, from 1.
  uuid event_id;
  std::string stream_id;
  std::string stream_type;
  int64_t version = 0; ///< Position in its stream, from 1.
  std::string event_type;
  int32_t schema_version = 1;
  json payload;
  json metadata;
  time_point recorded_at;
};

/// Names a typed event. By default it reads `E::type_name` and the optional
/// `E::schema_version`; specialize it for types you cannot change.
template <class E, class = void>
struct event_traits {
  static constexpr const char* type_name = E::type_name;
  static constexpr int32_t schema_version = 1;
};

template <class E>
struct event_traits<E, std::void_t<decltype(E::schema_version)>> {
  static constexpr const char* type_name = E::type_name;
  static constexpr int32_t schema_version = E::schema_version;
};

/// Returns a new event (fresh UUIDv7) carrying `event` as its JSON payload.
/// Requires `to_json(json&, const E&)` (e.g. NLOHMANN_DEFINE_TYPE_...).
template <class E>
new_event make_event(const E& event, json metadata = json::object()) {
  new_event result;
  result.event_type = event_traits<E>::type_name;
  result.schema_version = event_traits<E>::schema_version;
  result.payload = event;
  result.metadata = std::move(metadata);
  return result;
}

/// Returns a new event for whichever alternative `event` holds.
template <class... Es>
new_event make_event(const std::variant<Es...>& event,
                     json metadata = json::object()) {
  return std::visit(
    [&](const auto& x) { return make_event(x, std::move(metadata)); }, event);
}

} // namespace es::persistence
