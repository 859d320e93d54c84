#include "es/persistence/memory_store.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

namespace es::persistence {

namespace {

time_point now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(
    std::chrono::system_clock::now());
}

es::error not_registered(std::string_view name) {
  return {ec::not_found,
          "projection '" + std::string{name} + "' is not registered"};
}

es::error no_dead_letter(int64_t id) {
  return {ec::not_found, "no dead letter " + std::to_string(id)};
}

} // namespace

struct memory_catalog::impl {
  std::mutex mtx;
  std::map<std::string, projection_record, std::less<>> records;
  std::map<int64_t, dead_letter> letters; // by id: ids grow with insertion
  std::map<std::pair<std::string, int64_t>, int64_t> letter_ids;
  int64_t next_id = 1;

  projection_record* record(std::string_view name) {
    auto i = records.find(name);
    return i == records.end() ? nullptr : &i->second;
  }
};

memory_catalog::memory_catalog() : impl_(std::make_unique<impl>()) {
  // nop
}

memory_catalog::~memory_catalog() {
  // nop
}

result<projection_record>
memory_catalog::do_register(std::string_view name) {
  std::lock_guard guard{impl_->mtx};
  if (auto rec = impl_->record(name))
    return *rec;
  projection_record rec;
  rec.name = std::string{name};
  rec.updated_at = now();
  impl_->records.emplace(rec.name, rec);
  return rec;
}

result<std::optional<projection_record>>
memory_catalog::do_find(std::string_view name) {
  std::lock_guard guard{impl_->mtx};
  if (auto rec = impl_->record(name))
    return std::optional<projection_record>{*rec};
  return std::optional<projection_record>{};
}

result<std::vector<projection_record>> memory_catalog::do_list() {
  std::lock_guard guard{impl_->mtx};
  std::vector<projection_record> out;
  out.reserve(impl_->records.size());
  for (const auto& [name, rec] : impl_->records)
    out.push_back(rec);
  return out;
}

result<void> memory_catalog::do_set_state(std::string_view name,
                                          projection_state state,
                                          const std::string& last_error,
                                          int64_t error_position) {
  std::lock_guard guard{impl_->mtx};
  auto rec = impl_->record(name);
  if (!rec)
    return not_registered(name);
  rec->state = state;
  rec->last_error = last_error;
  rec->error_position = error_position;
  rec->updated_at = now();
  return {};
}

result<void> memory_catalog::do_set_checkpoint(std::string_view name,
                                               int64_t position) {
  std::lock_guard guard{impl_->mtx};
  auto rec = impl_->record(name);
  if (!rec)
    return not_registered(name);
  rec->checkpoint = position;
  rec->updated_at = now();
  return {};
}

result<int64_t> memory_catalog::do_request(std::string_view name,
                                           projection_op op) {
  std::lock_guard guard{impl_->mtx};
  auto rec = impl_->record(name);
  if (!rec)
    return not_registered(name);
  rec->requested = op;
  rec->updated_at = now();
  return ++rec->request_id;
}

result<std::optional<projection_request>>
memory_catalog::do_take_request(std::string_view name) {
  using out = std::optional<projection_request>;
  std::lock_guard guard{impl_->mtx};
  auto rec = impl_->record(name);
  if (!rec || !rec->requested)
    return out{};
  auto op = *std::exchange(rec->requested, std::nullopt);
  rec->updated_at = now();
  return out{projection_request{op, rec->request_id}};
}

result<void> memory_catalog::do_set_applied(std::string_view name, int64_t id,
                                            const std::string& error) {
  std::lock_guard guard{impl_->mtx};
  auto rec = impl_->record(name);
  if (!rec)
    return not_registered(name);
  if (id > rec->applied_id) {
    rec->applied_id = id;
    rec->applied_error = error;
    rec->updated_at = now();
  }
  return {};
}

result<int64_t> memory_catalog::do_add_dead_letter(const dead_letter& d) {
  std::lock_guard guard{impl_->mtx};
  auto key = std::make_pair(d.projection, d.global_position);
  if (auto i = impl_->letter_ids.find(key); i != impl_->letter_ids.end())
    return i->second;
  auto id = impl_->next_id++;
  auto& stored = impl_->letters[id];
  stored = d;
  stored.id = id;
  stored.recorded_at = now();
  stored.retry = retry_state::none;
  impl_->letter_ids.emplace(std::move(key), id);
  return id;
}

result<std::vector<dead_letter>>
memory_catalog::do_dead_letters(std::string_view projection, size_t limit) {
  std::lock_guard guard{impl_->mtx};
  std::vector<dead_letter> out;
  for (const auto& [id, d] : impl_->letters)
    if (projection.empty() || d.projection == projection)
      out.push_back(d);
  // Oldest position first; ids (insertion order) break ties.
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return std::tie(x.global_position, x.id) < std::tie(y.global_position, y.id);
  });
  if (out.size() > limit)
    out.resize(limit);
  return out;
}

result<std::optional<dead_letter>>
memory_catalog::do_find_dead_letter(int64_t id) {
  std::lock_guard guard{impl_->mtx};
  auto i = impl_->letters.find(id);
  if (i == impl_->letters.end())
    return std::optional<dead_letter>{};
  return std::optional<dead_letter>{i->second};
}

result<bool> memory_catalog::do_remove_dead_letter(int64_t id) {
  std::lock_guard guard{impl_->mtx};
  auto i = impl_->letters.find(id);
  if (i == impl_->letters.end())
    return false;
  impl_->letter_ids.erase({i->second.projection, i->second.global_position});
  impl_->letters.erase(i);
  return true;
}

result<dead_letter> memory_catalog::do_request_retry(int64_t id) {
  std::lock_guard guard{impl_->mtx};
  auto i = impl_->letters.find(id);
  if (i == impl_->letters.end())
    return no_dead_letter(id);
  i->second.retry = retry_state::requested;
  return i->second;
}

result<std::vector<int64_t>>
memory_catalog::do_take_retry_requests(std::string_view projection) {
  std::lock_guard guard{impl_->mtx};
  std::vector<std::pair<int64_t, int64_t>> taken; // (position, id)
  for (auto& [id, d] : impl_->letters)
    if (d.retry == retry_state::requested && d.projection == projection) {
      d.retry = retry_state::running;
      taken.emplace_back(d.global_position, id);
    }
  std::sort(taken.begin(), taken.end());
  std::vector<int64_t> out;
  out.reserve(taken.size());
  for (const auto& entry : taken)
    out.push_back(entry.second);
  return out;
}

result<void> memory_catalog::do_retry_failed(int64_t id,
                                             const std::string& error) {
  std::lock_guard guard{impl_->mtx};
  auto i = impl_->letters.find(id);
  if (i == impl_->letters.end())
    return no_dead_letter(id);
  i->second.retry = retry_state::none;
  i->second.error = error;
  return {};
}

} // namespace es::persistence
