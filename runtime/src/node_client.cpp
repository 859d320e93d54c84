#include "es/node_client.hpp"

#include <future>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/event_based_actor.hpp>

#include "es/actors/errors.hpp"
#include "es/projections/manager.hpp"
#include "node.hpp"

namespace es {

struct node_client::impl {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor admin; // destroyed before the system
  std::string address;
  caf::duration timeout;

  impl(std::chrono::milliseconds t, const tls_files& tls) : timeout(t) {
    detail::add_types(cfg);
    detail::use_networking(cfg, tls);
    cfg.set("scheduler.max-threads", 1);
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  // Sends one request to the node's admin actor and waits for the reply,
  // or for the node to go away (a monitor: a killed node answers nothing,
  // and the request's timeout would be the only news otherwise).
  template <class T, class... Ts>
  result<T> ask(Ts&&... xs) {
    auto done = std::make_shared<std::promise<result<T>>>();
    auto reply = done->get_future();
    // Arguments, not captures: CAF 0.17.6 spawns a function without
    // arguments through a null pointer (UBSan).
    auto asker = [](caf::event_based_actor* self, caf::actor admin,
                    caf::message msg, caf::duration timeout,
                    std::string address,
                    std::shared_ptr<std::promise<result<T>>> done) {
      auto finish = [self, done](result<T> r) {
        done->set_value(std::move(r));
        self->quit();
      };
      self->monitor(admin);
      self->set_down_handler([finish, address](caf::down_msg& dm) {
        finish(es::error{ec::unavailable, "node " + address + " went away ("
                                            + to_string(dm.reason) + ")"});
      });
      auto failed = [finish, address](caf::error& err) {
        auto e = actors::from_caf(err);
        finish(es::error{e.code(), "node " + address + ": " + e.message()});
      };
      auto handle = self->request(admin, timeout, std::move(msg));
      if constexpr (std::is_void_v<T>)
        std::move(handle).then([finish] { finish({}); }, failed);
      else
        std::move(handle).then(
          [finish](T& x) { finish(std::move(x)); }, failed);
    };
    sys->spawn(asker, admin, caf::make_message(std::forward<Ts>(xs)...),
               timeout, address, done);
    return reply.get();
  }
};

node_client::node_client(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

node_client::~node_client() = default;

result<std::unique_ptr<node_client>>
node_client::connect(const std::string& host, uint16_t port,
                     std::chrono::milliseconds timeout,
                     const tls_files& tls) {
  if (auto err = detail::check_tls(tls))
    return err;
  auto im = std::make_unique<impl>(timeout, tls);
  im->address = host + ":" + std::to_string(port);
  auto admin = tls.enabled()
                 ? caf::openssl::remote_actor<caf::actor>(*im->sys, host, port)
                 : im->sys->middleman().remote_actor(host, port);
  if (!admin)
    return es::error{ec::unavailable,
                     "cannot reach node " + im->address + ": "
                       + im->sys->render(admin.error())};
  im->admin = std::move(*admin);
  return std::unique_ptr<node_client>{new node_client(std::move(im))};
}

result<std::vector<projections::projection_status>>
node_client::projections() {
  return impl_->ask<std::vector<projections::projection_status>>(
    projections::status_atom::value);
}

result<void> node_client::control(const std::string& name,
                                  persistence::projection_op op) {
  return impl_->ask<void>(projections::control_msg{name, op});
}

result<std::vector<persistence::dead_letter>>
node_client::dead_letters(const std::string& projection) {
  return impl_->ask<std::vector<persistence::dead_letter>>(
    projections::dead_letters_atom::value, projection);
}

result<void> node_client::redrive(int64_t id) {
  auto r = impl_->ask<bool>(projections::redrive_atom::value, id);
  if (!r)
    return r.error();
  return {};
}

result<void> node_client::discard(int64_t id) {
  auto r = impl_->ask<bool>(projections::discard_atom::value, id);
  if (!r)
    return r.error();
  return {};
}

result<std::vector<cluster_member>> node_client::members() {
  return impl_->ask<std::vector<cluster_member>>(detail::members_atom::value);
}

} // namespace es
