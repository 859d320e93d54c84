#include "es/persistence/memory_store.hpp"
#include "es/persistence/postgres_store.hpp"

namespace es::persistence {

result<std::unique_ptr<event_store>> open_store(const std::string& url) {
  if (url == "memory:" || url == "memory")
    return std::unique_ptr<event_store>{std::make_unique<memory_store>()};
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0
      || url.find('=') != std::string::npos) {
    auto store = postgres_store::open(url);
    if (!store)
      return store.error();
    return std::unique_ptr<event_store>{std::move(*store)};
  }
  return {ec::invalid_argument,
          "unknown store URL (expected memory: or postgresql://...)"};
}

} // namespace es::persistence
