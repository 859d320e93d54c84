// The projection actor: what happens to the events the feed brings (see
// engine.hpp): the handler, retries with backoff, the error policies,
// operators' controls and re-driven dead letters.
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "engine.hpp"
#include "es/actors/errors.hpp"
#include "es/actors/journal.hpp"

namespace es::projections::detail {

namespace {

using persistence::postgres_read_model;

std::chrono::milliseconds backoff(const projection_options& opts,
                                  int attempt) {
  auto d = opts.backoff;
  for (int i = 1; i < attempt && d < opts.max_backoff; ++i)
    d *= 2;
  return std::min(d, opts.max_backoff);
}

void resync(projection_actor* self);
void apply_policy(projection_actor* self, const recorded_event& e);

// A handler failed at `e` (everything before it is handled).
void failed_at(projection_actor* self, const recorded_event& e,
               std::string what, bool poison) {
  auto& st = self->state;
  ++st.attempts;
  st.last_error = std::move(what);
  st.error_position = e.global_position;
  if (poison || st.attempts > st.def->options().max_retries) {
    apply_policy(self, e);
    return;
  }
  retry_after(self, backoff(st.def->options(), st.attempts));
  report(self);
}

void handled(projection_actor* self, int64_t reaches) {
  auto& st = self->state;
  st.rate.add(reaches - st.checkpoint);
  st.checkpoint = reaches;
  st.consume();
  if (st.error_position > 0 && st.error_position <= reaches) {
    st.attempts = 0; // past the event that failed
    st.last_error.clear();
    st.error_position = 0;
  }
  if (st.in_memory()
      && st.checkpoint - st.reported
           >= static_cast<int64_t>(st.def->options().checkpoint_every))
    report(self);
  if (st.phase == projection_state::catching_up && st.caught_up())
    set_phase(self, projection_state::live);
}

void work_in_memory(projection_actor* self, const selection& sel) {
  const auto& handle = self->state.def->memory_handler();
  for (const recorded_event& e : sel.events) {
    try {
      handle(e);
    } catch (const poison_event& ex) {
      handled(self, e.global_position - 1);
      return failed_at(self, e, ex.what(), true);
    } catch (const std::exception& ex) {
      handled(self, e.global_position - 1);
      return failed_at(self, e, ex.what(), false);
    } catch (...) {
      handled(self, e.global_position - 1);
      return failed_at(self, e, "the handler threw a non-exception", false);
    }
  }
  handled(self, sel.reaches);
}

// Runs one transaction; returns false when it failed (and was dealt with).
bool transact(projection_actor* self, int64_t to,
              const postgres_read_model::update_fn& update,
              const dead_letter* poison) {
  auto& st = self->state;
  auto r = st.read_model->apply(st.def->name(), st.stored, to, update, poison);
  if (r) {
    st.stored = to;
    if (st.error_position == 0)
      st.last_error.clear(); // the database is back
    return true;
  }
  if (r.error().code() == ec::conflict) {
    resync(self);
  } else {
    // The database is away: wait, then try the same events again.
    st.last_error = r.error().message();
    retry_after(self, outage_pause(st.def->options()));
    report(self);
  }
  return false;
}

// The handler threw for a PostgreSQL batch (nothing of it was applied).
void handler_failed(projection_actor* self, const selection& sel,
                    std::string what, bool poison) {
  auto& st = self->state;
  if (sel.events.size() > 1) {
    // Find the one that fails: one event per transaction for a while.
    st.single_until = sel.reaches;
    return;
  }
  const recorded_event& e = sel.events.front();
  handled(self, e.global_position - 1);
  failed_at(self, e, std::move(what), poison);
}

void work_postgres(projection_actor* self, const selection& sel) {
  auto& st = self->state;
  if (sel.events.empty()
      && sel.reaches - st.stored
           < static_cast<int64_t>(st.def->options().checkpoint_every)) {
    handled(self, sel.reaches); // only filtered-out events: store it later
    return;
  }
  const auto& handle = st.def->postgres_handler();
  try {
    auto update = [&](pqxx::transaction_base& tx) {
      if (!sel.events.empty())
        handle(tx, sel.events);
    };
    if (transact(self, sel.reaches, update, nullptr))
      handled(self, sel.reaches);
  } catch (const std::exception& ex) {
    handler_failed(self, sel, ex.what(),
                   dynamic_cast<const poison_event*>(&ex) != nullptr);
  } catch (...) {
    handler_failed(self, sel, "the handler threw a non-exception", false);
  }
}

} // namespace

void work(projection_actor* self) {
  auto& st = self->state;
  st.work_scheduled = false;
  if (st.halted() || st.waiting)
    return;
  size_t limit = !st.in_memory() && st.checkpoint < st.single_until
                   ? 1
                   : st.def->options().batch_size;
  auto sel = select(st, limit);
  if (sel.reaches > st.checkpoint) {
    if (st.in_memory())
      work_in_memory(self, sel);
    else
      work_postgres(self, sel);
  }
  schedule_work(self);
  maybe_read(self);
}

namespace {

void apply_policy(projection_actor* self, const recorded_event& e) {
  auto& st = self->state;
  if (st.def->options().on_error == error_policy::stop) {
    st.attempts = 0;
    set_phase(self, projection_state::failed);
    return;
  }
  auto letter = persistence::make_dead_letter(st.def->name(), e,
                                              st.last_error);
  if (st.in_memory()) {
    self->send(st.manager, dead_letter_msg{std::move(letter)});
  } else if (!transact(self, e.global_position,
                             [](pqxx::transaction_base&) {}, &letter)) {
    return;
  }
  st.attempts = 0;
  handled(self, e.global_position);
  report(self);
  schedule_work(self);
}

// Another runner moved the stored checkpoint: start over from there.
void resync(projection_actor* self) {
  auto& st = self->state;
  auto cp = st.read_model->checkpoint(st.def->name());
  st.clear();
  if (cp) {
    st.checkpoint = st.stored = *cp;
  } else {
    st.last_error = cp.error().message();
    retry_after(self, outage_pause(st.def->options()));
  }
}

caf::error reset(projection_actor* self) {
  auto& st = self->state;
  if (st.in_memory()) {
    try {
      if (auto& hook = st.def->memory_reset_hook())
        hook();
    } catch (const std::exception& ex) {
      return actors::make_error(ec::unavailable,
                                std::string{"reset hook failed: "}
                                  + ex.what());
    }
  } else {
    const auto& hook = st.def->postgres_reset_hook();
    try {
      auto r = st.read_model->reset(st.def->name(),
                                    [&](pqxx::transaction_base& tx) {
                                      if (hook)
                                        hook(tx);
                                    });
      if (!r)
        return actors::to_caf(r.error());
    } catch (const std::exception& ex) {
      return actors::make_error(ec::unavailable,
                                std::string{"reset hook failed: "}
                                  + ex.what());
    }
  }
  st.clear();
  st.checkpoint = st.stored = 0;
  st.last_error.clear();
  st.error_position = 0;
  st.rate = rate_meter{};
  return caf::none;
}

void restart(projection_actor* self) {
  auto& st = self->state;
  st.attempts = 0;
  st.need_read = true;
  self->state.phase = projection_state::catching_up;
  report(self);
  schedule_work(self);
  maybe_read(self);
}

caf::error control(projection_actor* self, projection_op op) {
  auto& st = self->state;
  switch (op) {
    case projection_op::pause:
      set_phase(self, projection_state::paused);
      return caf::none;
    case projection_op::resume:
      if (st.phase == projection_state::paused)
        restart(self);
      return caf::none;
    case projection_op::retry:
      if (st.phase == projection_state::failed)
        restart(self);
      return caf::none;
    case projection_op::reset:
    case projection_op::rebuild:
      break;
  }
  if (auto err = reset(self))
    return err;
  if (op == projection_op::reset) {
    st.phase = projection_state::paused;
    report(self);
  } else {
    restart(self);
  }
  return caf::none;
}

caf::result<bool> redrive(projection_actor* self, redrive_msg& msg) {
  auto& st = self->state;
  try {
    if (st.in_memory()) {
      st.def->memory_handler()(msg.event);
      return false;
    }
    event_refs one{std::cref(msg.event)};
    auto r = st.read_model->redrive(
      msg.letter.id,
      [&](pqxx::transaction_base& tx) { st.def->postgres_handler()(tx, one); });
    if (!r)
      return actors::to_caf(r.error());
    return true;
  } catch (const std::exception& ex) {
    return actors::make_error(ec::rejected,
                              std::string{"the handler failed again: "}
                                + ex.what());
  }
}

caf::behavior projection_behavior(projection_actor* self,
                                  projection_setup setup) {
  auto& st = self->state;
  st.def = std::move(setup.def);
  st.readers = std::move(setup.readers);
  st.manager = std::move(setup.manager);
  st.read_model = std::move(setup.read_model);
  st.wake_delay = setup.wake_delay;
  const auto& rec = setup.record;
  if (!st.in_memory() || st.def->options().resume_from_checkpoint)
    st.checkpoint = st.stored = rec.checkpoint;
  st.reported = -1;
  st.phase = rec.state == projection_state::paused
               ? projection_state::paused
               : projection_state::catching_up;
  report(self);
  actors::join_bus(self);
  maybe_read(self);
  self->set_exception_handler([self](std::exception_ptr& ptr) -> caf::error {
    auto& st = self->state;
    try {
      std::rethrow_exception(ptr);
    } catch (const std::exception& ex) {
      st.last_error = std::string{"projection crashed: "} + ex.what();
    } catch (...) {
      st.last_error = "projection crashed";
    }
    st.phase = projection_state::failed;
    report(self);
    return caf::exit_reason::unhandled_exception;
  });
  return {
    [self](const batch_ptr& batch) { on_bus(self, batch); },
    [self](work_atom) { work(self); },
    [self](retry_atom, uint64_t timers) {
      if (timers != self->state.timers)
        return; // from before a reset or rebuild
      self->state.waiting = false;
      schedule_work(self);
      maybe_read(self);
    },
    [self](read_atom) { maybe_read(self); },
    [self](const head_msg& msg) { on_head(self, msg.position); },
    [self](check_atom) {
      auto& st = self->state;
      st.check_scheduled = false;
      if (st.head_hint > st.queue_end()) {
        st.need_read = true;
        if (st.reading > 0)
          st.gap_while_reading = true; // those reads may predate the head
        maybe_read(self);
      }
    },
    [self](const control_msg& msg) -> caf::result<void> {
      if (auto err = control(self, msg.op))
        return err;
      return caf::unit;
    },
    [self](status_atom) {
      auto& st = self->state;
      projection_status s;
      s.name = st.def->name();
      s.kind = st.def->what();
      s.state = st.phase;
      s.checkpoint = st.checkpoint;
      s.last_error = st.last_error;
      s.error_position = st.error_position;
      s.events_per_second = st.rate.per_second();
      return s;
    },
    [self](redrive_msg& msg) { return redrive(self, msg); },
  };
}

} // namespace

void retry_after(projection_actor* self, std::chrono::milliseconds delay) {
  auto& st = self->state;
  st.waiting = true;
  self->delayed_send(self, delay, retry_atom::value, st.timers);
}

caf::actor spawn_projection(caf::actor_system& sys, projection_setup setup,
                            bool detached) {
  if (detached)
    return sys.spawn<caf::detached>(projection_behavior, std::move(setup));
  return sys.spawn(projection_behavior, std::move(setup));
}

} // namespace es::projections::detail
