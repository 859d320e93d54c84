#include "es/actors/registry.hpp"

#include <caf/send.hpp>

#include "es/actors/messages.hpp"

namespace es::actors {

registry::registry(caf::actor_clock& clock, passivation_limits limits)
  : clock_(clock), limits_(limits) {
  // nop
}

std::string registry::key(const std::string& type, const std::string& id) {
  std::string k;
  k.reserve(type.size() + id.size() + 1);
  k += type;
  k += '\0'; // cannot appear in a type name
  k += id;
  return k;
}

void registry::touch(map_type::value_type& kv) {
  kv.second.last_used = clock_.now();
  lru_.splice(lru_.begin(), lru_, kv.second.lru);
}

void registry::begin_passivation(entry& e) {
  if (e.passivating)
    return;
  e.passivating = true;
  --active_;
  caf::anon_send(e.instance, passivate_atom::value);
}

void registry::enforce_cap() {
  if (limits_.max_live == 0)
    return;
  for (auto i = lru_.rbegin(); active_ > limits_.max_live && i != lru_.rend();
       ++i)
    begin_passivation((*i)->second);
}

bool registry::dispatch(const std::string& type, const std::string& id,
                        const spawn_fn& spawn, const send_fn& send) {
  std::unique_lock guard{mtx_};
  if (closed_)
    return false;
  auto [i, added] = entries_.try_emplace(key(type, id));
  auto& e = i->second;
  if (added) {
    e.instance = spawn(false);
    ++active_;
    lru_.push_front(&*i);
    e.lru = lru_.begin();
  }
  touch(*i);
  if (!e.passivating) {
    send(e.instance);
  } else {
    if (!e.successor)
      e.successor = spawn(true);
    send(e.successor);
  }
  if (added)
    enforce_cap();
  return true;
}

void registry::passivate(const std::string& type, const std::string& id,
                         const caf::actor_addr& instance) {
  std::unique_lock guard{mtx_};
  auto i = entries_.find(key(type, id));
  if (i != entries_.end() && i->second.instance.address() == instance)
    begin_passivation(i->second);
}

void registry::finish(const std::string& type, const std::string& id,
                      const caf::actor_addr& instance) {
  std::unique_lock guard{mtx_};
  auto i = entries_.find(key(type, id));
  if (i == entries_.end() || i->second.instance.address() != instance)
    return;
  auto& e = i->second;
  if (e.successor) {
    e.instance = std::move(e.successor);
    e.successor = nullptr;
    e.passivating = false;
    ++active_;
    touch(*i);
    caf::anon_send(e.instance, go_atom::value);
    if (closed_)
      begin_passivation(e);
    else
      enforce_cap();
    return;
  }
  lru_.erase(e.lru);
  entries_.erase(i);
  if (entries_.empty())
    emptied_.notify_all();
}

void registry::sweep() {
  if (limits_.idle_timeout.count() == 0)
    return;
  std::unique_lock guard{mtx_};
  auto deadline = clock_.now() - limits_.idle_timeout;
  for (auto i = lru_.rbegin(); i != lru_.rend(); ++i) {
    if ((*i)->second.last_used > deadline)
      break; // the rest were used more recently
    begin_passivation((*i)->second);
  }
}

size_t registry::passivate_if(
  const std::function<bool(std::string_view, std::string_view)>& moved) {
  std::unique_lock guard{mtx_};
  size_t n = 0;
  for (auto& [k, e] : entries_) {
    auto sep = k.find('\0');
    std::string_view view{k};
    if (!e.passivating && moved(view.substr(0, sep), view.substr(sep + 1))) {
      begin_passivation(e);
      ++n;
    }
  }
  return n;
}

void registry::close() {
  std::unique_lock guard{mtx_};
  closed_ = true;
  for (auto& kv : entries_)
    begin_passivation(kv.second);
}

bool registry::wait_until_empty(std::chrono::milliseconds timeout) {
  std::unique_lock guard{mtx_};
  return emptied_.wait_for(guard, timeout, [&] { return entries_.empty(); });
}

size_t registry::live() const {
  std::unique_lock guard{mtx_};
  return entries_.size();
}

} // namespace es::actors
