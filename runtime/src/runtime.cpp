#include "es/runtime.hpp"

#include "runtime_impl.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <thread>

#include "es/actors/aggregate_actor.hpp"
#include "es/actors/errors.hpp"
#include "es/actors/journal.hpp"
#include "es/actors/readers.hpp"
#include "es/actors/registry.hpp"
#include "es/persistence/memory_store.hpp"
#include "es/persistence/postgres_catalog.hpp"
#include "es/persistence/postgres_store.hpp"
#include "node.hpp"

namespace es {

namespace {

using actors::store_ptr;

bool is_memory(const std::string& url) {
  return url == "memory:" || url == "memory";
}

// Opens one store for the journal and one per reader (the memory store is
// shared: it is thread-safe; PostgreSQL gets a connection per actor).
result<std::vector<store_ptr>> open_stores(const runtime_options& opts) {
  std::vector<store_ptr> stores;
  if (is_memory(opts.store_url)) {
    stores.assign(opts.readers + 1,
                  std::make_shared<persistence::memory_store>());
    return stores;
  }
  for (size_t i = 0; i <= opts.readers; ++i) {
    auto store = persistence::open_store(opts.store_url);
    if (!store)
      return store.error();
    stores.emplace_back(std::move(*store));
  }
  return stores;
}

// Answers every command with `unavailable` once the runtime shuts down.
caf::behavior refuser(caf::event_based_actor*) {
  return {[](actors::command_msg&) -> caf::result<command_result> {
    return actors::make_error(ec::unavailable, "the runtime is shutting down");
  }};
}

// Sweeps idle aggregates every half idle timeout.
caf::behavior janitor(caf::event_based_actor* self, actors::registry* reg,
                      caf::timespan period) {
  self->delayed_send(self, period, actors::sweep_atom::value);
  return {[=](actors::sweep_atom) {
    reg->sweep();
    self->delayed_send(self, period, actors::sweep_atom::value);
  }};
}

// The cluster options make sense together.
es::error check_cluster_options(const runtime_options& opts) {
  auto bad = [](std::string what) {
    return es::error{ec::invalid_argument, std::move(what)};
  };
  std::string host;
  uint16_t port = 0;
  for (const auto& peer : opts.peers)
    if (!detail::split_address(peer, host, port))
      return bad("peer '" + peer + "' is not HOST:PORT");
  if (!opts.peers.empty() && !opts.node_port)
    return bad("peers need a node_port");
  if (!opts.via.empty() && !detail::split_address(opts.via, host, port))
    return bad("via '" + opts.via + "' is not HOST:PORT");
  if (!opts.via.empty() && opts.node_port)
    return bad("a client (via) has no node_port");
  if (opts.failure_timeout < std::chrono::milliseconds{100})
    return bad("failure_timeout must be at least 100 ms");
  if (opts.tls.enabled() && !opts.node_port && opts.via.empty())
    return bad("TLS needs networking (node_port or via)");
  return detail::check_tls(opts.tls);
}

} // namespace

// The catalog, the manager and (on PostgreSQL) the notification pump.
caf::error runtime::impl::start_projections(bool detached) {
  auto& im = *this;
  projections::manager_config cfg;
  cfg.readers = im.readers;
  cfg.detached = detached;
  cfg.poll_interval = im.opts.projection_poll;
  if (is_memory(im.opts.store_url)) {
    cfg.catalog = std::make_shared<persistence::memory_catalog>();
  } else {
    auto catalog = persistence::postgres_catalog::open(im.opts.store_url);
    if (!catalog)
      return actors::to_caf(catalog.error());
    cfg.catalog = std::move(*catalog);
    cfg.database_url = im.opts.store_url;
    auto leases = persistence::postgres_lease::open(im.opts.store_url);
    if (!leases)
      return actors::to_caf(leases.error());
    cfg.leases = std::move(*leases);
  }
  im.projections = projections::spawn_manager(*im.sys, std::move(cfg));
  if (detached) {
    auto pump = projections::notification_pump::start(im.opts.store_url, {},
                                                      im.projections);
    if (!pump)
      return actors::to_caf(pump.error());
    im.pump = std::move(*pump);
  }
  return caf::none;
}

caf::error runtime::impl::start_node() {
  detail::node_config nc;
  nc.view = view = std::make_shared<detail::cluster_view>();
  nc.client = client();
  nc.tls = opts.tls.enabled();
  nc.seeds = client() ? std::vector<std::string>{opts.via} : opts.peers;
  nc.manager = client() ? caf::actor{} : projections;
  nc.readers = readers;
  // Members share PostgreSQL; memory stores are each member's own, whose
  // events must not reach the others' projections.
  if (!is_memory(opts.store_url))
    nc.journal = journal;
  nc.timeout = ctx->timeout;
  nc.failure_timeout
    = std::chrono::duration_cast<caf::timespan>(opts.failure_timeout);
  auto* reg = instances.get();
  auto* sysp = sys.get();
  nc.dispatch = [reg, sysp, context = ctx](
                  const actors::aggregate_model& model, const std::string& id,
                  const std::function<void(const caf::actor&)>& send) {
    auto spawn = [&](bool waiting) {
      return actors::spawn_aggregate(*sysp, context, model, id, waiting);
    };
    return reg->dispatch(model.type(), id, spawn, send);
  };
  // What another member owns now passivates here.
  nc.changed = [reg, v = view.get()] {
    reg->passivate_if([v](std::string_view type, std::string_view id) {
      return !v->owns(type, id);
    });
  };
  nc.live = [reg] { return reg->live(); };
  nc.log = opts.cluster_log;
  node = detail::spawn_node(*sys, std::move(nc));
  if (client()) {
    projections = node; // projection requests go to the node
  } else {
    // reuse: a node restarted at once can bind its port again (TIME_WAIT);
    // a port another process listens on still fails.
    auto host = opts.node_host.c_str();
    auto bound
      = opts.tls.enabled()
          ? caf::openssl::publish(node, *opts.node_port, host, true)
          : sys->middleman().publish(node, *opts.node_port, host, true);
    if (!bound)
      return actors::make_error(ec::unavailable,
                                "cannot serve the node on " + opts.node_host
                                  + ":" + std::to_string(*opts.node_port)
                                  + ": " + sys->render(bound.error()));
    port = *bound;
    view->set_self(opts.node_host + ":" + std::to_string(port));
  }
  auto started = ask<std::string>([&](caf::scoped_actor& self) {
    return self->request(node, caf::infinite, detail::start_atom::value);
  });
  if (!started)
    return actors::make_error(ec::unavailable,
                              "cannot reach node " + opts.via + ": "
                                + actors::from_caf(started.error()).message());
  return caf::none;
}

namespace detail {
bool resume_cast_cached(); // resume_cast.cpp
bool thread_aid_local();   // thread_aid.cpp
} // namespace detail

namespace {

// CAF's own default is at least 4 workers: on 2 cores the idle ones spin
// against the busy ones (bank load on the memory store: ~25% fewer
// commands/s than with 2).
size_t scheduler_threads(const runtime_options& opts) {
  if (opts.scheduler_threads > 0)
    return opts.scheduler_threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

} // namespace

caf::expected<std::unique_ptr<runtime>> runtime::start(runtime_options opts) {
  // Links those files in, which save ~1,300 and ~600 instructions per actor
  // resume (a cached dynamic_cast, a thread_local actor id).
  static_cast<void>(detail::resume_cast_cached());
  static_cast<void>(detail::thread_aid_local());
  if (opts.readers == 0 || opts.max_batch == 0)
    return actors::make_error(ec::invalid_argument,
                              "readers and max_batch must be at least 1");
  if (auto bad = check_cluster_options(opts))
    return actors::to_caf(bad);
  auto stores = open_stores(opts);
  if (!stores)
    return actors::to_caf(stores.error());
  auto im = std::make_unique<impl>();
  im->opts = opts;
  if (opts.deterministic)
    im->cfg.set("scheduler.policy", caf::atom("testing"));
  else {
    im->cfg.set("scheduler.max-threads", scheduler_threads(opts));
    im->cfg.set("scheduler.policy",
                opts.scheduler == scheduler_policy::sharing
                  ? caf::atom("sharing")
                  : caf::atom("stealing"));
  }
  detail::add_types(im->cfg);
  if (opts.node_port || !opts.via.empty())
    detail::use_networking(im->cfg, opts.tls);
  im->sys = std::make_unique<caf::actor_system>(im->cfg);
  if (!opts.deterministic && opts.request_timeout.count() > 0)
    im->deadlines = std::make_unique<detail::deadlines>(opts.request_timeout);
  auto& sys = *im->sys;
  im->instances = std::make_unique<actors::registry>(
    sys.clock(),
    actors::passivation_limits{
      std::chrono::duration_cast<caf::timespan>(opts.idle_timeout),
      opts.max_live_aggregates});
  // Blocking I/O gets threads of its own; the memory store never blocks.
  bool detached = !opts.deterministic && !is_memory(opts.store_url);
  im->journal = actors::spawn_journal(sys, stores->front(),
                                      actors::journal_options{opts.max_batch},
                                      detached);
  im->readers = actors::spawn_readers(
    sys, std::vector<store_ptr>(stores->begin() + 1, stores->end()), detached);
  im->refuse = sys.spawn(refuser);
  if (opts.idle_timeout.count() > 0)
    im->sweeper = sys.spawn(janitor, im->instances.get(),
                            std::chrono::duration_cast<caf::timespan>(
                              opts.idle_timeout / 2));
  auto ctx = std::make_shared<actors::aggregate_context>();
  ctx->journal = im->journal;
  ctx->readers = im->readers;
  ctx->instances = im->instances.get();
  ctx->snapshots = opts.snapshots;
  ctx->max_conflict_retries = opts.max_conflict_retries;
  ctx->timeout = opts.request_timeout.count() > 0
                   ? caf::duration{opts.request_timeout}
                   : caf::duration{caf::infinite};
  im->ctx = std::move(ctx);
  // A client runs no projections: its node answers for them.
  auto err = im->client() ? caf::error{} : im->start_projections(detached);
  if (!err && (opts.node_port || im->client()))
    err = im->start_node();
  if (err) {
    im->stop(); // else the system waits forever for the timers' actors
    return err;
  }
  im->run_pending();
  return std::unique_ptr<runtime>{new runtime(std::move(im))};
}

runtime::runtime(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

runtime::~runtime() {
  auto& im = *impl_;
  // Leave the cluster first: the members stop sending commands here.
  if (im.node)
    caf::anon_send(im.node, detail::leave_atom::value);
  // Live aggregates finish what is in their mailboxes, then stop.
  im.instances->close();
  if (im.opts.deterministic)
    im.run_pending();
  else
    im.instances->wait_until_empty(im.opts.request_timeout.count() > 0
                                     ? im.opts.request_timeout
                                     : std::chrono::milliseconds{30'000});
  im.stop();
}

void runtime::impl::stop() {
  pump.reset();
  // The journal commits what is queued before it exits.
  for (auto* a : {&node, &journal, &readers, &refuse, &sweeper, &projections})
    if (*a)
      caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
  run_pending();
  deadlines.reset(); // it holds references to callers
  ctx.reset();
  node = journal = readers = refuse = sweeper = projections = nullptr;
  sys.reset(); // waits for every actor to finish
}

void runtime::dispatch(
  const actors::aggregate_model& model, const std::string& id,
  const std::function<void(const caf::actor&, bool routed)>& send) {
  auto& im = *impl_;
  if (im.view && !im.view->owns(model.type(), id)) {
    send(im.node, true);
    return;
  }
  auto spawn = [&](bool waiting) {
    return actors::spawn_aggregate(*im.sys, im.ctx, model, id, waiting);
  };
  auto local = [&](const caf::actor& a) { send(a, false); };
  if (!im.instances->dispatch(model.type(), id, spawn, local))
    send(im.refuse, false);
}

void runtime::host(const actors::aggregate_model& model) {
  if (impl_->view)
    impl_->view->host(model);
}

caf::expected<std::vector<cluster_member>> runtime::members() {
  if (!impl_->node)
    return actors::make_error(ec::invalid_argument,
                              "this runtime has no networking (node_port "
                              "and via are not set)");
  return impl_->ask<std::vector<cluster_member>>([&](caf::scoped_actor& self) {
    return self->request(impl_->node, timeout(), detail::members_atom::value);
  });
}

caf::expected<command_result>
runtime::execute(const actors::aggregate_model& model, const std::string& id,
                 actors::command_msg msg) {
  return impl_->ask<command_result>([&](caf::scoped_actor& self) {
    return send_command(self.ptr(), model, id, std::move(msg));
  });
}

caf::expected<actors::state_view>
runtime::inspect(const actors::aggregate_model& model, const std::string& id) {
  return impl_->ask<actors::state_view>([&](caf::scoped_actor& self) {
    using handle_type = decltype(self->request(
      std::declval<caf::actor>(), caf::duration{},
      actors::state_atom::value));
    std::optional<handle_type> handle;
    dispatch(model, id, [&](const caf::actor& target, bool routed) {
      if (routed)
        handle.emplace(self->request(target, timeout(),
                                     actors::routed_inspect{&model, id}));
      else
        handle.emplace(
          self->request(target, timeout(), actors::state_atom::value));
    });
    return std::move(*handle);
  });
}

caf::expected<std::vector<persistence::recorded_event>>
runtime::read_stream(const std::string& stream_id) {
  // A client reads through its node.
  auto& reader = impl_->client() ? impl_->node : impl_->readers;
  auto r = impl_->ask<actors::stream_events>([&](caf::scoped_actor& self) {
    return self->request(reader, timeout(),
                         actors::read_stream_msg{stream_id, 1});
  });
  if (!r)
    return r.error();
  return std::move(r->events);
}

uint16_t runtime::node_port() const {
  return impl_->port;
}

size_t runtime::live_aggregates() const {
  return impl_->instances->live();
}

caf::actor_system& runtime::system() {
  return *impl_->sys;
}

caf::duration runtime::timeout() const {
  return impl_->ctx->timeout;
}

caf::duration runtime::command_timeout() const {
  return impl_->deadlines ? caf::infinite : timeout();
}

void runtime::watch(caf::strong_actor_ptr caller, caf::message_id id) {
  if (impl_->deadlines)
    impl_->deadlines->watch(std::move(caller), id);
}

const runtime_options& runtime::options() const {
  return impl_->opts;
}

} // namespace es
