// Membership: joining seeds, heartbeats, failure detection, leaving. The
// node actor (node.cpp) calls these from its handlers.
#include "node_state.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "es/actors/errors.hpp"

namespace es::detail {

void members_changed(node_actor* self) {
  auto& st = self->state;
  st.cfg.view->set_members(st.member_names());
  if (st.cfg.changed)
    st.cfg.changed();
}

void add_peer(node_actor* self, const std::string& name, caf::actor handle) {
  auto& st = self->state;
  if (name.empty() || name == st.self_name() || !handle)
    return;
  auto [i, added] = st.peers.try_emplace(name);
  i->second.heard = steady::now();
  if (!added && i->second.handle == handle)
    return;
  if (!added)
    self->demonitor(i->second.handle);
  i->second.handle = handle;
  self->monitor(handle);
  st.last_error.erase(name);
  if (added) {
    st.log("member " + name + " joined");
    members_changed(self);
  }
}

void remove_peer(node_actor* self, std::string name, const std::string& why) {
  auto& st = self->state;
  auto i = st.peers.find(name);
  if (i == st.peers.end())
    return;
  self->demonitor(i->second.handle);
  st.peers.erase(i);
  st.log("member " + name + " left (" + why + ")");
  members_changed(self);
  // Callers waiting for it get an answer now, not at their timeout.
  for (auto j = st.pending.begin(); j != st.pending.end();) {
    if (j->second.member != name) {
      ++j;
      continue;
    }
    auto fail = std::move(j->second.fail);
    j = st.pending.erase(j);
    fail(actors::make_error(ec::unavailable,
                            "node " + name + " went away (" + why
                              + ") before answering: the command may or "
                                "may not have been applied"));
  }
}

void learn(node_actor* self, const std::vector<std::string>& names) {
  auto& st = self->state;
  for (const auto& name : names)
    if (name != st.self_name() && st.peers.count(name) == 0)
      dial(self, name);
}

// Probe, connect, join (a client: ask the node its name), then add the
// member; `done` hears how it ended.
void dial(node_actor* self, const std::string& address,
          std::function<void(const caf::error&)> done) {
  auto& st = self->state;
  auto finish = [self, address, done](const caf::error& err) {
    auto& st = self->state;
    st.connecting.erase(address);
    if (err) {
      st.unreachable(address, actors::from_caf(err).message());
      auto [i, added] = st.backoff.try_emplace(address);
      auto& [when, delay] = i->second;
      delay = added ? st.cfg.failure_timeout / 4
                    : std::min<caf::timespan>(delay * 2, std::chrono::seconds{10});
      when = steady::now() + delay;
    } else {
      st.backoff.erase(address);
    }
    if (done)
      done(err);
  };
  std::string host;
  uint16_t port = 0;
  if (!split_address(address, host, port)) {
    finish(actors::make_error(ec::invalid_argument,
                              "'" + address + "' is not HOST:PORT"));
    return;
  }
  if (st.leaving || !st.connecting.insert(address).second)
    return;
  auto timeout = st.cfg.failure_timeout;
  auto failed = [finish](caf::error& err) { finish(err); };
  auto probe = self->spawn<caf::detached>(prober);
  self->request(probe, caf::infinite, probe_atom::value, host, port, timeout)
    .then(
      [=](bool) {
        auto& sys = self->system();
        auto mm = self->state.cfg.tls ? sys.openssl_manager().actor_handle()
                                      : sys.middleman().actor_handle();
        self->request(mm, timeout, caf::connect_atom::value, host, port)
          .then(
            [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
                const std::set<std::string>&) {
              auto handle = caf::actor_cast<caf::actor>(ptr);
              if (!handle) {
                finish(actors::make_error(ec::unavailable,
                                          "no actor published there"));
                return;
              }
              auto& st = self->state;
              self
                ->request(handle, timeout, join_atom::value, st.self_name(),
                          st.member_names())
                .then(
                  [=](std::string& name, std::vector<std::string>& theirs) {
                    auto& st = self->state;
                    st.seed_names[address] = name;
                    st.last_error.erase(address);
                    if (!st.leaving) {
                      add_peer(self, name, handle);
                      if (!st.client)
                        learn(self, theirs);
                    }
                    finish(caf::none);
                  },
                  failed);
            },
            failed);
      },
      failed);
}

// Sends a heartbeat to every member, removes the silent ones and dials the
// seeds that are not members (yet, or again). A client only redials its
// node.
void tick(node_actor* self) {
  auto& st = self->state;
  if (st.leaving)
    return;
  auto now = steady::now();
  std::vector<std::string> silent;
  for (auto& [name, p] : st.peers) {
    if (!st.client && now - p.heard > st.cfg.failure_timeout)
      silent.push_back(name);
    else if (!st.client)
      self->send(p.handle, heartbeat_atom::value, st.self_name(),
                 st.member_names(), static_cast<int64_t>(st.cfg.live()));
  }
  for (const auto& name : silent)
    remove_peer(self, name,
                "silent for "
                  + std::to_string(
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                      st.cfg.failure_timeout)
                      .count())
                  + " ms");
  for (const auto& seed : st.cfg.seeds) {
    auto i = st.seed_names.find(seed);
    bool member = i != st.seed_names.end()
                  && (i->second == st.self_name() || st.peers.count(i->second));
    auto wait = st.backoff.find(seed);
    if (!member && (wait == st.backoff.end() || wait->second.first <= now))
      dial(self, seed);
  }
  self->delayed_send(self, st.cfg.failure_timeout / 4, tick_atom::value);
}

} // namespace es::detail
