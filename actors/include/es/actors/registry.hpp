// Which aggregate instance lives where on this node, and the passivation
// protocol that never loses or doubles a command.
//
//   registry reg{clock, {idle_timeout, max_live}};
//   reg.dispatch("account", "acct-1", spawn, [&](const caf::actor& a) {
//     self->request(a, timeout, cmd);          // enqueued under the lock
//   });
//
// Passivation (idle, or over the live cap): the registry marks the instance
// passivating and sends it `passivate_atom`. Commands already in its mailbox
// are handled first (FIFO); commands routed after the mark go to a successor
// that is spawned waiting and starts (recovering from the store) only when
// the old instance has finished. So there is one writer per aggregate, each
// sender's commands stay in order, and none is lost or answered twice.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_clock.hpp>
#include <caf/timespan.hpp>

namespace es::actors {

/// When live instances are passivated.
struct passivation_limits {
  /// Passivate an instance idle this long; 0 means never.
  caf::timespan idle_timeout{0};
  /// Passivate the least recently used instance beyond this many; 0: no cap.
  size_t max_live = 0;
};

class registry {
public:
  /// Spawns an instance; `waiting` ones start only on `go_atom`.
  using spawn_fn = std::function<caf::actor(bool waiting)>;
  using send_fn = std::function<void(const caf::actor&)>;

  registry(caf::actor_clock& clock, passivation_limits limits);

  /// Calls `send` with the instance that must receive the next command for
  /// (type, id), spawning one when there is none; `send` runs under the
  /// registry's lock so that it enqueues before any passivation decision.
  /// Returns false (and calls nothing) after `close()`.
  bool dispatch(const std::string& type, const std::string& id,
                const spawn_fn& spawn, const send_fn& send);

  /// Marks the instance passivating and sends it `passivate_atom`.
  void passivate(const std::string& type, const std::string& id,
                 const caf::actor_addr& instance);

  /// Called by an instance that handles `passivate_atom` (and when any
  /// instance terminates): hands over to the waiting successor, or forgets
  /// the entry. Does nothing for an instance that is no longer the entry's.
  void finish(const std::string& type, const std::string& id,
              const caf::actor_addr& instance);

  /// Passivates instances idle longer than the idle timeout.
  void sweep();

  /// Passivates the instances for which `moved(type, id)` returns true (in
  /// a cluster: those another node owns now). Returns how many.
  size_t passivate_if(
    const std::function<bool(std::string_view type, std::string_view id)>&
      moved);

  /// Stops routing and passivates every live instance.
  void close();

  /// Blocks until no instance is live or `timeout` passed. Returns true
  /// when none is live.
  bool wait_until_empty(std::chrono::milliseconds timeout);

  /// Returns the number of live instances (passivating ones included).
  size_t live() const;

  const passivation_limits& limits() const {
    return limits_;
  }

private:
  struct entry;
  using map_type = std::unordered_map<std::string, entry>;

  struct entry {
    caf::actor instance;
    caf::actor successor;
    bool passivating = false;
    caf::actor_clock::time_point last_used;
    std::list<map_type::value_type*>::iterator lru;
  };

  static std::string key(const std::string& type, const std::string& id);
  void touch(map_type::value_type& kv);
  void begin_passivation(entry& e);
  void enforce_cap();

  caf::actor_clock& clock_;
  passivation_limits limits_;
  mutable std::mutex mtx_;
  std::condition_variable emptied_;
  map_type entries_;
  std::list<map_type::value_type*> lru_; // most recently used first
  size_t active_ = 0; // entries not passivating
  bool closed_ = false;
};

} // namespace es::actors
