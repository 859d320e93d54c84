// What a node reports about one of its projections (no CAF inside: the CLI
// and other tools use it too).
//
//   for (auto& s : *rt->projections())
//     std::cout << s.name << ' ' << to_string(s.state) << " lag " << s.lag;
#pragma once

#include <cstdint>
#include <string>

#include "es/persistence/projection_catalog.hpp"
#include "es/projections/projection.hpp"

namespace es::projections {

using persistence::projection_state;

/// A projection's status as the node sees it.
struct projection_status {
  std::string name;
  projection::kind kind = projection::kind::in_memory;
  projection_state state = projection_state::starting;
  int64_t checkpoint = 0;     ///< Every event up to here is handled.
  int64_t head = 0;           ///< The store's head; -1: unknown (no database).
  int64_t lag = 0;            ///< head - checkpoint; -1: unknown.
  std::string last_error;     ///< Empty: none.
  int64_t error_position = 0; ///< Of `last_error`; 0: none.
  double events_per_second = 0; ///< Positions handled, last 10 seconds.
  /// Another node runs it (holds its lease); this one takes over when that
  /// one goes. The other fields then say nothing.
  bool standby = false;
};

/// Lets CAF (and so a remote admin client) serialize a status.
template <class Inspector>
auto inspect(Inspector& f, projection_status& x) {
  return f(x.name, x.kind, x.state, x.checkpoint, x.head, x.lag, x.last_error,
           x.error_position, x.events_per_second, x.standby);
}

} // namespace es::projections
