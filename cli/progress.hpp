// A progress bar on the terminal for long runs (rebuilds, long reads):
//
//   rebuild bank_balances [#########...........]  45%  450000/1000000
//   95102 ev/s  ETA 0:06
//
// (one line, redrawn in place on stderr). It only draws when stdout and
// stderr are both terminals: piped output never contains it.
//
//   progress bar{"events", progress::on_terminal()};
//   bar.update(done, total);     // at most 10 redraws a second
//   bar.clear();                 // before printing rows to the terminal
//   bar.finish();                // last redraw, then a newline
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>

namespace es::cli {

class progress {
public:
  using clock = std::chrono::steady_clock;

  progress(std::string label, bool enabled);

  /// Returns true when stdout and stderr are both terminals.
  static bool on_terminal();

  /// Returns true when this bar draws.
  bool enabled() const {
    return enabled_;
  }

  /// Records that `done` of `total` are done (`total` <= 0: unknown) and
  /// redraws unless it drew less than 100 ms ago.
  void update(int64_t done, int64_t total);

  /// Erases the bar's line (it comes back on the next update).
  void clear();

  /// Draws the last state and ends the line.
  void finish();

  /// Returns the line for `done` of `total` at `rate` per second (pure).
  static std::string format(const std::string& label, int64_t done,
                            int64_t total, double rate, int width = 20);

private:
  void draw();
  double rate() const;

  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  int64_t done_ = 0;
  int64_t total_ = 0;
  clock::time_point last_draw_{};
  std::deque<std::pair<clock::time_point, int64_t>> samples_;
};

} // namespace es::cli
