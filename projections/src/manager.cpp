#include "es/projections/manager.hpp"

#include <map>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "es/actors/errors.hpp"
#include "es/actors/messages.hpp"
#include "protocol.hpp"

namespace es::projections {

namespace {

using detail::report_msg;

struct manager_state {
  manager_config cfg;
  struct entry {
    std::shared_ptr<const projection> def;
    caf::actor actor;
  };
  std::map<std::string, entry, std::less<>> running;
  // Projections whose lease another node holds (cfg.leases only).
  std::map<std::string, std::shared_ptr<const projection>, std::less<>>
    standby;
  // Dead letters the catalog could not take yet; retried on each poll.
  std::vector<dead_letter> unsaved;
  // Finished requests the catalog could not record yet; also retried.
  struct applied_mark {
    std::string name;
    int64_t id;
    std::string error;
  };
  std::vector<applied_mark> unapplied;
  // Dead letters being redriven.
  std::set<int64_t> redriving;

  static inline const char* name = "es.projection_manager";
};

using manager_actor = caf::stateful_actor<manager_state>;

caf::error check_add(manager_actor* self, const projection& def) {
  auto& st = self->state;
  if (st.running.count(def.name()) > 0 || st.standby.count(def.name()) > 0)
    return actors::make_error(ec::invalid_argument,
                              "projection '" + def.name()
                                + "' is already running on this node");
  if (def.what() == projection::kind::postgres && st.cfg.database_url.empty())
    return actors::make_error(ec::invalid_argument,
                              "projection '" + def.name()
                                + "' is a PostgreSQL read model: the "
                                  "runtime needs a PostgreSQL store");
  bool has_handler = def.what() == projection::kind::in_memory
                       ? static_cast<bool>(def.memory_handler())
                       : static_cast<bool>(def.postgres_handler());
  if (!has_handler || def.options().batch_size == 0
      || def.options().max_retries < 0)
    return actors::make_error(ec::invalid_argument,
                              "projection '" + def.name()
                                + "' needs a handler, batch_size >= 1 and "
                                  "max_retries >= 0");
  return caf::none;
}

// Deletes the dead letters of `name`: its read model starts over and will
// meet those events again (redriving one later would apply it twice).
void drop_letters(manager_actor* self, const std::string& name) {
  auto& catalog = *self->state.cfg.catalog;
  for (;;) {
    auto letters = catalog.dead_letters(name);
    if (!letters || letters->empty())
      return;
    for (auto& d : *letters)
      if (!catalog.remove_dead_letter(d.id))
        return;
  }
}

// What the manager does before a projection gets `op`: a reset or rebuild
// of the in-memory kind drops its dead letters (PostgreSQL read models do
// it in the reset's transaction).
void before_control(manager_actor* self, const manager_state::entry& e,
                    const std::string& name, projection_op op) {
  bool starts_over = op == projection_op::reset
                     || op == projection_op::rebuild;
  if (starts_over && e.def->what() == projection::kind::in_memory)
    drop_letters(self, name);
}

// Starts `def` on this node (it holds the lease, or there are none).
caf::error start(manager_actor* self, std::shared_ptr<const projection> def) {
  auto& st = self->state;
  const auto& name = def->name();
  auto rec = st.cfg.catalog->register_projection(name);
  if (!rec)
    return actors::to_caf(rec.error());
  // A request taken by a node that stopped before it finished: say so, so
  // that whoever waits for it learns (the operation itself is lost).
  if (rec->request_id > rec->applied_id && !rec->requested)
    (void) st.cfg.catalog->set_applied(
      name, rec->request_id,
      "the node that took this request stopped before it finished; request "
      "it again");
  // Retries of its dead letters such a node was running: requested again.
  if (auto letters = st.cfg.catalog->dead_letters(name, 10'000))
    for (const auto& d : *letters)
      if (d.retry == persistence::retry_state::running)
        (void) st.cfg.catalog->request_retry(d.id);
  detail::projection_setup setup{def, st.cfg.readers, self, nullptr,
                                 std::move(*rec), st.cfg.wake_delay};
  bool detached = false;
  if (def->what() == projection::kind::postgres) {
    auto rm = persistence::postgres_read_model::open(st.cfg.database_url,
                                                     st.cfg.database);
    if (!rm)
      return actors::to_caf(rm.error());
    setup.read_model = std::move(*rm);
    detached = st.cfg.detached;
  }
  if (def->what() == projection::kind::in_memory
      && !def->options().resume_from_checkpoint)
    drop_letters(self, name); // it starts from the first event again
  auto actor = detail::spawn_projection(self->system(), std::move(setup),
                                        detached);
  self->monitor(actor);
  st.running.emplace(name, manager_state::entry{def, actor});
  // A request an operator made while no node ran it.
  self->send(self, requested_atom::value, name);
  return caf::none;
}

std::string lease_of(const std::string& name) {
  return "projection:" + name;
}

// Starts the standby projections whose lease this node can take now.
void take_over(manager_actor* self) {
  auto& st = self->state;
  for (auto i = st.standby.begin(); i != st.standby.end();) {
    auto got = st.cfg.leases->try_acquire(lease_of(i->first));
    if (!got || !*got) {
      ++i;
      continue;
    }
    auto def = i->second;
    i = st.standby.erase(i);
    if (auto err = start(self, def)) {
      (void) st.cfg.leases->release(lease_of(def->name()));
      st.standby.emplace(def->name(), def); // try again at the next poll
    }
  }
}

// Keeps the leases of the running projections. A lost lease connection
// loses them all: take each again, and stop those another node took
// meanwhile. While the database cannot be reached, nobody can take them:
// they go on.
void keep_leases(manager_actor* self) {
  auto& st = self->state;
  auto& leases = *st.cfg.leases;
  (void) leases.check(); // a lost connection empties held()
  for (auto i = st.running.begin(); i != st.running.end();) {
    auto lease = lease_of(i->first);
    if (leases.held().count(lease) == 0) {
      auto got = leases.try_acquire(lease);
      if (got && !*got) {
        self->demonitor(i->second.actor);
        self->send_exit(i->second.actor, caf::exit_reason::user_shutdown);
        st.standby.emplace(i->first, i->second.def);
        i = st.running.erase(i);
        continue;
      }
    }
    ++i;
  }
  take_over(self);
}

caf::result<void> add(manager_actor* self, add_projection_msg& msg) {
  auto& st = self->state;
  if (!msg.def)
    return actors::make_error(ec::invalid_argument, "no projection given");
  if (auto err = check_add(self, *msg.def))
    return err;
  const auto& name = msg.def->name();
  if (st.cfg.leases) {
    auto got = st.cfg.leases->try_acquire(lease_of(name));
    if (!got)
      return actors::to_caf(got.error());
    if (!*got) { // another node runs it; take over when it goes
      if (auto rec = st.cfg.catalog->register_projection(name); !rec)
        return actors::to_caf(rec.error());
      st.standby.emplace(name, msg.def);
      return caf::unit;
    }
  }
  if (auto err = start(self, msg.def)) {
    if (st.cfg.leases)
      (void) st.cfg.leases->release(lease_of(name));
    return err;
  }
  return caf::unit;
}

void save_report(manager_actor* self, const report_msg& msg) {
  auto& catalog = *self->state.cfg.catalog;
  // Best effort: the next report repairs a lost one.
  (void) catalog.set_state(msg.name, msg.state, msg.last_error,
                           msg.error_position);
  if (msg.checkpoint >= 0)
    (void) catalog.set_checkpoint(msg.name, msg.checkpoint);
}

void save_dead_letters(manager_actor* self) {
  auto& st = self->state;
  auto pending = std::move(st.unsaved);
  st.unsaved.clear();
  for (auto& d : pending)
    if (!st.cfg.catalog->add_dead_letter(d))
      st.unsaved.push_back(std::move(d));
}

// Applies what operators queued in the catalog for `name` (through the
// CLI, while no node was reachable directly).
void save_applied(manager_actor* self) {
  auto& st = self->state;
  auto pending = std::move(st.unapplied);
  st.unapplied.clear();
  for (auto& m : pending)
    if (!st.cfg.catalog->set_applied(m.name, m.id, m.error))
      st.unapplied.push_back(std::move(m));
}

void take_request(manager_actor* self, const std::string& name) {
  auto& st = self->state;
  auto i = st.running.find(name);
  if (i == st.running.end())
    return;
  auto req = st.cfg.catalog->take_request(name);
  if (req && *req) {
    auto [op, id] = **req;
    before_control(self, i->second, name, op);
    // The CLI waits for applied_id to reach the request's id.
    auto applied = [self, name, id = id](std::string error) {
      self->state.unapplied.push_back({name, id, std::move(error)});
      save_applied(self);
    };
    self->request(i->second.actor, caf::infinite, control_msg{name, op})
      .then([applied] { applied({}); },
            [applied](caf::error& err) {
              applied(actors::from_caf(err).message());
            });
  }
  // Dead letters an operator asked to retry: a redrive each, as
  // runtime::redrive does (which removes a handled letter). One that fails
  // again keeps the new error; one that could not run now is requested
  // again. (A request, not a send: a send's reply would come back as a
  // message the manager does not handle.)
  auto retries = st.cfg.catalog->take_retry_requests(name);
  if (!retries)
    return;
  for (auto id : *retries)
    self->request(caf::actor_cast<caf::actor>(self), caf::infinite,
                  redrive_atom::value, id)
      .then([](bool) {},
            [self, id = id](caf::error& err) {
              auto e = actors::from_caf(err);
              auto& catalog = *self->state.cfg.catalog;
              if (e.code() == ec::conflict)
                return; // being redriven: that redrive reports
              if (e.code() == ec::unavailable)
                (void) catalog.request_retry(id);
              else
                (void) catalog.retry_failed(id, e.message());
            });
}

void wake_all(manager_actor* self, int64_t head) {
  for (auto& [name, e] : self->state.running)
    self->send(e.actor, head_msg{head});
}

// Asks every projection for its status, then the readers for the head.
caf::result<std::vector<projection_status>> collect(manager_actor* self) {
  auto& st = self->state;
  auto rp = self->make_response_promise<std::vector<projection_status>>();
  struct pending {
    std::vector<projection_status> out;
    size_t missing = 0;
  };
  auto acc = std::make_shared<pending>();
  acc->missing = st.running.size() + 1;
  auto head = std::make_shared<int64_t>(-1); // unknown until read
  auto done = [self, rp, acc, head]() mutable {
    if (--acc->missing > 0)
      return;
    for (auto& s : acc->out) {
      // In-memory projections store their checkpoint only now and then:
      // what an operator just saw is worth storing.
      if (s.kind == projection::kind::in_memory && s.checkpoint > 0)
        (void) self->state.cfg.catalog->set_checkpoint(s.name, s.checkpoint);
      s.head = *head < 0 ? -1 : std::max(*head, s.checkpoint);
      s.lag = *head < 0 ? -1 : s.head - s.checkpoint;
    }
    for (const auto& [name, def] : self->state.standby) {
      projection_status s;
      s.name = name;
      s.kind = def->what();
      s.standby = true;
      s.head = *head;
      s.lag = -1;
      acc->out.push_back(std::move(s));
    }
    std::sort(acc->out.begin(), acc->out.end(),
              [](auto& a, auto& b) { return a.name < b.name; });
    rp.deliver(std::move(acc->out));
  };
  for (auto& [name, e] : st.running)
    self->request(e.actor, caf::infinite, status_atom::value)
      .then(
        [acc, done](projection_status& s) mutable {
          acc->out.push_back(std::move(s));
          done();
        },
        [acc, done, name = name](caf::error& err) mutable {
          projection_status s;
          s.name = name;
          s.state = projection_state::failed;
          s.last_error = actors::from_caf(err).message();
          acc->out.push_back(std::move(s));
          done();
        });
  self->request(st.cfg.readers, caf::infinite, actors::head_atom::value)
    .then([head, done](int64_t h) mutable {
            *head = h;
            done();
          },
          [done](caf::error&) mutable { done(); });
  return rp;
}

caf::result<bool> redrive(manager_actor* self, int64_t id) {
  auto& st = self->state;
  auto found = st.cfg.catalog->find_dead_letter(id);
  if (!found)
    return actors::to_caf(found.error());
  if (!*found)
    return actors::make_error(ec::not_found,
                              "no dead letter " + std::to_string(id));
  auto letter = std::move(**found);
  auto i = st.running.find(letter.projection);
  if (i == st.running.end())
    return actors::make_error(ec::not_found,
                              "projection '" + letter.projection
                                + "' does not run on this node");
  // One redrive of a letter at a time: the in-memory kind has no
  // transaction that would stop a second one from applying it again.
  if (!st.redriving.insert(id).second)
    return actors::make_error(ec::conflict, "dead letter " + std::to_string(id)
                                              + " is being redriven");
  auto rp = self->make_response_promise<bool>();
  auto fail = [self, rp, id](caf::error err) mutable {
    self->state.redriving.erase(id);
    rp.deliver(std::move(err));
  };
  auto target = i->second.actor;
  actors::read_all_msg read{letter.global_position - 1, 1, {}};
  self->request(st.cfg.readers, caf::infinite, std::move(read))
    .then(
      [self, rp, fail, target, letter](persistence::feed_page& page) mutable {
        if (page.events.empty()
            || page.events.front().global_position != letter.global_position)
          return fail(actors::make_error(ec::not_found,
                                         "the event of dead letter "
                                           + std::to_string(letter.id)
                                           + " is not in the store"));
        detail::redrive_msg msg{letter, std::move(page.events.front())};
        self->request(target, caf::infinite, std::move(msg))
          .then(
            [self, rp, id = letter.id](bool removed) mutable {
              if (!removed)
                (void) self->state.cfg.catalog->remove_dead_letter(id);
              self->state.redriving.erase(id);
              rp.deliver(true);
            },
            [fail](caf::error& err) mutable { fail(std::move(err)); });
      },
      [fail](caf::error& err) mutable { fail(std::move(err)); });
  return rp;
}

caf::behavior manager(manager_actor* self, manager_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    for (auto& [name, e] : self->state.running)
      self->send_exit(e.actor, msg.reason);
    self->state.running.clear();
    self->quit(msg.reason);
  });
  // A projection actor that died (a bug: handlers' exceptions are caught)
  // is recorded as failed and can be added again.
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& running = self->state.running;
    for (auto i = running.begin(); i != running.end(); ++i) {
      if (i->second.actor.address() != msg.source)
        continue;
      (void) self->state.cfg.catalog->set_state(
        i->first, projection_state::failed,
        "the projection actor stopped: " + to_string(msg.reason));
      running.erase(i);
      return;
    }
  });
  self->delayed_send(self, self->state.cfg.poll_interval,
                     detail::poll_atom::value);
  return {
    [self](add_projection_msg& msg) { return add(self, msg); },
    [self](const report_msg& msg) { save_report(self, msg); },
    [self](detail::dead_letter_msg& msg) {
      self->state.unsaved.push_back(std::move(msg.letter));
      save_dead_letters(self);
    },
    [self](requested_atom, const std::string& name) {
      take_request(self, name);
    },
    [self](const head_msg& msg) { wake_all(self, msg.position); },
    [self](detail::poll_atom) {
      auto& st = self->state;
      if (st.cfg.leases)
        keep_leases(self);
      for (auto& [name, e] : st.running)
        take_request(self, name);
      save_dead_letters(self);
      save_applied(self);
      self->request(st.cfg.readers, caf::infinite, actors::head_atom::value)
        .then([self](int64_t head) { wake_all(self, head); },
              [](caf::error&) { /* the store is away: next poll */ });
      self->delayed_send(self, st.cfg.poll_interval, detail::poll_atom::value);
    },
    [self](status_atom) { return collect(self); },
    [self](const control_msg& msg) -> caf::result<void> {
      auto i = self->state.running.find(msg.name);
      if (i == self->state.running.end())
        return actors::make_error(ec::not_found,
                                  "projection '" + msg.name
                                    + "' does not run on this node");
      before_control(self, i->second, msg.name, msg.op);
      self->delegate(i->second.actor, msg);
      return caf::delegated<void>{};
    },
    [self](dead_letters_atom, const std::string& projection)
      -> caf::result<std::vector<dead_letter>> {
      auto all = self->state.cfg.catalog->dead_letters(projection);
      if (!all)
        return actors::to_caf(all.error());
      return std::move(*all);
    },
    [self](redrive_atom, int64_t id) { return redrive(self, id); },
    [self](discard_atom, int64_t id) -> caf::result<bool> {
      auto r = self->state.cfg.catalog->remove_dead_letter(id);
      if (!r)
        return actors::to_caf(r.error());
      if (!*r)
        return actors::make_error(ec::not_found,
                                  "no dead letter " + std::to_string(id));
      return true;
    },
  };
}

} // namespace

caf::actor spawn_manager(caf::actor_system& sys, manager_config cfg) {
  if (cfg.detached)
    return sys.spawn<caf::detached>(manager, std::move(cfg));
  return sys.spawn(manager, std::move(cfg));
}

} // namespace es::projections
