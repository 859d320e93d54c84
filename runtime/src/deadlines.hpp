// Request timeouts for the command path, cheaper than CAF's: CAF 0.17 wakes
// its clock thread for every request sent with a timeout and keeps each
// timer until it expires (a response does not cancel it). Commands go out
// without a CAF timeout instead; `watch` queues (deadline, caller, response
// id) and one thread delivers `sec::request_timeout` to the callers whose
// deadline passed, as CAF's clock would. One timeout for all requests keeps
// the queue in deadline order: appending and expiring are O(1).
//
//   deadlines d{std::chrono::seconds{30}};
//   auto h = self->request(target, caf::infinite, msg);
//   d.watch(self->ctrl(), h.id());
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <caf/actor_control_block.hpp>
#include <caf/message_id.hpp>

namespace es::detail {

class deadlines {
public:
  /// Starts the thread. Precondition: `timeout > 0`.
  explicit deadlines(std::chrono::milliseconds timeout);

  /// Stops the thread and forgets what it watched (before the actor system
  /// goes: it holds references to callers).
  ~deadlines();

  deadlines(const deadlines&) = delete;
  deadlines& operator=(const deadlines&) = delete;

  /// Times out response `id` of `caller` once the timeout passed; a response
  /// that came first makes the late timeout a no-op for the caller.
  void watch(caf::strong_actor_ptr caller, caf::message_id id);

private:
  using clock = std::chrono::steady_clock;

  struct entry {
    clock::time_point due;
    caf::strong_actor_ptr caller;
    caf::message_id id;
  };

  void run();

  const std::chrono::milliseconds timeout_;
  const std::chrono::milliseconds tick_; ///< How late a timeout may come.
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<entry> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace es::detail
