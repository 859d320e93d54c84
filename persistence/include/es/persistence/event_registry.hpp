// Decoding stored events into typed C++ events, with upcasters for payloads
// written by older schema versions.
//
//   using account_event = std::variant<account_opened, deposited, withdrawn>;
//   event_registry registry;
//   registry.upcast("deposited", 1, [](json p) {        // v1 -> v2
//     p["currency"] = "EUR";
//     return p;
//   });
//   result<account_event> ev = registry.decode<account_event>(recorded);
//   if (!ev) // ec::corrupt_event, the message names the global position
//
// The variant names the types a caller understands; each alternative's
// `event_traits` give its stable type name and current schema version. A
// payload at version 1 of a type now at version 3 runs the steps 1->2 and
// 2->3 in order. Register upcasters at start-up; afterwards the const members
// are safe to call from any number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <variant>

#include "es/error.hpp"
#include "es/persistence/event.hpp"

namespace es::persistence {

class event_registry {
public:
  /// A step that turns a payload of version `v` into one of version `v + 1`.
  using step = std::function<json(json)>;

  /// Registers the step lifting `event_type` payloads from `from_version` to
  /// `from_version + 1`. Throws `std::invalid_argument` when that step is
  /// already registered or `from_version < 1` (a set-up bug).
  event_registry& upcast(std::string event_type, int32_t from_version,
                         step fn);

  /// Returns `payload` of `event_type` lifted from version `from` to `to`.
  /// Errors: `corrupt_event` when a step is missing or throws, or when
  /// `from > to` (written by a newer program).
  result<json> lift(const std::string& event_type, int32_t from, int32_t to,
                    json payload) const;

  /// Decodes `e` into the alternative of `Variant` named by `e.event_type`,
  /// upcasting its payload to that alternative's current schema version.
  /// Errors: `corrupt_event` (unknown type, undecodable payload, missing
  /// upcaster); the message names the event's global position and stream.
  template <class Variant>
  result<Variant> decode(const recorded_event& e) const {
    return decode_impl<Variant>(
      e, std::make_index_sequence<std::variant_size_v<Variant>>{});
  }

  /// Returns a `corrupt_event` error about `e` that names its position.
  static es::error corrupt(const recorded_event& e, const std::string& what);

private:
  template <class Variant, size_t... Is>
  result<Variant> decode_impl(const recorded_event& e,
                              std::index_sequence<Is...>) const {
    result<Variant> out{ec::corrupt_event, ""};
    bool found = (try_alternative<Variant, Is>(e, out) || ...);
    if (!found)
      return corrupt(e, "unknown event type '" + e.event_type + "'");
    return out;
  }

  template <class Variant, size_t I>
  bool try_alternative(const recorded_event& e, result<Variant>& out) const {
    using alt = std::variant_alternative_t<I, Variant>;
    using traits = event_traits<alt>;
    if (std::strcmp(e.event_type.c_str(), traits::type_name) != 0)
      return false;
    try {
      if (e.schema_version == traits::schema_version) {
        out = Variant{std::in_place_index<I>, e.payload.get<alt>()};
        return true;
      }
      auto lifted = lift(e.event_type, e.schema_version,
                         traits::schema_version, e.payload);
      if (!lifted)
        out = corrupt(e, lifted.error().message());
      else
        out = Variant{std::in_place_index<I>, lifted->template get<alt>()};
    } catch (const std::exception& ex) {
      out = corrupt(e, std::string{"cannot decode payload: "} + ex.what());
    }
    return true;
  }

  // event type -> from_version -> step
  std::map<std::string, std::map<int32_t, step>, std::less<>> steps_;
};

} // namespace es::persistence
