// Input checks shared by every store: one place decides what is
// `invalid_argument`, so the stores cannot disagree.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "es/error.hpp"
#include "es/persistence/event_store.hpp"
#include "es/persistence/projection_catalog.hpp"

namespace es::persistence::detail {

/// Checks a stream id, stream type, event type or checkpoint name: not empty,
/// at most `limits.max_name_bytes`, valid UTF-8 without NUL bytes.
es::error check_name(std::string_view what, std::string_view value,
                     const store_limits& limits);

/// Checks that `values` hold valid UTF-8 strings without NUL bytes (which
/// PostgreSQL's jsonb rejects) and together encode to at most `max_bytes`.
es::error check_json(std::string_view what,
                     std::initializer_list<const json*> values,
                     size_t max_bytes);

/// Checks everything about one append request except the store's state.
es::error check_request(const append_request& req, const store_limits& limits);

/// Checks a snapshot before it is saved.
es::error check_snapshot(const snapshot& s, const store_limits& limits);

/// The longest projection name, in bytes.
inline constexpr size_t max_projection_name_bytes = 256;

/// Checks a projection name: not empty, at most 256 bytes, valid UTF-8
/// without NUL bytes.
es::error check_projection_name(std::string_view name);

/// Checks a dead letter before it is recorded (its error text is not
/// checked: store `clean_text(d.error)`).
es::error check_dead_letter(const dead_letter& d);

/// Returns `s` with every byte that is not part of valid UTF-8 (and every
/// NUL) replaced by '?': for free text such as error messages, which should
/// be stored even when an exception message carries raw bytes.
std::string clean_text(std::string_view s);

} // namespace es::persistence::detail
