#include "es/actors/journal.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "es/actors/errors.hpp"
#include "es/actors/messages.hpp"

namespace es::actors {

namespace {

using persistence::append_request;

struct journal_state {
  store_ptr store;
  journal_options opts;
  std::vector<append_request> queue;
  // Shared with a functor attached to the actor, which answers whatever is
  // still held when the journal terminates, even when it is killed.
  std::shared_ptr<std::vector<caf::response_promise>> promises
    = std::make_shared<std::vector<caf::response_promise>>();
  bool flush_scheduled = false;
  caf::group all;
  std::unordered_map<std::string, caf::group> by_type;

  static inline const char* name = "es.journal";
};

using journal_actor = caf::stateful_actor<journal_state>;

caf::group& type_group(journal_actor* self, const std::string& type) {
  auto& g = self->state.by_type[type];
  if (!g)
    g = self->system().groups().get_local(bus_group(type));
  return g;
}

void publish(journal_actor* self,
             const std::shared_ptr<const event_batch>& batch) {
  if (batch->empty())
    return;
  self->send(self->state.all, batch);
  // One message per stream type present; the whole batch when it has one
  // (the common case, checked first).
  const auto& first = batch->front().stream_type;
  if (std::all_of(batch->begin(), batch->end(),
                  [&](const auto& e) { return e.stream_type == first; })) {
    self->send(type_group(self, first), batch);
    return;
  }
  std::unordered_map<std::string, std::shared_ptr<event_batch>> parts;
  for (const auto& e : *batch)
    parts[e.stream_type];
  for (auto& [type, part] : parts) {
    auto& g = type_group(self, type);
    part = std::make_shared<event_batch>();
    for (const auto& e : *batch)
      if (e.stream_type == type)
        part->push_back(e);
    self->send(g, std::shared_ptr<const event_batch>{part});
  }
}

void flush(journal_actor* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.queue.empty())
    return;
  auto reqs = std::move(st.queue);
  auto promises = std::move(*st.promises);
  st.queue.clear();
  st.promises->clear();
  persistence::committed_batch done;
  try {
    done = st.store->append_and_record(std::move(reqs));
  } catch (const std::exception& ex) {
    // The stores report errors as values; this is a last line of defence.
    for (auto& rp : promises)
      rp.deliver(make_error(ec::unavailable,
                            std::string{"append failed: "} + ex.what()));
    return;
  }
  // A request's events sit in the batch at their position's offset.
  auto base = done.events->empty() ? 0 : done.events->front().global_position;
  for (size_t i = 0; i < promises.size(); ++i) {
    const auto& r = done.results[i];
    if (!r) {
      promises[i].deliver(to_caf(r.error()));
      continue;
    }
    auto first = r->duplicate ? 0 : r->first_position - base;
    auto count = r->duplicate ? 0 : r->last_position - r->first_position + 1;
    promises[i].deliver(
      append_reply{*r, event_slice{done.events, static_cast<size_t>(first),
                                   static_cast<size_t>(count)}});
  }
  publish(self, done.events);
}

caf::behavior journal(journal_actor* self, store_ptr store,
                      journal_options opts) {
  self->state.store = std::move(store);
  self->state.opts = opts;
  self->state.all = self->system().groups().get_local(bus_group());
  // On shutdown, commit what is queued before leaving: every request gets
  // its answer.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    flush(self);
    self->quit(msg.reason);
  });
  self->attach_functor([held = self->state.promises] {
    for (auto& rp : *held)
      rp.deliver(make_error(ec::unavailable, "the journal stopped"));
    held->clear();
  });
  // Whatever escapes the store, nobody waits for an answer that will not
  // come.
  self->set_exception_handler([self](std::exception_ptr& ptr) -> caf::error {
    std::string what = "journal failed";
    try {
      std::rethrow_exception(ptr);
    } catch (const std::exception& ex) {
      what += std::string{": "} + ex.what();
    } catch (...) {
      // nop
    }
    for (auto& rp : *self->state.promises)
      rp.deliver(make_error(ec::unavailable, what));
    self->state.promises->clear();
    self->state.queue.clear();
    return caf::exit_reason::unhandled_exception;
  });
  return {
    [self](append_msg& msg) -> caf::result<append_reply> {
      auto& st = self->state;
      st.queue.push_back(std::move(msg.request));
      st.promises->push_back(self->make_response_promise());
      // Group commit: what waits in the mailbox joins this batch. With
      // nothing waiting, commit now rather than after a message to self.
      if (st.queue.size() >= st.opts.max_batch || self->mailbox().empty()) {
        flush(self);
      } else if (!st.flush_scheduled) {
        st.flush_scheduled = true;
        self->send(self, flush_atom::value);
      }
      return caf::delegated<append_reply>{};
    },
    [self](flush_atom) { flush(self); },
  };
}

} // namespace

std::string bus_group() {
  return "es.events";
}

std::string bus_group(const std::string& stream_type) {
  return "es.events." + stream_type;
}

caf::actor spawn_journal(caf::actor_system& sys, store_ptr store,
                         journal_options opts, bool detached) {
  if (detached)
    return sys.spawn<caf::detached>(journal, std::move(store), opts);
  return sys.spawn(journal, std::move(store), opts);
}

} // namespace es::actors
