// 128-bit identifiers for events: time-ordered UUIDv7 by default.
//
//   auto id = es::persistence::uuid::v7();     // 0190c4d2-7a5e-7c3b-9f0e-...
//   auto same = es::persistence::uuid::parse(id.to_string());
//   assert(same && *same == id);
//
// UUIDv7 (RFC 9562) starts with the Unix time in milliseconds, so ids made
// one after another sort in creation order and keep database indexes compact.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "es/error.hpp"

namespace es::persistence {

/// A UUID as 16 bytes in network order. The default value is the nil UUID.
class uuid {
public:
  using bytes_type = std::array<uint8_t, 16>;

  constexpr uuid() noexcept : bytes_{} {
    // nop
  }

  explicit constexpr uuid(const bytes_type& bytes) noexcept : bytes_(bytes) {
    // nop
  }

  /// Returns a new time-ordered UUIDv7. Thread-safe; ids made by one thread
  /// are strictly increasing.
  static uuid v7();

  /// Parses the canonical 36-character form (either case).
  /// Returns `invalid_argument` for anything else.
  static result<uuid> parse(std::string_view text);

  /// Returns the canonical lowercase form, e.g. "0190c4d2-7a5e-7c3b-...".
  std::string to_string() const;

  /// Returns true for the all-zero nil UUID.
  bool nil() const noexcept;

  const bytes_type& bytes() const noexcept {
    return bytes_;
  }

  friend bool operator==(const uuid& x, const uuid& y) noexcept {
    return x.bytes_ == y.bytes_;
  }

  friend bool operator!=(const uuid& x, const uuid& y) noexcept {
    return x.bytes_ != y.bytes_;
  }

  friend bool operator<(const uuid& x, const uuid& y) noexcept {
    return x.bytes_ < y.bytes_;
  }

  /// Lets CAF serialize a uuid (16 bytes).
  template <class Inspector>
  friend auto inspect(Inspector& f, uuid& x) {
    return f(x.bytes_);
  }

private:
  bytes_type bytes_;
};

} // namespace es::persistence

template <>
struct std::hash<es::persistence::uuid> {
  size_t operator()(const es::persistence::uuid& id) const noexcept;
};
