#include "es/projections/projection.hpp"

#include <algorithm>

namespace es::projections {

namespace {

bool listed(const std::vector<std::string>& names, const std::string& x) {
  return names.empty() || std::find(names.begin(), names.end(), x) != names.end();
}

} // namespace

projection projection::in_memory(std::string name, event_handler handle,
                                 projection_options opts) {
  projection p;
  p.name_ = std::move(name);
  p.kind_ = kind::in_memory;
  p.opts_ = std::move(opts);
  p.on_event_ = std::move(handle);
  return p;
}

projection projection::postgres(std::string name, batch_handler handle,
                                projection_options opts) {
  projection p;
  p.name_ = std::move(name);
  p.kind_ = kind::postgres;
  p.opts_ = std::move(opts);
  p.on_batch_ = std::move(handle);
  return p;
}

projection& projection::on_reset(memory_reset fn) {
  reset_memory_ = std::move(fn);
  return *this;
}

projection& projection::on_reset(postgres_reset fn) {
  reset_postgres_ = std::move(fn);
  return *this;
}

bool projection::wants(const recorded_event& e) const {
  return listed(opts_.filter.stream_types, e.stream_type)
         && listed(opts_.filter.event_types, e.event_type);
}

} // namespace es::projections
