// Waiting for, sampling and printing the projections' status (watch.hpp).
#include "watch.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>

namespace bank {

namespace {

using steady = std::chrono::steady_clock;

// A projection another node runs (this one stands by) is that node's to
// keep up to date: nothing to wait for here.
bool caught_up(const es::projection_status& s) {
  return s.standby
         || (s.state == es::persistence::projection_state::live && s.lag == 0);
}

// Returns `text` on one line (libpq's messages span several).
std::string one_line(std::string text) {
  std::replace_if(
    text.begin(), text.end(), [](char c) { return c == '\n' || c == '\t'; },
    ' ');
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text;
}

std::string failure(const es::projection_status& s) {
  auto out = s.name + " failed";
  if (s.error_position > 0)
    out += " at position " + std::to_string(s.error_position);
  if (!s.last_error.empty())
    out += ": " + one_line(s.last_error);
  return out;
}

std::string behind(const std::vector<es::projection_status>& all,
                   std::chrono::milliseconds limit) {
  std::ostringstream out;
  out << "not caught up after " << limit.count() / 1000.0 << " s:";
  const char* sep = " ";
  for (const auto& s : all) {
    if (caught_up(s))
      continue;
    out << sep << s.name << ' ' << es::persistence::to_string(s.state)
        << ", lag " << s.lag;
    sep = "; ";
  }
  return out.str();
}

int64_t lag_of(const std::vector<es::projection_status>& all,
               const std::string& name) {
  for (const auto& s : all)
    if (s.name == name)
      return s.lag;
  return 0;
}

int64_t max_of(const std::map<std::string, int64_t>& lags,
               const std::string& name) {
  auto i = lags.find(name);
  return i == lags.end() ? 0 : i->second;
}

const char* kind_name(es::projection::kind k) {
  return k == es::projection::kind::postgres ? "postgres" : "in_memory";
}

} // namespace

wait_outcome wait_for_projections(es::runtime& rt,
                                  std::chrono::milliseconds limit,
                                  std::chrono::milliseconds every) {
  auto start = steady::now();
  auto deadline = start + limit;
  wait_outcome out;
  std::string unreadable;
  for (;;) {
    if (auto all = rt.projections()) {
      out.statuses = std::move(*all);
      unreadable.clear();
      if (out.first.empty())
        out.first = out.statuses;
      auto elapsed = std::chrono::duration<double>(steady::now() - start);
      for (const auto& s : out.statuses)
        if (caught_up(s))
          out.caught_up_after.emplace(s.name, elapsed.count());
      auto failed = std::find_if(
        out.statuses.begin(), out.statuses.end(), [](const auto& s) {
          return s.state == es::persistence::projection_state::failed;
        });
      if (failed != out.statuses.end()) {
        out.problem = failure(*failed);
        break;
      }
      if (std::all_of(out.statuses.begin(), out.statuses.end(), caught_up))
        break;
    } else {
      unreadable = es::actors::from_caf(all.error()).to_string();
    }
    auto now = steady::now();
    if (now >= deadline) {
      out.problem = unreadable.empty()
                      ? behind(out.statuses, limit)
                      : "cannot read the projections' status: "
                          + one_line(unreadable);
      break;
    }
    std::this_thread::sleep_for(std::min<steady::duration>(every,
                                                           deadline - now));
  }
  out.seconds = std::chrono::duration<double>(steady::now() - start).count();
  return out;
}

void print_projections(std::ostream& out,
                       const std::vector<es::projection_status>& all) {
  constexpr size_t columns = 8;
  using row = std::array<std::string, columns>;
  std::vector<row> rows{{"name", "kind", "state", "checkpoint", "head", "lag",
                         "events/s", "last error"}};
  for (const auto& s : all) {
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.1f", s.events_per_second);
    rows.push_back({s.name, kind_name(s.kind),
                    s.standby ? "standby"
                              : es::persistence::to_string(s.state),
                    std::to_string(s.checkpoint), std::to_string(s.head),
                    std::to_string(s.lag), rate, one_line(s.last_error)});
  }
  std::array<size_t, columns> width{};
  for (const auto& r : rows)
    for (size_t i = 0; i < columns; ++i)
      width[i] = std::max(width[i], r[i].size());
  // Text columns align left, numbers (checkpoint .. events/s) right.
  auto numeric = [](size_t i) { return i >= 3 && i <= 6; };
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < columns; ++i) {
      std::string pad(width[i] - r[i].size(), ' ');
      if (i > 0)
        line += "  ";
      line += numeric(i) ? pad + r[i] : r[i] + pad;
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out << line << '\n';
  }
}

void print_lag(std::ostream& out, const load_lag& lag) {
  const auto& w = lag.catch_up;
  for (const auto& s : w.statuses) {
    auto end_lag = lag_of(w.first, s.name);
    out << "  lag:        " << s.name << " max "
        << std::max(end_lag, max_of(lag.max, s.name)) << ", " << end_lag
        << " after the last command, ";
    auto i = w.caught_up_after.find(s.name);
    if (i != w.caught_up_after.end()) {
      char secs[32];
      std::snprintf(secs, sizeof secs, "%.3f", i->second);
      out << "caught up in " << secs << " s\n";
    } else {
      out << "not caught up: " << es::persistence::to_string(s.state)
          << ", lag " << s.lag << '\n';
    }
  }
}

nlohmann::json lag_json(const load_lag& lag) {
  const auto& w = lag.catch_up;
  auto out = nlohmann::json::object();
  for (const auto& s : w.statuses) {
    auto end_lag = lag_of(w.first, s.name);
    auto i = w.caught_up_after.find(s.name);
    nlohmann::json seconds; // null: not caught up
    if (i != w.caught_up_after.end())
      seconds = std::round(i->second * 1e3) / 1e3;
    out[s.name] = {
      {"max_lag", std::max(end_lag, max_of(lag.max, s.name))},
      {"end_lag", end_lag},
      {"catch_up_seconds", seconds},
      {"state", es::persistence::to_string(s.state)},
      {"lag", s.lag},
    };
  }
  return out;
}

lag_sampler::lag_sampler(es::runtime& rt, std::chrono::milliseconds every)
  : rt_(rt), thread_([this, every] { run(every); }) {
  // nop
}

lag_sampler::~lag_sampler() {
  (void) stop();
}

std::map<std::string, int64_t> lag_sampler::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
  return max_lag_;
}

void lag_sampler::run(std::chrono::milliseconds every) {
  std::unique_lock<std::mutex> lock{mtx_};
  while (!stopping_) {
    lock.unlock();
    auto all = rt_.projections();
    lock.lock();
    if (all)
      for (const auto& s : *all)
        max_lag_[s.name] = std::max(max_lag_[s.name], s.lag);
    wake_.wait_for(lock, every, [this] { return stopping_; });
  }
}

} // namespace bank
