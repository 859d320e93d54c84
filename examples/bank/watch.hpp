// Watching a runtime's projections from `main`: wait until they have caught
// up, sample their lag while something else runs, print their status.
//
//   auto w = bank::wait_for_projections(*rt, std::chrono::seconds{10});
//   bank::print_projections(std::cout, w.statuses);
//   if (!w.problem.empty()) die(w.problem);   // failed, or still behind
//
//   bank::lag_sampler sampler{*rt};            // samples every 100 ms
//   ... run the load ...
//   auto max_lag = sampler.stop();             // name -> highest lag seen
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "es/runtime.hpp"

namespace bank {

/// How waiting for the projections ended.
struct wait_outcome {
  /// The first status seen (empty if none could be read).
  std::vector<es::projection_status> first;
  /// The last status seen (empty if none could be read).
  std::vector<es::projection_status> statuses;
  /// Empty when every projection is live with lag 0 (or runs on another
  /// node: standby); otherwise one line saying which failed or is behind.
  std::string problem;
  /// From the start of the wait until it ended.
  double seconds = 0;
  /// From the start of the wait until a projection was first seen live
  /// with lag 0, per projection (absent: never).
  std::map<std::string, double> caught_up_after;
};

/// Polls `rt.projections()` every `every` until every projection is live
/// with lag 0, one has failed, or `limit` has passed (it polls at least
/// once). Blocks the calling thread.
wait_outcome wait_for_projections(
  es::runtime& rt, std::chrono::milliseconds limit,
  std::chrono::milliseconds every = std::chrono::milliseconds{50});

/// Writes an aligned table: name, kind, state, checkpoint, head, lag,
/// events/s, last error; one line per projection after the header.
void print_projections(std::ostream& out,
                       const std::vector<es::projection_status>& all);

/// The projections' lag around a `bank load`.
struct load_lag {
  /// The highest lag sampled during the load, per projection.
  std::map<std::string, int64_t> max;
  /// The wait after the last command; its first status is the lag then.
  wait_outcome catch_up;
};

/// Writes one line per projection: "  lag:        NAME max M, E after the
/// last command, caught up in S s" (or "..., not caught up: STATE, lag L").
void print_lag(std::ostream& out, const load_lag& lag);

/// Returns the figures as a JSON object: {NAME: {"max_lag", "end_lag",
/// "catch_up_seconds", "state", "lag"}}.
nlohmann::json lag_json(const load_lag& lag);

/// Samples the projections' lag on a thread of its own, every `every`, from
/// construction until `stop()` (or destruction).
class lag_sampler {
public:
  explicit lag_sampler(
    es::runtime& rt,
    std::chrono::milliseconds every = std::chrono::milliseconds{100});

  ~lag_sampler();

  lag_sampler(const lag_sampler&) = delete;
  lag_sampler& operator=(const lag_sampler&) = delete;

  /// Stops sampling; returns the highest lag seen per projection.
  std::map<std::string, int64_t> stop();

private:
  void run(std::chrono::milliseconds every);

  es::runtime& rt_;
  std::mutex mtx_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::string, int64_t> max_lag_;
  std::thread thread_;
};

} // namespace bank
