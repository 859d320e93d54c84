#include "es/node_client.hpp"

#include <optional>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

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

  impl(std::chrono::milliseconds t) : timeout(t) {
    detail::add_types(cfg);
    cfg.load<caf::io::middleman>();
    cfg.set("scheduler.max-threads", 1);
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  // Sends one request to the node's admin actor and waits for the reply.
  template <class T, class... Ts>
  result<T> ask(Ts&&... xs) {
    caf::scoped_actor self{*sys};
    std::optional<result<T>> out;
    auto failed = [&](caf::error& err) {
      auto e = actors::from_caf(err);
      out.emplace(e.code(), "node " + address + ": " + e.message());
    };
    auto handle = self->request(admin, timeout, std::forward<Ts>(xs)...);
    if constexpr (std::is_void_v<T>)
      std::move(handle).receive([&] { out.emplace(); }, failed);
    else
      std::move(handle).receive([&](T& x) { out.emplace(std::move(x)); },
                                failed);
    return std::move(*out);
  }
};

node_client::node_client(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

node_client::~node_client() = default;

result<std::unique_ptr<node_client>>
node_client::connect(const std::string& host, uint16_t port,
                     std::chrono::milliseconds timeout) {
  auto im = std::make_unique<impl>(timeout);
  im->address = host + ":" + std::to_string(port);
  auto admin = im->sys->middleman().remote_actor(host, port);
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

} // namespace es
