#include "es/persistence/event.hpp"

#include <cstdio>
#include <ctime>

namespace es::persistence {

std::string to_iso8601(time_point t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto time = static_cast<std::time_t>(secs.time_since_epoch().count());
  std::tm tm{};
  gmtime_r(&time, &tm);
  char buf[40];
  auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ",
                static_cast<long long>((t - secs).count()));
  return buf;
}

} // namespace es::persistence
