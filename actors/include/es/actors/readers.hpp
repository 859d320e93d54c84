// The readers: a small pool of actors for recovery, catch-up reads,
// snapshot saves and feed pages, so that they never queue behind appends.
//
//   auto readers = spawn_readers(sys, {store1, store2}, true);
//   self->request(readers, timeout, recover_msg{"acct-1", true}).then(
//     [](recovered& r) { /* r.snapshot, r.events */ });
#pragma once

#include <vector>

#include <caf/fwd.hpp>

#include "es/actors/journal.hpp"

namespace es::actors {

/// Spawns one reader per store behind a round-robin pool; `detached` gives
/// each a thread of its own (they block in the store).
caf::actor spawn_readers(caf::actor_system& sys, std::vector<store_ptr> stores,
                         bool detached);

} // namespace es::actors
