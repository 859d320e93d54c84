#include "es/persistence/event_store.hpp"

#include "append_plan.hpp"
#include "validate.hpp"

namespace es::persistence {

namespace {

constexpr size_t max_page = 10'000;

es::error invalid(std::string message) {
  return {ec::invalid_argument, std::move(message)};
}

} // namespace

bool expected_version::matches(int64_t current) const noexcept {
  switch (kind_) {
    case kind::exact:
      return current == value_;
    case kind::any:
      return true;
    case kind::stream_exists:
      return current > 0;
  }
  return false;
}

std::string expected_version::to_string() const {
  switch (kind_) {
    case kind::exact:
      return value_ == 0 ? "no_stream" : "exact " + std::to_string(value_);
    case kind::any:
      return "any";
    case kind::stream_exists:
      return "stream_exists";
  }
  return "?";
}

event_store::~event_store() {
  // nop
}

result<append_result>
event_store::append(std::string stream_id, std::string stream_type,
                    expected_version expected, std::vector<new_event> events) {
  std::vector<append_request> batch;
  batch.push_back(append_request{std::move(stream_id), std::move(stream_type),
                                 expected, std::move(events)});
  return std::move(append_batch(batch).front());
}

namespace {

// Checks every request: an invalid one fails here, alone, and the store sees
// only the valid ones.
std::vector<es::error> check_all(const std::vector<append_request>& requests,
                                 const store_limits& limits,
                                 size_t& invalid_count) {
  std::vector<es::error> errors;
  errors.reserve(requests.size());
  invalid_count = 0;
  for (const auto& req : requests) {
    errors.push_back(detail::check_request(req, limits));
    if (errors.back())
      ++invalid_count;
  }
  return errors;
}

// One result per request: its error, or the next of `done` (the valid
// requests' results, in order).
std::vector<result<append_result>>
merge(std::vector<es::error>& errors, std::vector<result<append_result>> done) {
  std::vector<result<append_result>> out;
  out.reserve(errors.size());
  auto next = done.begin();
  for (auto& err : errors)
    out.push_back(err ? result<append_result>{std::move(err)}
                      : std::move(*next++));
  return out;
}

} // namespace

std::vector<result<append_result>>
event_store::append_batch(const std::vector<append_request>& requests) {
  size_t invalid_count = 0;
  auto errors = check_all(requests, limits_, invalid_count);
  if (invalid_count == 0)
    return do_append_batch(requests);
  std::vector<append_request> valid;
  for (size_t i = 0; i < requests.size(); ++i)
    if (!errors[i])
      valid.push_back(requests[i]);
  return merge(errors, valid.empty() ? std::vector<result<append_result>>{}
                                     : do_append_batch(valid));
}

committed_batch
event_store::append_and_record(std::vector<append_request> requests) {
  size_t invalid_count = 0;
  auto errors = check_all(requests, limits_, invalid_count);
  if (invalid_count == 0)
    return do_append_and_record(std::move(requests));
  std::vector<append_request> valid;
  for (size_t i = 0; i < requests.size(); ++i)
    if (!errors[i])
      valid.push_back(std::move(requests[i]));
  committed_batch out;
  if (!valid.empty())
    out = do_append_and_record(std::move(valid));
  else
    out.events = std::make_shared<const std::vector<recorded_event>>();
  out.results = merge(errors, std::move(out.results));
  return out;
}

committed_batch
event_store::do_append_and_record(std::vector<append_request>&& requests) {
  committed_batch out;
  out.results = do_append_batch(requests);
  out.events = detail::record_written(requests, out.results);
  return out;
}

result<std::vector<recorded_event>>
event_store::read_stream(std::string_view stream_id, int64_t from_version,
                         size_t max_count, direction dir) {
  if (auto err = detail::check_name("stream id", stream_id, limits_))
    return err;
  if (from_version < 0 || (dir == direction::backward && from_version < 1))
    return invalid("cannot read from version " + std::to_string(from_version));
  if (max_count == 0)
    return std::vector<recorded_event>{};
  return do_read_stream(stream_id, from_version, max_count, dir);
}

result<int64_t> event_store::stream_version(std::string_view stream_id) {
  if (auto err = detail::check_name("stream id", stream_id, limits_))
    return err;
  return do_stream_version(stream_id);
}

result<feed_page> event_store::read_all(int64_t after_position, size_t limit,
                                        const feed_filter& filter) {
  if (after_position < 0)
    return invalid("after_position must be >= 0");
  if (limit == 0 || limit > max_page)
    return invalid("page limit must be 1.." + std::to_string(max_page));
  for (const auto& t : filter.stream_types)
    if (auto err = detail::check_name("stream type filter", t, limits_))
      return err;
  for (const auto& t : filter.event_types)
    if (auto err = detail::check_name("event type filter", t, limits_))
      return err;
  return do_read_all(after_position, limit, filter);
}

result<int64_t> event_store::head_position() {
  return do_head_position();
}

result<bool> event_store::save_snapshot(const snapshot& s) {
  if (auto err = detail::check_snapshot(s, limits_))
    return err;
  return do_save_snapshot(s);
}

result<std::optional<snapshot>>
event_store::load_snapshot(std::string_view stream_id) {
  if (auto err = detail::check_name("stream id", stream_id, limits_))
    return err;
  return do_load_snapshot(stream_id);
}

result<size_t> event_store::delete_snapshot(std::string_view stream_id) {
  if (auto err = detail::check_name("stream id", stream_id, limits_))
    return err;
  return do_delete_snapshot(stream_id);
}

result<size_t> event_store::delete_snapshots(std::string_view stream_type,
                                             int32_t below_schema_version) {
  if (auto err = detail::check_name("stream type", stream_type, limits_))
    return err;
  return do_delete_snapshots(stream_type, below_schema_version);
}

result<int64_t> event_store::checkpoint(std::string_view name) {
  if (auto err = detail::check_name("checkpoint name", name, limits_))
    return err;
  return do_checkpoint(name);
}

result<void> event_store::checkpoint(std::string_view name, int64_t position) {
  if (auto err = detail::check_name("checkpoint name", name, limits_))
    return err;
  if (position < 0)
    return invalid("checkpoint position must be >= 0");
  return do_checkpoint(name, position);
}

} // namespace es::persistence
