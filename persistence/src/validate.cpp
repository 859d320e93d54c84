#include "validate.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace es::persistence::detail {

namespace {

es::error invalid(std::string message) {
  return {ec::invalid_argument, std::move(message)};
}

// Returns the length of the well-formed UTF-8 character (not NUL) at `s[i]`,
// or 0 when there is none.
inline size_t utf8_length_at(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c == 0)
    return 0;
  size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2
                      : (c >> 3) == 0x1e ? 3 : 99;
  if (n == 99 || n >= s.size() - i)
    return 0;
  uint32_t cp = n == 0 ? c : c & (0x3f >> n);
  for (size_t k = 1; k <= n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc >> 6) != 0x2)
      return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  // Reject overlong forms, surrogates and values beyond U+10FFFF.
  static constexpr uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
    return 0;
  return n + 1;
}

// Returns true when `s` is well-formed UTF-8 without NUL bytes.
bool clean_utf8(std::string_view s) {
  constexpr uint64_t high = 0x8080808080808080ULL;
  constexpr uint64_t ones = 0x0101010101010101ULL;
  size_t i = 0;
  while (i < s.size()) {
    // Eight ASCII bytes at a time; one of them zero fails the check.
    for (uint64_t w; i + 8 <= s.size(); i += 8) {
      std::memcpy(&w, s.data() + i, 8);
      if (w & high)
        break;
      if ((w - ones) & ~w & high)
        return false;
    }
    if (i == s.size())
      break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c != 0 && c < 0x80) { // ASCII, the common case
      ++i;
      continue;
    }
    auto n = utf8_length_at(s, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

size_t digits(uint64_t x) {
  size_t n = 1;
  while (x >= 10) {
    x /= 10;
    ++n;
  }
  return n;
}

// Walks `value`, adding its approximate encoded size to `size` and stopping
// early once `max_bytes` is exceeded. Returns an error message or nullptr.
const char* walk(const json& value, size_t max_bytes, size_t& size) {
  switch (value.type()) {
    case json::value_t::object:
      size += 2;
      for (const auto& [key, item] :
           value.get_ref<const json::object_t&>()) {
        if (!clean_utf8(key))
          return "a key is not valid UTF-8 or contains a NUL byte";
        size += key.size() + 4;
        if (auto err = walk(item, max_bytes, size))
          return err;
        if (size > max_bytes)
          return nullptr;
      }
      return nullptr;
    case json::value_t::array:
      size += 2;
      for (const auto& item : value.get_ref<const json::array_t&>()) {
        size += 1;
        if (auto err = walk(item, max_bytes, size))
          return err;
        if (size > max_bytes)
          return nullptr;
      }
      return nullptr;
    case json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      if (!clean_utf8(s))
        return "a string is not valid UTF-8 or contains a NUL byte";
      size += s.size() + 2;
      return nullptr;
    }
    case json::value_t::number_integer: {
      auto x = value.get<int64_t>();
      size += digits(x < 0 ? 0 - static_cast<uint64_t>(x) : x) + (x < 0);
      return nullptr;
    }
    case json::value_t::number_unsigned:
      size += digits(value.get<uint64_t>());
      return nullptr;
    default: // float, bool, null
      size += 24;
      return nullptr;
  }
}

} // namespace

es::error check_name(std::string_view what, std::string_view value,
                     const store_limits& limits) {
  if (value.empty())
    return invalid(std::string{what} + " is empty");
  if (value.size() > limits.max_name_bytes)
    return invalid(std::string{what} + " is " + std::to_string(value.size())
                   + " bytes long, the limit is "
                   + std::to_string(limits.max_name_bytes));
  if (!clean_utf8(value))
    return invalid(std::string{what}
                   + " is not valid UTF-8 or contains a NUL byte");
  return {};
}

es::error check_json(std::string_view what,
                     std::initializer_list<const json*> values,
                     size_t max_bytes) {
  size_t size = 0;
  for (auto value : values)
    if (auto err = walk(*value, max_bytes, size))
      return invalid(std::string{what} + ": " + err);
  if (size > max_bytes)
    return invalid(std::string{what} + " is larger than the limit of "
                   + std::to_string(max_bytes) + " bytes");
  return {};
}

es::error check_request(const append_request& req,
                        const store_limits& limits) {
  if (auto err = check_name("stream id", req.stream_id, limits))
    return err;
  if (auto err = check_name("stream type", req.stream_type, limits))
    return err;
  if (req.expected.what() == expected_version::kind::exact
      && req.expected.value() < 0)
    return invalid("expected version " + std::to_string(req.expected.value())
                   + " is negative");
  if (req.events.empty())
    return invalid("an append needs at least one event");
  if (req.events.size() > limits.max_events_per_append)
    return invalid(std::to_string(req.events.size())
                   + " events in one append, the limit is "
                   + std::to_string(limits.max_events_per_append));
  for (const auto& e : req.events) {
    if (auto err = check_name("event type", e.event_type, limits))
      return err;
    if (e.event_id.nil())
      return invalid("event_id is the nil UUID");
    if (e.schema_version < 1)
      return invalid("schema_version must be >= 1");
    if (!e.payload.is_object())
      return invalid("payload of '" + e.event_type
                     + "' must be a JSON object");
    if (!e.metadata.is_object())
      return invalid("metadata of '" + e.event_type
                     + "' must be a JSON object");
    if (auto err = check_json("payload and metadata", {&e.payload, &e.metadata},
                              limits.max_event_bytes))
      return invalid("event '" + e.event_type + "': " + err.message());
  }
  if (req.events.size() > 1) {
    std::vector<uuid> ids;
    ids.reserve(req.events.size());
    for (const auto& e : req.events)
      ids.push_back(e.event_id);
    std::sort(ids.begin(), ids.end());
    if (std::adjacent_find(ids.begin(), ids.end()) != ids.end())
      return invalid("the same event_id appears twice in one append");
  }
  return {};
}

es::error check_snapshot(const snapshot& s, const store_limits& limits) {
  if (auto err = check_name("stream id", s.stream_id, limits))
    return err;
  if (auto err = check_name("stream type", s.stream_type, limits))
    return err;
  if (s.version < 1)
    return invalid("snapshot version must be >= 1");
  if (s.schema_version < 1)
    return invalid("snapshot schema_version must be >= 1");
  if (s.state.is_null() || s.state.is_discarded())
    return invalid("snapshot state is null");
  return check_json("snapshot state", {&s.state}, limits.max_snapshot_bytes);
}

es::error check_projection_name(std::string_view name) {
  store_limits limits;
  limits.max_name_bytes = max_projection_name_bytes;
  return check_name("projection name", name, limits);
}

es::error check_dead_letter(const dead_letter& d) {
  if (auto err = check_projection_name(d.projection))
    return err;
  if (d.global_position < 1)
    return invalid("dead letter global position must be >= 1, got "
                   + std::to_string(d.global_position));
  store_limits limits;
  if (auto err = check_name("dead letter stream id", d.stream_id, limits))
    return err;
  return check_name("dead letter event type", d.event_type, limits);
}

std::string clean_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto n = utf8_length_at(s, i);
    if (n == 0) {
      out += '?';
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

} // namespace es::persistence::detail
