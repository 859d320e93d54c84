#include "progress.hpp"

#include <algorithm>
#include <cstdio>

#include <unistd.h>

namespace es::cli {

namespace {

// The rate is measured over the last few seconds only.
constexpr auto window = std::chrono::seconds{5};

std::string eta_text(double seconds) {
  auto s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld",
                  static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60),
                  static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld",
                  static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  return buf;
}

} // namespace

progress::progress(std::string label, bool enabled)
  : label_(std::move(label)), enabled_(enabled) {
  // nop
}

bool progress::on_terminal() {
  return isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
}

std::string progress::format(const std::string& label, int64_t done,
                             int64_t total, double rate, int width) {
  std::string out = label;
  if (total > 0) {
    auto clamped = std::clamp<int64_t>(done, 0, total);
    auto fill = static_cast<int>(clamped * width / total);
    out += " [" + std::string(fill, '#') + std::string(width - fill, '.')
           + "] " + std::to_string(clamped * 100 / total) + "%  "
           + std::to_string(done) + "/" + std::to_string(total);
  } else {
    out += "  " + std::to_string(done);
  }
  if (rate <= 0)
    return out; // not measured yet
  char buf[64];
  std::snprintf(buf, sizeof buf, "  %.0f ev/s", rate);
  out += buf;
  if (total > 0 && done < total)
    out += "  ETA " + eta_text(static_cast<double>(total - done) / rate);
  return out;
}

void progress::update(int64_t done, int64_t total) {
  if (!enabled_)
    return;
  auto now = clock::now();
  done_ = done;
  total_ = total;
  samples_.emplace_back(now, done);
  while (samples_.size() > 2 && now - samples_.front().first > window)
    samples_.pop_front();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds{100})
    return;
  last_draw_ = now;
  draw();
}

double progress::rate() const {
  if (samples_.size() < 2)
    return 0;
  auto& [t0, d0] = samples_.front();
  auto& [t1, d1] = samples_.back();
  std::chrono::duration<double> dt = t1 - t0;
  return dt.count() > 0 ? static_cast<double>(d1 - d0) / dt.count() : 0;
}

void progress::draw() {
  std::fprintf(stderr, "\r\033[K%s",
               format(label_, done_, total_, rate()).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void progress::clear() {
  if (!enabled_ || !drawn_)
    return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

void progress::finish() {
  if (!enabled_)
    return;
  draw();
  std::fputc('\n', stderr);
  drawn_ = false;
}

} // namespace es::cli
