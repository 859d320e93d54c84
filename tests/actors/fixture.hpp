// The actors without the runtime, over a store the test holds: a journal,
// readers and a registry in an actor system on CAF's test scheduler, and
// helpers that route commands the way `es::runtime` does.
//
//   es::test::actor_fixture fx{{/*snapshots=*/es::snapshot_every(3)}};
//   caf::scoped_actor self{fx.sys()};
//   auto h = fx.request<bank::account>(self, "acct-1", bank::deposit{5});
//   fx.sched().run();                           // nothing runs before this
//   auto r = es::test::take<es::command_result>(h);
//
// Destroying the fixture passivates the aggregates and stops every actor it
// spawned (also those handed to `own`).
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/test_store.hpp"
#include "es/actors/aggregate_actor.hpp"
#include "es/actors/aggregate_model.hpp"
#include "es/actors/errors.hpp"
#include "es/actors/journal.hpp"
#include "es/actors/messages.hpp"
#include "es/actors/readers.hpp"
#include "es/actors/registry.hpp"

namespace es::test {

using batch_log = std::vector<std::shared_ptr<const actors::event_batch>>;

/// The timeout of the test's own requests: longer than the actors' (30 s),
/// so that advancing the clock fires only theirs.
inline constexpr caf::timespan client_timeout = std::chrono::hours{1};

struct fixture_options {
  snapshot_policy snapshots = snapshot_policy::never();
  int max_conflict_retries = 3;
  actors::passivation_limits limits = {};
  size_t max_batch = 512;
  size_t readers = 2;
};

/// Returns the es code inside `err` (CAF's own errors become unavailable).
inline ec code_of(const caf::error& err) {
  return actors::from_caf(err).code();
}

/// Returns the es message inside `err`.
inline std::string message_of(const caf::error& err) {
  return actors::from_caf(err).message();
}

/// Receives the reply of `handle` from a scoped actor. Call it only after
/// the scheduler ran (else it blocks).
template <class T, class Handle>
caf::expected<T> take(Handle& handle) {
  caf::expected<T> out{caf::error{}};
  if constexpr (std::is_void_v<T>)
    std::move(handle).receive([&] { out = {}; },
                              [&](caf::error& err) { out = std::move(err); });
  else
    std::move(handle).receive([&](T& x) { out = std::move(x); },
                              [&](caf::error& err) { out = std::move(err); });
  return out;
}

class actor_fixture {
public:
  using handle_type = decltype(std::declval<caf::scoped_actor&>()->request(
    std::declval<caf::actor>(), caf::timespan{},
    std::declval<actors::command_msg>()));

  explicit actor_fixture(fixture_options opts = {})
    : store_(std::make_shared<test_store>()) {
    cfg_.set("scheduler.policy", caf::atom("testing"));
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    instances_ = std::make_unique<actors::registry>(sys_->clock(),
                                                    opts.limits);
    journal_ = actors::spawn_journal(*sys_, store_, {opts.max_batch}, false);
    readers_ = actors::spawn_readers(
      *sys_, std::vector<actors::store_ptr>(opts.readers, store_), false);
    auto ctx = std::make_shared<actors::aggregate_context>();
    ctx->journal = journal_;
    ctx->readers = readers_;
    ctx->instances = instances_.get();
    ctx->snapshots = opts.snapshots;
    ctx->max_conflict_retries = opts.max_conflict_retries;
    ctx_ = std::move(ctx);
    sched().run();
  }

  ~actor_fixture() {
    instances_->close();
    sched().run();
    owned_.push_back(journal_);
    owned_.push_back(readers_);
    for (auto& a : owned_)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched().run();
    owned_.clear();
    journal_ = readers_ = nullptr;
    ctx_.reset();
    sys_.reset();
    instances_.reset();
  }

  actor_fixture(const actor_fixture&) = delete;
  actor_fixture& operator=(const actor_fixture&) = delete;

  caf::actor_system& sys() {
    return *sys_;
  }

  caf::scheduler::test_coordinator& sched() {
    return dynamic_cast<caf::scheduler::test_coordinator&>(sys_->scheduler());
  }

  test_store& store() {
    return *store_;
  }

  std::shared_ptr<test_store> store_ptr() const {
    return store_;
  }

  actors::registry& instances() {
    return *instances_;
  }

  const caf::actor& journal() const {
    return journal_;
  }

  /// Stops `a` when the fixture goes.
  void own(caf::actor a) {
    owned_.push_back(std::move(a));
  }

  /// Returns the batches an actor joined (join_bus) to the bus group of
  /// `stream_type` (of all events when empty) receives from now on (it
  /// joins before this returns).
  std::shared_ptr<batch_log> listen(const std::string& stream_type = {}) {
    auto log = std::make_shared<batch_log>();
    // Arguments instead of captures: CAF 0.17.6 dereferences a null tuple
    // pointer (UBSan) when spawning a function without arguments.
    auto collector = [](caf::event_based_actor* self,
                        std::shared_ptr<batch_log> out,
                        std::string type) -> caf::behavior {
      actors::join_bus(self, type);
      return {[out](std::shared_ptr<const actors::event_batch>& b) {
        out->push_back(std::move(b));
      }};
    };
    own(sys_->spawn(collector, log, stream_type));
    sched().run();
    return log;
  }

  /// Routes a command to aggregate `id` of type `A` like the runtime does;
  /// stores the receiving actor in `*target` when given.
  template <class A>
  handle_type request(caf::scoped_actor& self, const std::string& id,
                      typename A::command cmd,
                      actors::command_metadata meta = {},
                      caf::actor* target = nullptr) {
    actors::command_msg msg{
      std::make_shared<const typename A::command>(std::move(cmd)),
      std::move(meta)};
    std::optional<handle_type> out;
    route(actors::model_of<A>(), id, [&](const caf::actor& a) {
      if (target)
        *target = a;
      out.emplace(self->request(a, client_timeout, std::move(msg)));
    });
    return std::move(*out);
  }

  /// Sends `cmd`, runs the scheduler and returns the reply.
  template <class A>
  caf::expected<actors::command_result>
  execute(const std::string& id, typename A::command cmd,
          actors::command_metadata meta = {}) {
    caf::scoped_actor self{*sys_};
    auto h = request<A>(self, id, std::move(cmd), std::move(meta));
    sched().run();
    return take<actors::command_result>(h);
  }

  /// Returns the state and version of aggregate `id` (recovering it).
  template <class A>
  caf::expected<std::pair<typename A::state, int64_t>>
  inspect(const std::string& id) {
    caf::scoped_actor self{*sys_};
    std::optional<decltype(self->request(caf::actor{}, caf::timespan{},
                                         actors::state_atom::value))>
      h;
    route(actors::model_of<A>(), id, [&](const caf::actor& a) {
      h.emplace(self->request(a, client_timeout, actors::state_atom::value));
    });
    sched().run();
    auto view = take<actors::state_view>(*h);
    if (!view)
      return view.error();
    return std::make_pair(
      *static_cast<const typename A::state*>(view->state.get()),
      view->version);
  }

  /// Passivates the live instance of aggregate `id` and runs the
  /// scheduler (it stays passivated until the next command).
  template <class A>
  void passivate(const std::string& id) {
    caf::actor instance;
    route(actors::model_of<A>(), id,
          [&](const caf::actor& a) { instance = a; });
    instances_->passivate(A::type, id, instance.address());
    sched().run();
  }

private:
  void route(const actors::aggregate_model& model, const std::string& id,
             const actors::registry::send_fn& send) {
    auto spawn = [&](bool waiting) {
      return actors::spawn_aggregate(*sys_, ctx_, model, id, waiting);
    };
    if (!instances_->dispatch(model.type(), id, spawn, send))
      throw std::logic_error("the registry is closed");
  }

  caf::actor_system_config cfg_;
  std::shared_ptr<test_store> store_;
  std::unique_ptr<actors::registry> instances_; // outlives the system
  std::unique_ptr<caf::actor_system> sys_;
  caf::actor journal_;
  caf::actor readers_;
  std::vector<caf::actor> owned_;
  std::shared_ptr<const actors::aggregate_context> ctx_;
};

} // namespace es::test
