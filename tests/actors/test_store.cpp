#include "actors/test_store.hpp"

namespace es::test {

using namespace es::persistence;

namespace {

es::error down() {
  return {ec::unavailable, "test_store: the database is down"};
}

} // namespace

test_store::test_store() : event_store(store_limits{}) {
  // nop
}

test_store::~test_store() = default;

std::vector<result<append_result>>
test_store::do_append_batch(const std::vector<append_request>& requests) {
  batches.push_back(requests.size());
  if (before_append)
    before_append();
  if (fail_appends)
    return std::vector<result<append_result>>(requests.size(), down());
  return inner_.append_batch(requests);
}

result<std::vector<recorded_event>>
test_store::do_read_stream(std::string_view stream_id, int64_t from_version,
                           size_t max_count, direction dir) {
  stream_reads.emplace_back(std::string{stream_id}, from_version);
  if (fail_reads)
    return down();
  return inner_.read_stream(stream_id, from_version, max_count, dir);
}

result<int64_t> test_store::do_stream_version(std::string_view stream_id) {
  return inner_.stream_version(stream_id);
}

result<feed_page> test_store::do_read_all(int64_t after_position,
                                          size_t limit,
                                          const feed_filter& filter) {
  return inner_.read_all(after_position, limit, filter);
}

result<int64_t> test_store::do_head_position() {
  return inner_.head_position();
}

result<bool> test_store::do_save_snapshot(const snapshot& s) {
  return inner_.save_snapshot(s);
}

result<std::optional<snapshot>>
test_store::do_load_snapshot(std::string_view stream_id) {
  snapshot_loads.emplace_back(stream_id);
  if (fail_reads)
    return down();
  return inner_.load_snapshot(stream_id);
}

result<size_t> test_store::do_delete_snapshot(std::string_view stream_id) {
  return inner_.delete_snapshot(stream_id);
}

result<size_t> test_store::do_delete_snapshots(std::string_view stream_type,
                                               int32_t below_schema_version) {
  return inner_.delete_snapshots(stream_type, below_schema_version);
}

result<int64_t> test_store::do_checkpoint(std::string_view name) {
  return inner_.checkpoint(name);
}

result<void> test_store::do_checkpoint(std::string_view name,
                                       int64_t position) {
  return inner_.checkpoint(name, position);
}

} // namespace es::test
