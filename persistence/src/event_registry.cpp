#include "es/persistence/event_registry.hpp"

#include <stdexcept>

namespace es::persistence {

event_registry& event_registry::upcast(std::string event_type,
                                       int32_t from_version, step fn) {
  if (from_version < 1)
    throw std::invalid_argument("upcaster for '" + event_type
                                + "': from_version must be >= 1");
  auto& steps = steps_[event_type];
  if (!steps.emplace(from_version, std::move(fn)).second)
    throw std::invalid_argument("upcaster for '" + event_type + "' v"
                                + std::to_string(from_version)
                                + " is registered twice");
  return *this;
}

result<json> event_registry::lift(const std::string& event_type, int32_t from,
                                  int32_t to, json payload) const {
  if (from > to)
    return {ec::corrupt_event,
            "'" + event_type + "' has schema version " + std::to_string(from)
              + ", newer than this program knows ("
              + std::to_string(to) + ")"};
  auto steps = steps_.find(event_type);
  for (auto v = from; v < to; ++v) {
    auto missing = [&] {
      return result<json>{ec::corrupt_event,
                          "no upcaster for '" + event_type + "' v"
                            + std::to_string(v) + " -> v"
                            + std::to_string(v + 1)};
    };
    if (steps == steps_.end())
      return missing();
    auto i = steps->second.find(v);
    if (i == steps->second.end())
      return missing();
    try {
      payload = i->second(std::move(payload));
    } catch (const std::exception& ex) {
      return {ec::corrupt_event, "upcaster for '" + event_type + "' v"
                                   + std::to_string(v) + " failed: "
                                   + ex.what()};
    }
  }
  return payload;
}

es::error event_registry::corrupt(const recorded_event& e,
                                  const std::string& what) {
  return {ec::corrupt_event,
          "event at global position " + std::to_string(e.global_position)
            + " (stream '" + e.stream_id + "' version "
            + std::to_string(e.version) + "): " + what};
}

} // namespace es::persistence
