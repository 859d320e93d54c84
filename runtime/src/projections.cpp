// The runtime's projection calls: thin blocking wrappers around requests
// to the projection manager.
#include "es/actors/errors.hpp"
#include "runtime_impl.hpp"

namespace es {

caf::expected<void> runtime::add_projection(projection p) {
  if (impl_->client())
    return actors::make_error(ec::invalid_argument,
                              "a client (via " + impl_->opts.via
                                + ") runs no projections: its nodes do");
  auto def = std::make_shared<const projection>(std::move(p));
  return impl_->ask<void>([&](caf::scoped_actor& self) {
    return self->request(impl_->projections, timeout(),
                         projections::add_projection_msg{def});
  });
}

caf::expected<std::vector<projection_status>> runtime::projections() {
  return impl_->ask<std::vector<projection_status>>(
    [&](caf::scoped_actor& self) {
      return self->request(impl_->projections, timeout(),
                           projections::status_atom::value);
    });
}

caf::expected<void> runtime::control(const std::string& name,
                                     projection_op op) {
  return impl_->ask<void>([&](caf::scoped_actor& self) {
    return self->request(impl_->projections, timeout(),
                         projections::control_msg{name, op});
  });
}

caf::expected<std::vector<dead_letter>>
runtime::dead_letters(const std::string& projection) {
  return impl_->ask<std::vector<dead_letter>>([&](caf::scoped_actor& self) {
    return self->request(impl_->projections, timeout(),
                         projections::dead_letters_atom::value, projection);
  });
}

caf::expected<void> runtime::redrive(int64_t id) {
  auto r = impl_->ask<bool>([&](caf::scoped_actor& self) {
    return self->request(impl_->projections, timeout(),
                         projections::redrive_atom::value, id);
  });
  if (!r)
    return r.error();
  return {};
}

caf::expected<void> runtime::discard(int64_t id) {
  auto r = impl_->ask<bool>([&](caf::scoped_actor& self) {
    return self->request(impl_->projections, timeout(),
                         projections::discard_atom::value, id);
  });
  if (!r)
    return r.error();
  return {};
}

caf::actor runtime::projection_manager() const {
  return impl_->projections;
}

} // namespace es
