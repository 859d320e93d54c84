// A test double of the store interface: a memory_store behind knobs that
// make it fail or let "another writer" in, and counters of what the actors
// asked of it. No CAF inside.
//
//   auto store = std::make_shared<es::test::test_store>();
//   store->fail_appends = true;          // the database is down for writes
//   ... run the actors ...
//   EXPECT_EQ(store->batches, (std::vector<size_t>{3}));  // one group commit
//
// Not thread-safe beyond the inner store: meant for CAF's test scheduler.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "es/persistence/memory_store.hpp"

namespace es::test {

class test_store final : public persistence::event_store {
public:
  test_store();
  ~test_store() override;

  /// Returns the real store behind the double, to append or read "behind
  /// the actors' back" (nothing is counted there).
  persistence::memory_store& inner() {
    return inner_;
  }

  /// Every `append_batch` answers `unavailable` for every request.
  bool fail_appends = false;
  /// Stream reads and snapshot loads answer `unavailable`.
  bool fail_reads = false;
  /// Runs at the start of every `append_batch` (e.g. another writer).
  std::function<void()> before_append;
  /// The number of requests of each `append_batch` call, in call order.
  std::vector<size_t> batches;
  /// (stream id, from version) of each `read_stream` call, in call order.
  std::vector<std::pair<std::string, int64_t>> stream_reads;
  /// The stream id of each `load_snapshot` call, in call order.
  std::vector<std::string> snapshot_loads;

private:
  std::vector<result<persistence::append_result>>
  do_append_batch(const std::vector<persistence::append_request>& requests)
    override;
  result<std::vector<persistence::recorded_event>>
  do_read_stream(std::string_view stream_id, int64_t from_version,
                 size_t max_count, persistence::direction dir) override;
  result<int64_t> do_stream_version(std::string_view stream_id) override;
  result<persistence::feed_page>
  do_read_all(int64_t after_position, size_t limit,
              const persistence::feed_filter& filter) override;
  result<int64_t> do_head_position() override;
  result<bool> do_save_snapshot(const persistence::snapshot& s) override;
  result<std::optional<persistence::snapshot>>
  do_load_snapshot(std::string_view stream_id) override;
  result<size_t> do_delete_snapshot(std::string_view stream_id) override;
  result<size_t> do_delete_snapshots(std::string_view stream_type,
                                     int32_t below_schema_version) override;
  result<int64_t> do_checkpoint(std::string_view name) override;
  result<void> do_checkpoint(std::string_view name, int64_t position) override;

  persistence::memory_store inner_;
};

} // namespace es::test
