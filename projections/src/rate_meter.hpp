// Events per second over the last ten seconds (less when younger), for
// status reports.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace es::projections::detail {

class rate_meter {
public:
  using clock = std::chrono::steady_clock;

  /// Counts `n` events now.
  void add(int64_t n) {
    auto now = now_ms();
    if (first_ < 0)
      first_ = now;
    roll(now / 1000);
    buckets_[static_cast<size_t>(last_ % size)] += n;
  }

  /// Returns the rate over the last ten seconds, or since the first event
  /// when that is more recent.
  double per_second() {
    if (first_ < 0)
      return 0;
    auto now = now_ms();
    roll(now / 1000);
    int64_t sum = 0;
    for (auto n : buckets_)
      sum += n;
    // The buckets span the current second so far plus `size - 1` whole ones.
    auto window = (size - 1) * 1000 + now % 1000;
    auto span = std::min<int64_t>(window, now - first_);
    return static_cast<double>(sum) * 1000.0
           / static_cast<double>(std::max<int64_t>(span, 1));
  }

private:
  static constexpr int64_t size = 11; // ten whole seconds plus the current

  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
             clock::now().time_since_epoch())
      .count();
  }

  void roll(int64_t now) {
    if (last_ == 0)
      last_ = now;
    for (int64_t s = last_ + 1; s <= now && s <= last_ + size; ++s)
      buckets_[static_cast<size_t>(s % size)] = 0;
    last_ = now;
  }

  std::array<int64_t, size> buckets_{};
  int64_t last_ = 0;  // the current second
  int64_t first_ = -1; // ms of the first event
};

} // namespace es::projections::detail
