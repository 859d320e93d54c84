// The node actor: admin requests, membership messages (membership.cpp),
// routing of commands and inspections to their owners, and the event-bus
// relay between members.
#include "node_state.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/stateful_actor.hpp>

#include "es/actors/aggregate_model.hpp"
#include "es/actors/errors.hpp"
#include "es/actors/journal.hpp"
#include "es/actors/messages.hpp"
#include "es/cluster.hpp"
#include "es/placement.hpp"
#include "es/projections/manager.hpp"
#include "wire.hpp"

namespace es::detail {

namespace {

// Answers a member's transport failure (it died, the link broke, it did not
// answer in time) as `unavailable`; the member's own errors pass unchanged.
caf::error from_member(const std::string& member, const caf::error& err) {
  if (err.category() == caf::atom("es"))
    return err;
  return actors::make_error(ec::unavailable,
                            "node " + member + " did not answer ("
                              + to_string(err)
                              + "): the command may or may not have been "
                                "applied");
}

// Sends `msg` to the member owning `key` and hands its reply, converted by
// `convert`, to `rp`; answers `unavailable` when no member is known.
template <class Reply, class Promise, class Msg, class Convert>
void forward(node_actor* self, const std::string& member, Promise rp, Msg msg,
             Convert convert) {
  auto& st = self->state;
  auto i = st.peers.find(member);
  if (i == st.peers.end()) {
    rp.deliver(actors::make_error(ec::unavailable,
                                  "node " + member + " is not a member"));
    return;
  }
  auto call = ++st.next_call;
  st.pending.emplace(call, pending_call{member, [rp](caf::error err) mutable {
                                          rp.deliver(std::move(err));
                                        }});
  self->request(i->second.handle, st.cfg.timeout, std::move(msg))
    .then(
      [self, call, rp, convert](Reply& reply) mutable {
        if (self->state.pending.erase(call) == 0)
          return; // answered when the member went away
        auto r = convert(reply);
        if (r)
          rp.deliver(std::move(*r));
        else
          rp.deliver(actors::to_caf(r.error()));
      },
      [self, call, member](caf::error& err) {
        auto i = self->state.pending.find(call);
        if (i == self->state.pending.end())
          return;
        auto fail = std::move(i->second.fail);
        self->state.pending.erase(i);
        fail(from_member(member, err));
      });
}

// The member a command for (type, id) goes to; empty: none known.
std::string route(node_actor* self, std::string_view type,
                  std::string_view id) {
  auto& st = self->state;
  if (st.client)
    return st.peers.empty() ? std::string{} : st.peers.begin()->first;
  return st.cfg.view->owner(type, id);
}

caf::error no_route(node_actor* self) {
  auto& st = self->state;
  if (st.client)
    return actors::make_error(ec::unavailable,
                              "not connected to node " + st.cfg.seeds.front());
  return actors::make_error(ec::unavailable, "no member owns it");
}

result<actors::command_result> from_wire(const wire_result& r) {
  auto batch = std::make_shared<actors::event_batch>();
  batch->reserve(r.events.size());
  for (const auto& w : r.events) {
    auto e = detail::from_wire(w);
    if (!e)
      return e.error();
    batch->push_back(std::move(*e));
  }
  auto n = batch->size();
  return actors::command_result{r.version, actors::event_slice{
                                             std::move(batch), 0, n}};
}

wire_result to_wire(const actors::command_result& r) {
  wire_result out{r.version, {}};
  out.events.reserve(r.events.size());
  for (const auto& e : r.events)
    out.events.push_back(detail::to_wire(e));
  return out;
}

// A command from another node (or a client) for an aggregate hosted here.
caf::result<wire_result> run_command(node_actor* self, wire_command& wc) {
  auto& st = self->state;
  auto* model = st.cfg.view->model(wc.type);
  if (model == nullptr)
    return actors::make_error(ec::not_found,
                              "node " + st.self_name()
                                + " hosts no aggregate type '" + wc.type
                                + "'");
  persistence::json j;
  try {
    j = persistence::json::parse(wc.command);
  } catch (const std::exception& ex) {
    return actors::make_error(ec::invalid_argument,
                              std::string{"the command is not JSON: "}
                                + ex.what());
  }
  auto cmd = model->decode_command(j);
  if (!cmd)
    return actors::to_caf(cmd.error());
  auto rp = self->make_response_promise<wire_result>();
  actors::command_msg msg{std::move(*cmd), {wc.correlation_id, wc.causation_id}};
  bool open = st.cfg.dispatch(*model, wc.id, [&](const caf::actor& a) {
    self->request(a, st.cfg.timeout, std::move(msg))
      .then([rp](actors::command_result& r) mutable { rp.deliver(to_wire(r)); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  });
  if (!open)
    rp.deliver(
      actors::make_error(ec::unavailable, "the node is shutting down"));
  return rp;
}

// The state of an aggregate hosted here, for another node.
caf::result<wire_state> run_inspect(node_actor* self, const wire_inspect& wi) {
  auto& st = self->state;
  auto* model = st.cfg.view->model(wi.type);
  if (model == nullptr)
    return actors::make_error(ec::not_found,
                              "node " + st.self_name()
                                + " hosts no aggregate type '" + wi.type
                                + "'");
  if (!model->snapshots())
    return actors::make_error(ec::invalid_argument,
                              "the state of '" + wi.type
                                + "' cannot cross nodes: give it "
                                  "to_json/from_json");
  auto rp = self->make_response_promise<wire_state>();
  bool open = st.cfg.dispatch(*model, wi.id, [&](const caf::actor& a) {
    self->request(a, st.cfg.timeout, actors::state_atom::value)
      .then(
        [rp, model](actors::state_view& v) mutable {
          rp.deliver(wire_state{model->save(v.state.get()).dump(), v.version});
        },
        [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  });
  if (!open)
    rp.deliver(
      actors::make_error(ec::unavailable, "the node is shutting down"));
  return rp;
}

caf::behavior node(node_actor* self, node_config cfg) {
  auto& st = self->state;
  st.client = cfg.client;
  st.cfg = std::move(cfg);
  caf::group bus;
  if (!st.client && st.cfg.journal) {
    bus = self->system().groups().get_local(actors::bus_group());
    actors::join_bus(self); // relays what the journal commits to the peers
  }
  self->set_down_handler([self](caf::down_msg& dm) {
    for (const auto& [name, p] : self->state.peers)
      if (p.handle.address() == dm.source) {
        remove_peer(self, name, "connection lost: " + to_string(dm.reason));
        return;
      }
  });
  // Admin requests go to the projection manager (a client: to its node),
  // which answers the original sender.
  auto admin = [self](auto&&... xs) {
    auto& st = self->state;
    caf::actor target = st.cfg.manager;
    if (st.client && !st.peers.empty())
      target = st.peers.begin()->second.handle;
    return self->delegate(target, std::forward<decltype(xs)>(xs)...);
  };
  using namespace projections;
  return {
    // -- operators (eventsource --node, a client's runtime) --
    [admin](status_atom x) { return admin(x); },
    [admin](const control_msg& x) { return admin(x); },
    [admin](dead_letters_atom x, const std::string& name) {
      return admin(x, name);
    },
    [admin](redrive_atom x, int64_t id) { return admin(x, id); },
    [admin](discard_atom x, int64_t id) { return admin(x, id); },
    [self](members_atom) -> caf::result<std::vector<cluster_member>> {
      auto& st = self->state;
      if (st.client) {
        if (st.peers.empty())
          return no_route(self);
        auto rp = self->make_response_promise<std::vector<cluster_member>>();
        return rp.delegate(st.peers.begin()->second.handle,
                           members_atom::value);
      }
      auto now = steady::now();
      std::vector<cluster_member> out{
        {st.self_name(), true, 0, static_cast<int64_t>(st.cfg.live())}};
      for (const auto& [name, p] : st.peers)
        out.push_back(
          {name, false,
           std::chrono::duration_cast<std::chrono::milliseconds>(now - p.heard)
             .count(),
           p.aggregates});
      std::sort(out.begin(), out.end(),
                [](const auto& x, const auto& y) { return x.address < y.address; });
      return out;
    },
    // -- membership --
    [self](join_atom, const std::string& name,
           const std::vector<std::string>& theirs)
      -> caf::result<std::string, std::vector<std::string>> {
      auto& st = self->state;
      if (st.client || st.leaving)
        return actors::make_error(ec::unavailable, "not accepting members");
      if (!name.empty()) { // a member, not a client
        add_peer(self, name,
                 caf::actor_cast<caf::actor>(self->current_sender()));
        learn(self, theirs);
      }
      return {st.self_name(), st.member_names()};
    },
    [self](heartbeat_atom, const std::string& name,
           const std::vector<std::string>& theirs, int64_t aggregates) {
      auto& st = self->state;
      if (st.client || st.leaving)
        return;
      if (st.peers.count(name) == 0) // silent for a while, now back
        add_peer(self, name,
                 caf::actor_cast<caf::actor>(self->current_sender()));
      auto i = st.peers.find(name);
      if (i != st.peers.end()) {
        i->second.heard = steady::now();
        i->second.aggregates = aggregates;
      }
      learn(self, theirs);
    },
    [self](leave_atom, const std::string& name) {
      remove_peer(self, name, "left");
    },
    [self](leave_atom) {
      auto& st = self->state;
      st.leaving = true;
      for (const auto& kv : st.peers)
        if (!st.client)
          self->send(kv.second.handle, leave_atom::value, st.self_name());
    },
    [self](tick_atom) { tick(self); },
    [self](start_atom) -> caf::result<std::string> {
      auto& st = self->state;
      st.cfg.view->set_members(st.member_names());
      if (!st.client) {
        tick(self);
        return st.self_name();
      }
      auto rp = self->make_response_promise<std::string>();
      dial(self, st.cfg.seeds.front(),
              [self, rp](const caf::error& err) mutable {
                if (err) {
                  rp.deliver(err);
                  return;
                }
                // From now on: reconnect when the node goes away.
                tick(self);
                rp.deliver(self->state.peers.empty()
                             ? std::string{}
                             : self->state.peers.begin()->first);
              });
      return rp;
    },
    // -- from this node's runtime: aggregates another member owns --
    [self](actors::routed_command& rc)
      -> caf::result<actors::command_result> {
      auto rp = self->make_response_promise<actors::command_result>();
      auto& st = self->state;
      auto type = rc.model->type();
      auto member = route(self, type, rc.id);
      if (member.empty()) {
        rp.deliver(no_route(self));
      } else if (member == st.self_name()) { // the members changed meanwhile
        if (!st.cfg.dispatch(*rc.model, rc.id, [&](const caf::actor& a) {
              rp.delegate(a, std::move(rc.msg));
            }))
          rp.deliver(actors::make_error(ec::unavailable,
                                        "the node is shutting down"));
      } else {
        auto j = rc.model->encode_command(rc.msg.command.get());
        if (!j) {
          rp.deliver(actors::to_caf(j.error()));
          return rp;
        }
        wire_command wc{type, rc.id, j->dump(),
                        rc.msg.metadata.correlation_id,
                        rc.msg.metadata.causation_id, !st.client};
        forward<wire_result>(self, member, rp, std::move(wc),
                             [](const wire_result& r) { return from_wire(r); });
      }
      return rp;
    },
    [self](actors::routed_inspect& ri) -> caf::result<actors::state_view> {
      auto rp = self->make_response_promise<actors::state_view>();
      auto& st = self->state;
      auto type = ri.model->type();
      auto member = route(self, type, ri.id);
      if (member.empty()) {
        rp.deliver(no_route(self));
      } else if (member == st.self_name()) {
        if (!st.cfg.dispatch(*ri.model, ri.id, [&](const caf::actor& a) {
              rp.delegate(a, actors::state_atom::value);
            }))
          rp.deliver(actors::make_error(ec::unavailable,
                                        "the node is shutting down"));
      } else {
        const auto* model = ri.model;
        forward<wire_state>(
          self, member, rp, wire_inspect{type, ri.id, !st.client},
          [model](const wire_state& ws) -> result<actors::state_view> {
            try {
              auto s = model->load(persistence::json::parse(ws.state));
              if (!s)
                return s.error();
              return actors::state_view{std::move(*s), ws.version};
            } catch (const std::exception& ex) {
              return es::error{ec::corrupt_event,
                               std::string{"a state from another node is "
                                           "not JSON: "}
                                 + ex.what()};
            }
          });
      }
      return rp;
    },
    // A client reads streams through its node.
    [self](actors::read_stream_msg& r) -> caf::result<actors::stream_events> {
      auto rp = self->make_response_promise<actors::stream_events>();
      auto member = route(self, "", r.stream_id);
      if (member.empty())
        rp.deliver(no_route(self));
      else
        forward<std::vector<wire_event>>(
          self, member, rp, wire_read{r.stream_id},
          [](const std::vector<wire_event>& ws) -> result<actors::stream_events> {
            actors::stream_events out;
            out.events.reserve(ws.size());
            for (const auto& w : ws) {
              auto e = detail::from_wire(w);
              if (!e)
                return e.error();
              out.events.push_back(std::move(*e));
            }
            return out;
          });
      return rp;
    },
    // -- the event bus --
    [self](std::shared_ptr<const actors::event_batch>& batch) {
      auto& st = self->state;
      // Only what this node committed: not what it relayed from others.
      if (st.peers.empty() || !batch
          || self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(st.cfg.journal))
        return;
      wire_batch wb;
      wb.events.reserve(batch->size());
      for (const auto& e : *batch)
        wb.events.push_back(detail::to_wire(e));
      for (const auto& kv : st.peers)
        self->send(kv.second.handle, wb);
    },
    [self, bus](const wire_batch& wb) {
      auto batch = std::make_shared<actors::event_batch>();
      batch->reserve(wb.events.size());
      for (const auto& w : wb.events) {
        auto e = detail::from_wire(w);
        if (!e)
          return; // the store has it: projections re-read on the gap
        batch->push_back(std::move(*e));
      }
      if (bus && !batch->empty())
        self->send(bus, std::shared_ptr<const actors::event_batch>{batch});
    },
    // -- from other nodes and clients --
    [self](wire_command& wc) -> caf::result<wire_result> {
      auto member = wc.routed ? std::string{} : route(self, wc.type, wc.id);
      if (member.empty() || member == self->state.self_name())
        return run_command(self, wc);
      auto rp = self->make_response_promise<wire_result>();
      wc.routed = true;
      forward<wire_result>(self, member, rp, std::move(wc),
                           [](wire_result& r) { return result<wire_result>{std::move(r)}; });
      return rp;
    },
    [self](wire_inspect& wi) -> caf::result<wire_state> {
      auto member = wi.routed ? std::string{} : route(self, wi.type, wi.id);
      if (member.empty() || member == self->state.self_name())
        return run_inspect(self, wi);
      auto rp = self->make_response_promise<wire_state>();
      wi.routed = true;
      forward<wire_state>(self, member, rp, std::move(wi),
                          [](wire_state& r) { return result<wire_state>{std::move(r)}; });
      return rp;
    },
    [self](const wire_read& wr) -> caf::result<std::vector<wire_event>> {
      auto rp = self->make_response_promise<std::vector<wire_event>>();
      self
        ->request(self->state.cfg.readers, self->state.cfg.timeout,
                  actors::read_stream_msg{wr.stream_id, 1})
        .then(
          [rp](actors::stream_events& s) mutable {
            std::vector<wire_event> out;
            out.reserve(s.events.size());
            for (const auto& e : s.events)
              out.push_back(detail::to_wire(e));
            rp.deliver(std::move(out));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
  };
}

// A client's stand-in for the projection manager: it has none.
caf::behavior no_manager(caf::event_based_actor* self) {
  self->set_default_handler(
    [](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
      return actors::make_error(ec::unavailable,
                                "not connected to the node");
    });
  return {[](tick_atom) {
    // nop: everything goes to the default handler
  }};
}

} // namespace

caf::actor spawn_node(caf::actor_system& sys, node_config cfg) {
  if (!cfg.manager)
    cfg.manager = sys.spawn(no_manager);
  return sys.spawn(node, std::move(cfg));
}

} // namespace es::detail
