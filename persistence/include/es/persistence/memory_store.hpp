// An event store in process memory: the embedded default and the twin that
// passes the same conformance suite as `postgres_store`.
//
//   memory_store store;
//   auto r = store.append("acct-1", "account", expected_version::no_stream(),
//                         {make_event(account_opened{"ada"})});
//
// Thread-safe: appends take an exclusive lock, reads a shared one. Nothing
// survives the process.
#pragma once

#include <memory>

#include "es/persistence/event_store.hpp"
#include "es/persistence/projection_catalog.hpp"

namespace es::persistence {

class memory_store final : public event_store {
public:
  explicit memory_store(store_limits limits = {});
  ~memory_store() override;

private:
  std::vector<result<append_result>>
  do_append_batch(const std::vector<append_request>& requests) override;
  committed_batch
  do_append_and_record(std::vector<append_request>&& requests) override;
  result<std::vector<recorded_event>>
  do_read_stream(std::string_view stream_id, int64_t from_version,
                 size_t max_count, direction dir) override;
  result<int64_t> do_stream_version(std::string_view stream_id) override;
  result<feed_page> do_read_all(int64_t after_position, size_t limit,
                                const feed_filter& filter) override;
  result<int64_t> do_head_position() override;
  result<bool> do_save_snapshot(const snapshot& s) override;
  result<std::optional<snapshot>>
  do_load_snapshot(std::string_view stream_id) override;
  result<size_t> do_delete_snapshot(std::string_view stream_id) override;
  result<size_t> do_delete_snapshots(std::string_view stream_type,
                                     int32_t below_schema_version) override;
  result<int64_t> do_checkpoint(std::string_view name) override;
  result<void> do_checkpoint(std::string_view name, int64_t position) override;

  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A projection catalog in process memory (for runtimes on "memory:" and
/// tests). Thread-safe; nothing survives the process.
class memory_catalog final : public projection_catalog {
public:
  memory_catalog();
  ~memory_catalog() override;

private:
  result<projection_record> do_register(std::string_view name) override;
  result<std::optional<projection_record>>
  do_find(std::string_view name) override;
  result<std::vector<projection_record>> do_list() override;
  result<void> do_set_state(std::string_view name, projection_state state,
                            const std::string& last_error,
                            int64_t error_position) override;
  result<void> do_set_checkpoint(std::string_view name,
                                 int64_t position) override;
  result<int64_t> do_request(std::string_view name, projection_op op) override;
  result<std::optional<projection_request>>
  do_take_request(std::string_view name) override;
  result<void> do_set_applied(std::string_view name, int64_t id,
                              const std::string& error) override;
  result<int64_t> do_add_dead_letter(const dead_letter& d) override;
  result<std::vector<dead_letter>> do_dead_letters(std::string_view projection,
                                                   size_t limit) override;
  result<std::optional<dead_letter>> do_find_dead_letter(int64_t id) override;
  result<bool> do_remove_dead_letter(int64_t id) override;
  result<dead_letter> do_request_retry(int64_t id) override;
  result<std::vector<int64_t>>
  do_take_retry_requests(std::string_view projection) override;
  result<void> do_retry_failed(int64_t id,
                               const std::string& error) override;

  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace es::persistence
