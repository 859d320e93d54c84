#include "es/persistence/memory_store.hpp"
#include "es/persistence/postgres_catalog.hpp"
#include "es/persistence/postgres_store.hpp"

namespace es::persistence {

namespace {

bool is_memory_url(const std::string& url) {
  return url == "memory:" || url == "memory";
}

bool is_postgres_url(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0
         || url.find('=') != std::string::npos;
}

const char* unknown_url = "unknown store URL (expected memory: or "
                          "postgresql://...)";

} // namespace

result<std::unique_ptr<event_store>> open_store(const std::string& url) {
  if (is_memory_url(url))
    return std::unique_ptr<event_store>{std::make_unique<memory_store>()};
  if (is_postgres_url(url)) {
    auto store = postgres_store::open(url);
    if (!store)
      return store.error();
    return std::unique_ptr<event_store>{std::move(*store)};
  }
  return {ec::invalid_argument, unknown_url};
}

result<std::unique_ptr<projection_catalog>>
open_catalog(const std::string& url) {
  if (is_memory_url(url))
    return std::unique_ptr<projection_catalog>{
      std::make_unique<memory_catalog>()};
  if (is_postgres_url(url)) {
    auto catalog = postgres_catalog::open(url);
    if (!catalog)
      return catalog.error();
    return std::unique_ptr<projection_catalog>{std::move(*catalog)};
  }
  return {ec::invalid_argument, unknown_url};
}

} // namespace es::persistence
