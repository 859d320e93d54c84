// Keeps the actor id that CAF 0.17.6's logger associates with a thread in
// a thread_local instead of the logger's map.
//
// Why: Debian builds CAF with logging compiled in, and the scheduler's loop
// sets the running actor's id before each resume and restores it after
// (`CAF_PUSH_AID_FROM_PTR`, caf/scheduler/worker.hpp). CAF 0.17.6 keeps
// those ids in one `std::unordered_map<std::thread::id, actor_id>` per
// logger behind a shared spinlock: two hashed lookups and four atomic
// operations on a cache line that every worker thread writes, per resume.
// With logging off nothing ever reads the id.
//
// How: the executable defines the two `caf::logger::thread_local_aid`
// members (es_runtime is a static library; the dynamic linker finds these
// before libcaf_core's, as with resume_cast.cpp). One value per thread, as
// CAF's own later versions do (CAF 0.18 replaced the map with a
// thread_local). The difference: a thread that runs actors of two actor
// systems in turn has one id, not one per system; the id only names the
// actor in log lines. runtime.cpp refers to `thread_aid_local` so that the
// linker keeps this file.
#include <caf/logger.hpp>

namespace {

thread_local caf::actor_id current_aid = 0;

} // namespace

namespace caf {

actor_id logger::thread_local_aid() {
  return current_aid;
}

actor_id logger::thread_local_aid(actor_id aid) {
  auto previous = current_aid;
  current_aid = aid;
  return previous;
}

} // namespace caf

namespace es::detail {

bool thread_aid_local() {
  return true;
}

} // namespace es::detail
