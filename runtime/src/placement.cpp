#include "es/placement.hpp"

namespace es {

namespace {

// FNV-1a over the bytes, then the splitmix64 finalizer: FNV alone spreads
// keys that differ in their last bytes poorly.
uint64_t fnv1a(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

} // namespace

std::string placement_key(std::string_view type, std::string_view id) {
  std::string key;
  key.reserve(type.size() + 1 + id.size());
  key.append(type).append("/").append(id);
  return key;
}

uint64_t placement_weight(std::string_view member, std::string_view key) {
  auto h = fnv1a(0xcbf29ce484222325ULL, member);
  h = fnv1a(h ^ 0xff, key); // a separator: ("ab","c") differs from ("a","bc")
  return mix(h);
}

std::string owner_of(std::string_view key,
                     const std::vector<std::string>& members) {
  const std::string* best = nullptr;
  uint64_t best_weight = 0;
  for (const auto& m : members) {
    auto w = placement_weight(m, key);
    if (!best || w > best_weight || (w == best_weight && m < *best)) {
      best = &m;
      best_weight = w;
    }
  }
  return best ? *best : std::string{};
}

} // namespace es
