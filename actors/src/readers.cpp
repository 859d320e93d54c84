#include "es/actors/readers.hpp"

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "es/actors/errors.hpp"
#include "es/actors/messages.hpp"

namespace es::actors {

namespace {

struct reader_state {
  store_ptr store;
  static inline const char* name = "es.reader";
};

using reader_actor = caf::stateful_actor<reader_state>;

caf::behavior reader(reader_actor* self, store_ptr store) {
  self->state.store = std::move(store);
  return {
    [self](recover_msg& msg) -> caf::result<recovered> {
      auto& store = *self->state.store;
      recovered out;
      int64_t from = 1;
      if (msg.with_snapshot) {
        auto snap = store.load_snapshot(msg.stream_id);
        if (!snap)
          return to_caf(snap.error());
        out.snapshot = std::move(*snap);
        if (out.snapshot)
          from = out.snapshot->version + 1;
      }
      auto events = store.read_stream(msg.stream_id, from);
      if (!events)
        return to_caf(events.error());
      out.events = std::move(*events);
      return out;
    },
    [self](read_stream_msg& msg) -> caf::result<stream_events> {
      auto events = self->state.store->read_stream(msg.stream_id,
                                                   msg.from_version);
      if (!events)
        return to_caf(events.error());
      return stream_events{std::move(*events)};
    },
    [self](save_snapshot_msg& msg) {
      // Best effort: a lost snapshot only makes the next recovery longer.
      (void) self->state.store->save_snapshot(msg.snapshot);
    },
    [self](head_atom) -> caf::result<int64_t> {
      auto head = self->state.store->head_position();
      if (!head)
        return to_caf(head.error());
      return *head;
    },
    [self](read_all_msg& msg) -> caf::result<persistence::feed_page> {
      auto page = self->state.store->read_all(msg.after_position, msg.limit,
                                              msg.filter);
      if (!page)
        return to_caf(page.error());
      return std::move(*page);
    },
  };
}

} // namespace

caf::actor spawn_readers(caf::actor_system& sys, std::vector<store_ptr> stores,
                         bool detached) {
  auto next = std::make_shared<size_t>(0);
  auto factory = [&sys, stores, next, detached]() mutable {
    auto store = stores[(*next)++ % stores.size()];
    if (detached)
      return sys.spawn<caf::detached>(reader, std::move(store));
    return sys.spawn(reader, std::move(store));
  };
  return caf::actor_pool::make(sys.dummy_execution_unit(), stores.size(),
                               factory, caf::actor_pool::round_robin());
}

} // namespace es::actors
