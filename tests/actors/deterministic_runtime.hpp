// An es::runtime on CAF's deterministic test scheduler.
//
//   auto rt = es::test::start_runtime(opts);     // opts.deterministic = true
//   rt->request<account>(self, "acct-1", deposit{5});
//   es::test::scheduler_of(*rt).run();          // nothing runs before this
#pragma once

#include <memory>
#include <stdexcept>

#include <caf/scheduler/test_coordinator.hpp>

#include "es/runtime.hpp"

namespace es::test {

/// Starts a deterministic runtime; throws when it cannot start.
inline std::unique_ptr<es::runtime> start_runtime(es::runtime_options opts = {}) {
  opts.deterministic = true;
  auto rt = es::runtime::start(opts);
  if (!rt)
    throw std::runtime_error(to_string(rt.error()));
  return std::move(*rt);
}

/// Returns the test scheduler that drives `rt`.
inline caf::scheduler::test_coordinator& scheduler_of(es::runtime& rt) {
  return dynamic_cast<caf::scheduler::test_coordinator&>(
    rt.system().scheduler());
}

} // namespace es::test
