#include "projections/fixture.hpp"

namespace es::test {

using projections::projection;

projection_fixture::projection_fixture()
  : catalog_(std::make_shared<persistence::memory_catalog>()) {
  projections::manager_config cfg;
  cfg.readers = [&] {
    // The fixture's readers are private; a second pool over the same store.
    return actors::spawn_readers(fx_.sys(), {fx_.store_ptr()}, false);
  }();
  fx_.own(cfg.readers);
  cfg.catalog = catalog_;
  cfg.detached = false;
  manager_ = projections::spawn_manager(fx_.sys(), std::move(cfg));
  fx_.own(manager_);
  fx_.sched().run();
}

projection_fixture::~projection_fixture() = default;

std::shared_ptr<recorder>
projection_fixture::add_recorder(const std::string& name,
                                 projections::projection_options opts) {
  auto rec = std::make_shared<recorder>();
  auto p = projection::in_memory(
    name,
    [rec](const persistence::recorded_event& e) {
      ++rec->calls;
      if (rec->failing && rec->fail_at.count(e.global_position) > 0)
        throw std::runtime_error("boom at "
                                 + std::to_string(e.global_position));
      rec->positions.push_back(e.global_position);
    },
    std::move(opts));
  p.on_reset([rec] {
    if (rec->reset_fails)
      throw std::runtime_error("reset refused");
    ++rec->resets;
    rec->positions.clear();
  });
  auto r = add(std::move(p));
  if (!r)
    throw std::runtime_error(to_string(r.error()));
  return rec;
}

caf::expected<void> projection_fixture::add(projection p) {
  return ask<void>(projections::add_projection_msg{
    std::make_shared<const projection>(std::move(p))});
}

int64_t projection_fixture::append_direct(const std::string& stream, int n) {
  std::vector<persistence::new_event> events;
  for (int i = 0; i < n; ++i)
    events.push_back(persistence::make_event(bank::deposited{1}));
  auto r = fx_.store().inner().append(stream, "account",
                                      persistence::expected_version::any(),
                                      std::move(events));
  if (!r)
    throw std::runtime_error(r.error().message());
  return r->last_position;
}

void projection_fixture::deposit(const std::string& id, int n) {
  for (int i = 0; i < n; ++i) {
    auto r = fx_.execute<bank::account>(id, bank::deposit{1});
    if (!r && code_of(r.error()) == ec::rejected) {
      (void) fx_.execute<bank::account>(id, bank::open_account{"x"});
      r = fx_.execute<bank::account>(id, bank::deposit{1});
    }
    if (!r)
      throw std::runtime_error(to_string(r.error()));
  }
}

void projection_fixture::wake(int64_t head) {
  caf::anon_send(manager_, projections::head_msg{head});
  fx_.sched().run();
  tick();
}

void projection_fixture::tick() {
  fx_.sched().trigger_timeouts();
  fx_.sched().run();
}

caf::expected<std::vector<projections::projection_status>>
projection_fixture::status() {
  return ask<std::vector<projections::projection_status>>(
    projections::status_atom::value);
}

projections::projection_status
projection_fixture::status(const std::string& name) {
  auto all = status();
  if (!all)
    throw std::runtime_error(to_string(all.error()));
  for (auto& s : *all)
    if (s.name == name)
      return s;
  throw std::runtime_error("no projection " + name);
}

caf::expected<void> projection_fixture::control(const std::string& name,
                                                persistence::projection_op op) {
  return ask<void>(projections::control_msg{name, op});
}

} // namespace es::test
