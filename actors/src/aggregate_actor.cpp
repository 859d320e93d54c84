#include "es/actors/aggregate_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "es/actors/aggregate_model.hpp"
#include "es/actors/errors.hpp"
#include "es/actors/messages.hpp"
#include "es/actors/registry.hpp"

namespace es::actors {

namespace {

using persistence::json;

struct aggregate_state {
  std::shared_ptr<const aggregate_context> ctx;
  const aggregate_model* model = nullptr;
  std::string id;
  int64_t version = 0;
  std::shared_ptr<void> state;

  static inline const char* name = "es.aggregate";
};

using aggregate_actor = caf::stateful_actor<aggregate_state>;
using promise = caf::typed_response_promise<command_result>;

caf::behavior running(aggregate_actor* self);
void handle(aggregate_actor* self, std::shared_ptr<const command_msg> msg,
            std::string command_id, promise rp, int attempt);

// The metadata of a command's events: its id, and the correlation and
// causation ids the caller gave (absent when it gave none: repeating the
// command id made every row 120 bytes longer, for no information).
json metadata_of(const command_msg& msg, const std::string& id) {
  // Built in place: an initializer list would copy every value twice.
  const auto& m = msg.metadata;
  json out(json::value_t::object);
  auto& o = out.get_ref<json::object_t&>();
  o.emplace("command_id", id);
  if (!m.correlation_id.empty())
    o.emplace("correlation_id", m.correlation_id);
  if (!m.causation_id.empty())
    o.emplace("causation_id", m.causation_id);
  return out;
}


// Answers every later command with `err` and passivates: the next command
// gets a fresh instance that recovers again.
void fail(aggregate_actor* self, const caf::error& err) {
  auto& st = self->state;
  self->become([self, err](command_msg&) -> caf::result<command_result> {
    return err;
  },
               [err](state_atom) -> caf::result<state_view> { return err; },
               [self](passivate_atom) {
                 auto& st = self->state;
                 st.ctx->instances->finish(st.model->type(), st.id,
                                           self->address());
                 self->quit();
               },
               [](go_atom) {
                 // nop
               });
  st.ctx->instances->passivate(st.model->type(), st.id, self->address());
}

// Applies stored events in order; returns an error for a gap or an event
// that cannot be decoded.
es::error replay(aggregate_actor* self,
                 const std::vector<recorded_event>& events) {
  auto& st = self->state;
  for (const auto& e : events) {
    if (e.version != st.version + 1)
      return {ec::corrupt_event, "stream '" + st.id + "' jumps from version "
                                   + std::to_string(st.version) + " to "
                                   + std::to_string(e.version)};
    if (auto err = st.model->apply_recorded(st.state.get(), e))
      return err;
    st.version = e.version;
  }
  return {};
}

void replay_all(aggregate_actor* self) {
  auto& st = self->state;
  self->request(st.ctx->readers, st.ctx->timeout, read_stream_msg{st.id, 1})
    .await(
      [self](stream_events& s) {
        auto& st = self->state;
        st.state = st.model->initial_state();
        st.version = 0;
        if (auto err = replay(self, s.events))
          fail(self, to_caf(err));
      },
      [self](caf::error& err) { fail(self, err); });
}

// Phase 1 and 2: the latest snapshot, then the events after it. Commands
// wait in the mailbox (await) until the state is current.
void recover(aggregate_actor* self) {
  auto& st = self->state;
  bool with_snapshot = st.ctx->snapshots.interval() > 0
                       && st.model->snapshots();
  self
    ->request(st.ctx->readers, st.ctx->timeout,
              recover_msg{st.id, with_snapshot})
    .await(
      [self](recovered& r) {
        auto& st = self->state;
        st.state = st.model->initial_state();
        st.version = 0;
        if (r.snapshot) {
          // A snapshot of another state shape (or unreadable) is ignored.
          auto loaded = r.snapshot->schema_version
                            == st.model->state_schema_version()
                          ? st.model->load(r.snapshot->state)
                          : result<std::shared_ptr<void>>{ec::corrupt_event,
                                                          "old schema"};
          if (!loaded) {
            replay_all(self);
            return;
          }
          st.state = std::move(*loaded);
          st.version = r.snapshot->version;
        }
        if (auto err = replay(self, r.events))
          fail(self, to_caf(err));
      },
      [self](caf::error& err) { fail(self, err); });
}

void snapshot_if_due(aggregate_actor* self, int64_t before) {
  auto& st = self->state;
  if (!st.ctx->snapshots.due(before, st.version) || !st.model->snapshots())
    return;
  persistence::snapshot s;
  s.stream_id = st.id;
  s.stream_type = st.model->type();
  s.version = st.version;
  s.schema_version = st.model->state_schema_version();
  s.state = st.model->save(st.state.get());
  self->send(st.ctx->readers, save_snapshot_msg{std::move(s)});
}

// Reads what another writer appended, then runs the command again (unless
// the retries are used up).
void catch_up(aggregate_actor* self, std::shared_ptr<const command_msg> msg,
              std::string command_id, promise rp, int attempt) {
  auto& st = self->state;
  self
    ->request(st.ctx->readers, st.ctx->timeout,
              read_stream_msg{st.id, st.version + 1})
    .await(
      [=](stream_events& s) mutable {
        if (auto err = replay(self, s.events)) {
          rp.deliver(to_caf(err));
          fail(self, to_caf(err));
          return;
        }
        if (attempt > self->state.ctx->max_conflict_retries) {
          rp.deliver(make_error(ec::conflict,
                                "stream '" + self->state.id
                                  + "' kept changing: gave up after "
                                  + std::to_string(attempt) + " attempts"));
          return;
        }
        handle(self, std::move(msg), std::move(command_id), std::move(rp), attempt);
      },
      [rp](caf::error& err) mutable { rp.deliver(err); });
}

void handle(aggregate_actor* self, std::shared_ptr<const command_msg> msg,
            std::string command_id, promise rp, int attempt) {
  auto& st = self->state;
  // Metadata is built for each attempt and moved into the events.
  auto done = std::make_shared<execution>(st.model->execute(
    st.state.get(), msg->command.get(), metadata_of(*msg, command_id)));
  if (done->rejected) {
    rp.deliver(make_error(ec::rejected, done->reason));
    return;
  }
  if (done->events.empty()) {
    rp.deliver(command_result{st.version, {}});
    return;
  }
  persistence::append_request req{
    st.id, st.model->type(), persistence::expected_version::exact(st.version),
    std::move(done->events)};
  // No timer on the hot path (CAF keeps every request timeout until it
  // expires): the journal answers every append it took, also when it is
  // killed (see journal.cpp), and CAF answers the ones still in its mailbox.
  self->request(st.ctx->journal, caf::infinite, append_msg{std::move(req)})
    .await(
      [self, done, rp](append_reply& r) mutable {
        auto& st = self->state;
        auto before = st.version;
        st.model->apply_pending(st.state.get(), *done);
        st.version = r.result.version;
        rp.deliver(command_result{st.version, std::move(r.events)});
        snapshot_if_due(self, before);
      },
      [self, msg, id = std::move(command_id), rp,
       attempt](caf::error& err) mutable {
        // After a conflict the state is behind: catch up even when no
        // retry is left, so that the caller's retry can succeed.
        if (from_caf(err).code() == ec::conflict) {
          catch_up(self, std::move(msg), std::move(id), std::move(rp),
                   attempt + 1);
          return;
        }
        rp.deliver(err);
      });
}


caf::behavior running(aggregate_actor* self) {
  return {
    [self](command_msg& msg) -> caf::result<command_result> {
      auto rp = self->make_response_promise<command_result>();
      handle(self, std::make_shared<const command_msg>(std::move(msg)),
             persistence::uuid::v7().to_string(), rp, 0);
      return rp;
    },
    [self](state_atom) -> state_view {
      auto& st = self->state;
      return {st.model->copy(st.state.get()), st.version};
    },
    [self](passivate_atom) {
      auto& st = self->state;
      st.ctx->instances->finish(st.model->type(), st.id, self->address());
      self->quit();
    },
    [](go_atom) {
      // nop: only a waiting successor needs it
    },
  };
}

caf::behavior aggregate(aggregate_actor* self,
                        std::shared_ptr<const aggregate_context> ctx,
                        const aggregate_model* model, std::string id,
                        bool waiting) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.model = model;
  st.id = std::move(id);
  // However it ends, the registry must forget (or hand over) this instance.
  self->attach_functor([instances = st.ctx->instances, type = model->type(),
                        id = st.id, addr = self->address()] {
    instances->finish(type, id, addr);
  });
  if (waiting) {
    self->set_default_handler(caf::skip);
    return {[self](go_atom) {
      self->set_default_handler(caf::print_and_drop);
      self->become(running(self));
      recover(self);
    }};
  }
  recover(self);
  return running(self);
}

} // namespace

caf::actor spawn_aggregate(caf::actor_system& sys,
                           std::shared_ptr<const aggregate_context> ctx,
                           const aggregate_model& model, std::string id,
                           bool waiting) {
  return sys.spawn(aggregate, std::move(ctx), &model, std::move(id), waiting);
}

command_metadata command_metadata::caused_by(const recorded_event& cause) {
  auto event_id = cause.event_id.to_string();
  auto text = [&](const char* key) -> const std::string* {
    auto i = cause.metadata.find(key);
    return i != cause.metadata.end() && i->is_string()
             ? &i->get_ref<const std::string&>()
             : nullptr;
  };
  const auto* correlation = text("correlation_id");
  if (!correlation)
    correlation = text("command_id");
  return {correlation ? *correlation : event_id, event_id};
}

} // namespace es::actors
