// Input checks shared by every store: one place decides what is
// `invalid_argument`, so the stores cannot disagree.
#pragma once

#include <initializer_list>
#include <string_view>

#include "es/error.hpp"
#include "es/persistence/event_store.hpp"

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

} // namespace es::persistence::detail
