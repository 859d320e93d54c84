// What a node shares with the programs that talk to it over CAF networking
// (private to the runtime library).
#pragma once

#include <caf/fwd.hpp>

namespace es::detail {

/// Registers eventsource's message types and error category with `cfg`.
/// Both ends of a connection must call it (CAF serializes by type name).
void add_types(caf::actor_system_config& cfg);

/// The admin actor a node publishes on its port: it forwards operators'
/// requests (projection status and control, dead letters) to `manager`.
caf::behavior node_admin(caf::event_based_actor* self, caf::actor manager);

} // namespace es::detail
