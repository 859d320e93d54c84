#include "es/persistence/memory_store.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "append_plan.hpp"

namespace es::persistence {

namespace {

time_point now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(
    std::chrono::system_clock::now());
}

bool selected(const std::vector<std::string>& wanted, const std::string& x) {
  return wanted.empty()
         || std::find(wanted.begin(), wanted.end(), x) != wanted.end();
}

} // namespace

struct memory_store::impl {
  mutable std::shared_mutex mtx;
  // Every committed batch, whole and immutable: the journal publishes the
  // very events kept here, so an append copies no payload.
  std::vector<std::shared_ptr<const std::vector<recorded_event>>> batches;
  std::vector<const recorded_event*> log; // log[p - 1] has global position p
  // stream id -> global positions of its events, in version order
  std::unordered_map<std::string, std::vector<int64_t>> streams;
  std::unordered_map<uuid, int64_t> positions_by_id;
  std::map<std::string, snapshot, std::less<>> snapshots;
  std::map<std::string, int64_t, std::less<>> checkpoints;

  const recorded_event& at(int64_t position) const {
    return *log[static_cast<size_t>(position - 1)];
  }

  const std::vector<int64_t>* stream(std::string_view id) const {
    // Heterogeneous lookup for unordered_map arrives only in C++20.
    auto i = streams.find(std::string{id});
    return i == streams.end() ? nullptr : &i->second;
  }
};

memory_store::memory_store(store_limits limits)
  : event_store(limits), impl_(std::make_unique<impl>()) {
  // nop
}

memory_store::~memory_store() {
  // nop
}

std::vector<result<append_result>>
memory_store::do_append_batch(const std::vector<append_request>& requests) {
  auto copy = requests;
  return do_append_and_record(std::move(copy)).results;
}

committed_batch
memory_store::do_append_and_record(std::vector<append_request>&& requests) {
  std::unique_lock guard{impl_->mtx};
  std::unordered_map<std::string, detail::stream_head> heads;
  std::unordered_map<uuid, detail::stored_event_ref> stored;
  for (const auto& req : requests) {
    if (auto s = impl_->streams.find(req.stream_id);
        s != impl_->streams.end() && !s->second.empty())
      heads.try_emplace(req.stream_id,
                        detail::stream_head{
                          static_cast<int64_t>(s->second.size()),
                          impl_->at(s->second.front()).stream_type});
    for (const auto& ev : req.events)
      if (auto i = impl_->positions_by_id.find(ev.event_id);
          i != impl_->positions_by_id.end()) {
        const auto& e = impl_->at(i->second);
        stored.emplace(ev.event_id,
                       detail::stored_event_ref{e.stream_id, e.version,
                                                e.global_position,
                                                e.recorded_at});
      }
  }
  auto t = now();
  auto plan = detail::plan_appends(requests,
                                   static_cast<int64_t>(impl_->log.size()), t,
                                   std::move(heads), std::move(stored));
  auto events = detail::record_written(requests, plan.results);
  for (const auto& e : *events) {
    impl_->log.push_back(&e);
    impl_->streams[e.stream_id].push_back(e.global_position);
    impl_->positions_by_id.emplace(e.event_id, e.global_position);
  }
  if (!events->empty())
    impl_->batches.push_back(events);
  return {std::move(plan.results), std::move(events)};
}

result<std::vector<recorded_event>>
memory_store::do_read_stream(std::string_view stream_id, int64_t from_version,
                             size_t max_count, direction dir) {
  std::shared_lock guard{impl_->mtx};
  std::vector<recorded_event> out;
  auto s = impl_->stream(stream_id);
  if (!s)
    return out;
  auto n = static_cast<int64_t>(s->size());
  if (dir == direction::forward) {
    for (auto v = std::max<int64_t>(from_version, 1);
         v <= n && out.size() < max_count; ++v)
      out.push_back(impl_->at((*s)[v - 1]));
  } else {
    for (auto v = std::min(from_version, n); v >= 1 && out.size() < max_count;
         --v)
      out.push_back(impl_->at((*s)[v - 1]));
  }
  return out;
}

result<int64_t> memory_store::do_stream_version(std::string_view stream_id) {
  std::shared_lock guard{impl_->mtx};
  auto s = impl_->stream(stream_id);
  return s ? static_cast<int64_t>(s->size()) : int64_t{0};
}

result<feed_page> memory_store::do_read_all(int64_t after_position,
                                            size_t limit,
                                            const feed_filter& filter) {
  std::shared_lock guard{impl_->mtx};
  feed_page page;
  auto head = static_cast<int64_t>(impl_->log.size());
  auto p = after_position;
  while (p < head && page.events.size() < limit) {
    const auto& e = impl_->at(++p);
    if (selected(filter.stream_types, e.stream_type)
        && selected(filter.event_types, e.event_type))
      page.events.push_back(e);
  }
  page.next_after = std::max(p, after_position);
  page.at_head = p >= head;
  return page;
}

result<int64_t> memory_store::do_head_position() {
  std::shared_lock guard{impl_->mtx};
  return static_cast<int64_t>(impl_->log.size());
}

result<bool> memory_store::do_save_snapshot(const snapshot& s) {
  std::unique_lock guard{impl_->mtx};
  auto [i, added] = impl_->snapshots.try_emplace(s.stream_id, s);
  if (added) {
    i->second.recorded_at = now();
    return true;
  }
  if (i->second.version >= s.version)
    return false;
  i->second = s;
  i->second.recorded_at = now();
  return true;
}

result<std::optional<snapshot>>
memory_store::do_load_snapshot(std::string_view stream_id) {
  std::shared_lock guard{impl_->mtx};
  auto i = impl_->snapshots.find(stream_id);
  if (i == impl_->snapshots.end())
    return std::optional<snapshot>{};
  return std::optional<snapshot>{i->second};
}

result<size_t> memory_store::do_delete_snapshot(std::string_view stream_id) {
  std::unique_lock guard{impl_->mtx};
  auto i = impl_->snapshots.find(stream_id);
  if (i == impl_->snapshots.end())
    return size_t{0};
  impl_->snapshots.erase(i);
  return size_t{1};
}

result<size_t> memory_store::do_delete_snapshots(std::string_view stream_type,
                                                 int32_t below_schema_version) {
  std::unique_lock guard{impl_->mtx};
  size_t n = 0;
  for (auto i = impl_->snapshots.begin(); i != impl_->snapshots.end();) {
    if (i->second.stream_type == stream_type
        && i->second.schema_version < below_schema_version) {
      i = impl_->snapshots.erase(i);
      ++n;
    } else {
      ++i;
    }
  }
  return n;
}

result<int64_t> memory_store::do_checkpoint(std::string_view name) {
  std::shared_lock guard{impl_->mtx};
  auto i = impl_->checkpoints.find(name);
  return i == impl_->checkpoints.end() ? int64_t{0} : i->second;
}

result<void> memory_store::do_checkpoint(std::string_view name,
                                         int64_t position) {
  std::unique_lock guard{impl_->mtx};
  impl_->checkpoints.insert_or_assign(std::string{name}, position);
  return {};
}

} // namespace es::persistence
