#include "deadlines.hpp"

#include <algorithm>
#include <vector>

#include <caf/abstract_actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/sec.hpp>

namespace es::detail {

deadlines::deadlines(std::chrono::milliseconds timeout)
  : timeout_(timeout),
    tick_(std::clamp(timeout / 10, std::chrono::milliseconds{1},
                     std::chrono::milliseconds{100})) {
  thread_ = std::thread{[this] { run(); }};
}

deadlines::~deadlines() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void deadlines::watch(caf::strong_actor_ptr caller, caf::message_id id) {
  auto due = clock::now() + timeout_;
  std::lock_guard<std::mutex> guard{mtx_};
  queue_.push_back(entry{due, std::move(caller), id});
}

void deadlines::run() {
  std::vector<entry> expired;
  std::unique_lock<std::mutex> guard{mtx_};
  while (!stopping_) {
    cv_.wait_for(guard, tick_);
    auto now = clock::now();
    while (!queue_.empty() && queue_.front().due <= now) {
      expired.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    if (expired.empty())
      continue;
    guard.unlock();
    for (auto& e : expired)
      if (auto* a = caf::actor_cast<caf::abstract_actor*>(e.caller))
        a->eq_impl(e.id, e.caller, nullptr,
                   caf::make_error(caf::sec::request_timeout));
    expired.clear(); // drops the references outside the lock
    guard.lock();
  }
  queue_.clear();
}

} // namespace es::detail
