#include "es/actors/journal.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "es/actors/errors.hpp"
#include "es/actors/messages.hpp"

namespace es::actors {

namespace {

using persistence::append_request;

// How many actors listen to each bus group through join_bus, by group.
// Entries stay (a few per actor system): a group that comes back at the
// same address starts from the count the last listeners left, zero.
using listener_count = std::shared_ptr<std::atomic<int>>;

listener_count listeners_of(const caf::group& g) {
  static std::mutex mtx;
  static std::unordered_map<const caf::abstract_group*, listener_count> all;
  std::lock_guard<std::mutex> guard{mtx};
  auto& n = all[g.get()];
  if (!n)
    n = std::make_shared<std::atomic<int>>(0);
  return n;
}

// A bus group and how many listen to it.
struct bus_target {
  caf::group group;
  listener_count listeners;

  bool heard() const {
    return listeners->load(std::memory_order_relaxed) > 0;
  }
};

bus_target bus_target_of(caf::actor_system& sys, const std::string& name) {
  auto g = sys.groups().get_local(name);
  auto n = listeners_of(g);
  return {std::move(g), std::move(n)};
}

struct journal_state {
  store_ptr store;
  journal_options opts;
  std::vector<append_request> queue;
  // Shared with a functor attached to the actor, which answers whatever is
  // still held when the journal terminates, even when it is killed.
  std::shared_ptr<std::vector<caf::response_promise>> promises
    = std::make_shared<std::vector<caf::response_promise>>();
  bool flush_scheduled = false;
  bus_target all;
  std::unordered_map<std::string, bus_target> by_type;

  static inline const char* name = "es.journal";
};

using journal_actor = caf::stateful_actor<journal_state>;

const bus_target& type_target(journal_actor* self, const std::string& type) {
  auto i = self->state.by_type.find(type);
  if (i == self->state.by_type.end())
    i = self->state.by_type
          .emplace(type, bus_target_of(self->system(), bus_group(type)))
          .first;
  return i->second;
}

void publish(journal_actor* self,
             const std::shared_ptr<const event_batch>& batch) {
  if (batch->empty())
    return;
  if (self->state.all.heard())
    self->send(self->state.all.group, batch);
  // One message per stream type present that someone listens to; the
  // whole batch when it has one type (the common case, checked first).
  const auto& first = batch->front().stream_type;
  if (std::all_of(batch->begin(), batch->end(),
                  [&](const auto& e) { return e.stream_type == first; })) {
    const auto& t = type_target(self, first);
    if (t.heard())
      self->send(t.group, batch);
    return;
  }
  std::unordered_map<std::string, std::shared_ptr<event_batch>> parts;
  for (const auto& e : *batch)
    if (type_target(self, e.stream_type).heard())
      parts[e.stream_type];
  for (auto& [type, part] : parts) {
    part = std::make_shared<event_batch>();
    for (const auto& e : *batch)
      if (e.stream_type == type)
        part->push_back(e);
    self->send(type_target(self, type).group,
               std::shared_ptr<const event_batch>{part});
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
  self->state.all = bus_target_of(self->system(), bus_group());
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

namespace detail {

caf::group count_bus_listener(caf::local_actor* self,
                              const std::string& stream_type) {
  auto target = bus_target_of(self->system(), stream_type.empty()
                                                ? bus_group()
                                                : bus_group(stream_type));
  ++*target.listeners;
  // Counted down when the actor terminates. (One that leaves the group
  // earlier keeps the journal publishing there, which costs only time.)
  self->attach_functor([n = target.listeners] { --*n; });
  return target.group;
}

} // namespace detail

bool has_bus_listeners(const caf::group& group) {
  return *listeners_of(group) > 0;
}

caf::actor spawn_journal(caf::actor_system& sys, store_ptr store,
                         journal_options opts, bool detached) {
  if (detached)
    return sys.spawn<caf::detached>(journal, std::move(store), opts);
  return sys.spawn(journal, std::move(store), opts);
}

} // namespace es::actors
