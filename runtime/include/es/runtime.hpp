// The runtime a host application creates: it owns the actor system, the
// journal, the readers and the live aggregates, and routes commands to them.
//
//   es::runtime_options opts;
//   opts.store_url = "postgresql://es@127.0.0.1/es";    // or "memory:"
//   auto rt = es::runtime::start(opts);
//   if (!rt) die(rt.error());
//   auto r = (*rt)->execute<account>("acct-1", open_account{"ada"});  // blocks
//   if (r) std::cout << "version " << r->version << '\n';
//
//   // From an actor, asynchronously:
//   (*rt)->request<account>(self, "acct-1", deposit{100})
//     .then([](es::command_result& r) { ... },
//           [](caf::error& e) { auto err = es::actors::from_caf(e); ... });
//
// A cluster member: set `node_port` and `peers` (same PostgreSQL on every
// member) and call `host<A>()` for the types other members may send; a
// command then runs on its aggregate's owner wherever it is sent (see
// es/cluster.hpp and the README). A client sets `via` instead.
//
// Errors (inside caf::error, category "es"; see es::actors::from_caf):
// `rejected` (business rule, with the reason), `conflict` (another writer
// won every retry), `unavailable` (database down, shutting down, timeout),
// `corrupt_event` (the stream cannot be replayed), `invalid_argument`.
// Destroying the runtime shuts it down: live aggregates finish the commands
// they hold, queued appends commit and are answered, then the actors stop.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/duration.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "es/actors/aggregate_model.hpp"
#include "es/actors/errors.hpp"
#include "es/actors/messages.hpp"
#include "es/cluster.hpp"
#include "es/projections/manager.hpp"
#include "es/projections/projection.hpp"

namespace es {

using actors::command_metadata;
using actors::command_result;
using persistence::dead_letter;
using persistence::projection_op;
using projections::projection;
using projections::projection_status;

/// How CAF's scheduler hands ready actors to its threads.
enum class scheduler_policy {
  /// One shared queue; an idle thread sleeps until work arrives. The
  /// default: on few cores it costs the least CPU per command.
  sharing,
  /// CAF's own default: a queue per thread; an idle thread polls (waking
  /// every 50 µs for a while) and steals from the others. Try it on many
  /// cores, where one shared queue may become contended.
  stealing,
};

/// How a runtime is set up. Defaults suit a single node.
struct runtime_options {
  /// "memory:" (embedded, nothing persists) or a PostgreSQL URL.
  std::string store_url = "memory:";
  /// Reader actors (each with its own database connection).
  size_t readers = 2;
  /// Most appends committed together in one transaction.
  size_t max_batch = 512;
  /// When aggregates save snapshots.
  snapshot_policy snapshots = snapshot_policy::never();
  /// Passivate an aggregate idle this long; 0 means never.
  std::chrono::milliseconds idle_timeout{0};
  /// Passivate the least recently used aggregate beyond this many; 0: no cap.
  size_t max_live_aggregates = 0;
  /// Re-runs of a command after a conflict with another writer.
  int max_conflict_retries = 3;
  /// How long a command (or a read) may take before it fails; 0 means no
  /// limit (CAF keeps each request's timer until it expires: at high rates
  /// that costs memory and a little CPU).
  std::chrono::milliseconds request_timeout{30'000};
  /// CAF scheduler threads; 0 means one per core (CAF alone would start at
  /// least 4).
  size_t scheduler_threads = 0;
  /// How those threads share the ready actors.
  scheduler_policy scheduler = scheduler_policy::sharing;
  /// Projections re-check the store and the operators' requests this often
  /// (the fallback when PostgreSQL notifications are lost).
  std::chrono::milliseconds projection_poll{1000};
  /// Make this runtime a node on this TCP port: a cluster member (see
  /// `peers`) that also serves `eventsource --node`. 0 picks a free port
  /// (see runtime::node_port); none: no networking.
  std::optional<uint16_t> node_port;
  /// The address the node port binds to, and this member's name with the
  /// port ("127.0.0.1:4710"). The default takes no connections from other
  /// machines.
  std::string node_host = "127.0.0.1";
  /// Members to join ("host:port"); a node retries those that do not
  /// answer, and others find it through them. Needs `node_port`.
  std::vector<std::string> peers;
  /// A member silent this long is removed (it sends heartbeats four times
  /// as often); also bounds each connection attempt.
  std::chrono::milliseconds failure_timeout{3000};
  /// A client of a cluster: "host:port" of a node that every command (and
  /// projection request) goes to; this runtime hosts no aggregates and
  /// runs no projections. Excludes `node_port`.
  std::string via;
  /// TLS for the node port and for connections to members (or, for a
  /// client, to its node); off when empty.
  tls_files tls;
  /// Receives one line per cluster event: members joining and leaving,
  /// peers that cannot be reached. Called on an actor's thread.
  std::function<void(const std::string&)> cluster_log;
  /// For tests: CAF's deterministic test scheduler, no threads of our own.
  bool deterministic = false;
};

/// An aggregate's current state and version, read from its live actor.
template <class A>
struct aggregate_view {
  typename A::state state;
  int64_t version = 0;
};

class runtime {
public:
  /// Opens the store and starts the actors. Errors: `invalid_argument`
  /// (bad URL, bad options), `unavailable` (database down, node port taken).
  [[nodiscard]] static caf::expected<std::unique_ptr<runtime>>
  start(runtime_options opts = {});

  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Sends `cmd` to aggregate `id` of type `A` as a request from `self`;
  /// returns CAF's response handle (`.then(...)` or `.await(...)`), whose
  /// result is a `command_result` or a `caf::error`.
  template <class A, class Self>
  auto request(Self* self, const std::string& id, typename A::command cmd,
               command_metadata meta = {}) {
    return send_command(
      self, actors::model_of<A>(), id,
      actors::command_msg{
        std::make_shared<const typename A::command>(std::move(cmd)),
        std::move(meta)});
  }

  /// Sends `cmd` and waits for the reply. For `main()` and tests.
  template <class A>
  caf::expected<command_result> execute(const std::string& id,
                                        typename A::command cmd,
                                        command_metadata meta = {}) {
    return execute(actors::model_of<A>(), id,
                   actors::command_msg{std::make_shared<const typename A::command>(
                                         std::move(cmd)),
                                       std::move(meta)});
  }

  /// Returns the live state and version of aggregate `id` (recovering it
  /// when it is not live). Waits for the reply.
  template <class A>
  caf::expected<aggregate_view<A>> inspect(const std::string& id) {
    auto view = inspect(actors::model_of<A>(), id);
    if (!view)
      return view.error();
    return aggregate_view<A>{
      *static_cast<const typename A::state*>(view->state.get()),
      view->version};
  }

  /// Lets other nodes of the cluster (and clients) send commands for
  /// aggregates of type `A` to this node. Call it at start-up for every
  /// type the node serves; its commands (and, for `inspect` from other
  /// nodes, its state) need to_json/from_json and a `type_name` (see
  /// es/aggregate.hpp).
  template <class A>
  void host() {
    host(actors::model_of<A>());
  }

  /// Returns upcaster registration for `A`'s events (do it before the
  /// first command).
  template <class A>
  persistence::event_registry& events() {
    return actors::model_of<A>().registry();
  }

  /// Returns the events of a stream, read through the readers. Waits.
  caf::expected<std::vector<persistence::recorded_event>>
  read_stream(const std::string& stream_id);

  /// Starts projection `p` on this node: it catches up from its checkpoint,
  /// then follows new events. Errors: `invalid_argument` (a name already
  /// running here, a PostgreSQL read model on the memory store),
  /// `unavailable`.
  caf::expected<void> add_projection(projection p);

  /// Returns the status of this node's projections, ordered by name. Waits.
  caf::expected<std::vector<projection_status>> projections();

  /// Applies `op` to projection `name`: pause, resume, reset (clear the
  /// read model and the checkpoint; stays paused), rebuild (reset and catch
  /// up), retry (a failed one). Waits. Errors: `not_found`, `unavailable`.
  caf::expected<void> control(const std::string& name, projection_op op);

  /// Returns the dead letters of `projection` (of all when empty).
  caf::expected<std::vector<dead_letter>>
  dead_letters(const std::string& projection = {});

  /// Runs dead letter `id` through its projection again and, when that
  /// works, deletes it. Errors: `not_found`, `rejected` (failed again).
  caf::expected<void> redrive(int64_t id);

  /// Deletes dead letter `id`. Errors: `not_found`.
  caf::expected<void> discard(int64_t id);

  /// Returns the projection manager, for asynchronous requests (see
  /// es/projections/manager.hpp).
  caf::actor projection_manager() const;

  /// Returns the port the node listens on; 0 when `options().node_port` is
  /// not set.
  uint16_t node_port() const;

  /// Returns the members of the cluster as this node sees them (a client:
  /// as its node sees them), ordered by address. Waits. Errors:
  /// `invalid_argument` (no networking), `unavailable`.
  caf::expected<std::vector<cluster_member>> members();

  /// Returns the number of live aggregate actors.
  size_t live_aggregates() const;

  /// Returns the actor system (to spawn the host's own actors).
  caf::actor_system& system();

  const runtime_options& options() const;

  /// Returns `options().request_timeout` for CAF (infinite when 0).
  caf::duration timeout() const;

private:
  struct impl;

  explicit runtime(std::unique_ptr<impl> ptr);

  // Calls `send` with the actor that takes the next message for (model,
  // id): the local instance (`routed` false), or this node's node actor
  // when another member owns the aggregate or this runtime is a client.
  void dispatch(const actors::aggregate_model& model, const std::string& id,
                const std::function<void(const caf::actor&, bool routed)>& send);

  void host(const actors::aggregate_model& model);

  // The CAF timeout of a command request: infinite when the runtime times
  // commands out itself (`watch`, cheaper than a CAF timer per request).
  caf::duration command_timeout() const;

  // Delivers `sec::request_timeout` to `caller` for response `id` after
  // `options().request_timeout`, unless `command_timeout()` does.
  void watch(caf::strong_actor_ptr caller, caf::message_id id);

  // Requests `msg` from the aggregate's local instance, or (routed) from
  // this node's node actor.
  template <class Self>
  auto send_command(Self* self, const actors::aggregate_model& model,
                    const std::string& id, actors::command_msg msg) {
    using handle_type = decltype(self->request(
      std::declval<caf::actor>(), caf::duration{},
      std::declval<actors::command_msg>()));
    std::optional<handle_type> handle;
    auto t = command_timeout();
    dispatch(model, id, [&](const caf::actor& target, bool routed) {
      if (routed)
        handle.emplace(self->request(
          target, t, actors::routed_command{&model, id, std::move(msg)}));
      else
        handle.emplace(self->request(target, t, std::move(msg)));
    });
    watch(caf::strong_actor_ptr{self->ctrl()}, handle->id());
    return std::move(*handle);
  }

  caf::expected<command_result> execute(const actors::aggregate_model& model,
                                        const std::string& id,
                                        actors::command_msg msg);

  caf::expected<actors::state_view>
  inspect(const actors::aggregate_model& model, const std::string& id);

  std::unique_ptr<impl> impl_;
};

} // namespace es
