// `bank serve`: runs a node that hosts the accounts and the projections and
// serves its admin actor, so that operators can drive it with
// `eventsource --node 127.0.0.1:PORT projections rebuild bank_balances`.
//
//   bank::block_stop_signals();            // first thing in main
//   auto rt = es::runtime::start(opts);   // with opts.node_port set
//   return bank::serve(**rt, std::cout);   // until SIGINT or SIGTERM
#pragma once

#include <iosfwd>

#include "es/runtime.hpp"

namespace bank {

/// Blocks SIGINT and SIGTERM in this thread and in every thread it starts
/// afterwards, so that `serve` alone receives them. Call before starting
/// the runtime.
void block_stop_signals();

/// Prints "node: listening on HOST:PORT" (the line scripts wait for), then
/// waits for SIGINT or SIGTERM. Returns the exit code: 0. A second signal
/// during the shutdown that follows ends the process at once.
int serve(es::runtime& rt, std::ostream& out);

} // namespace bank
