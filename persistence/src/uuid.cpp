#include "es/persistence/uuid.hpp"

#include <chrono>
#include <cstring>
#include <random>

namespace es::persistence {

namespace {

// Per-thread generator state. Within one millisecond the 74 random bits are
// replaced by an increment of the previous id (RFC 9562, method 2), so ids
// made by one thread strictly increase.
struct v7_state {
  std::mt19937_64 rng{std::random_device{}()};
  uint64_t last_ms = 0;
  uint16_t rand_a = 0; // 12 bits
  uint64_t rand_b = 0; // 62 bits
};

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool is_dash_position(size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

} // namespace

uuid uuid::v7() {
  thread_local v7_state st;
  using namespace std::chrono;
  auto ms = static_cast<uint64_t>(
    duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count());
  if (ms > st.last_ms) {
    st.last_ms = ms;
    auto r = st.rng();
    st.rand_a = static_cast<uint16_t>(r & 0x0fff);
    st.rand_b = st.rng() & 0x3fffffffffffffffULL;
  } else if (++st.rand_b > 0x3fffffffffffffffULL) {
    // 2^62 ids in one millisecond: borrow from rand_a, then from the clock.
    st.rand_b = 0;
    if (++st.rand_a > 0x0fff) {
      st.rand_a = 0;
      ++st.last_ms;
    }
  }
  bytes_type b{};
  for (int i = 0; i < 6; ++i)
    b[i] = static_cast<uint8_t>(st.last_ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | (st.rand_a >> 8));
  b[7] = static_cast<uint8_t>(st.rand_a);
  b[8] = static_cast<uint8_t>(0x80 | (st.rand_b >> 56));
  for (int i = 9; i < 16; ++i)
    b[i] = static_cast<uint8_t>(st.rand_b >> (8 * (15 - i)));
  return uuid{b};
}

result<uuid> uuid::parse(std::string_view text) {
  auto fail = [&] {
    return result<uuid>{ec::invalid_argument,
                        "not a UUID: '" + std::string{text.substr(0, 64)}
                          + "'"};
  };
  if (text.size() != 36)
    return fail();
  bytes_type b{};
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (is_dash_position(i)) {
      if (text[i] != '-')
        return fail();
      continue;
    }
    int v = hex_value(text[i]);
    if (v < 0)
      return fail();
    b[n / 2] = static_cast<uint8_t>(b[n / 2] | (n % 2 == 0 ? v << 4 : v));
    ++n;
  }
  return uuid{b};
}

std::string uuid::to_string() const {
  static constexpr char digits[] = "0123456789abcdef";
  char out[36];
  size_t n = 0;
  for (size_t i = 0; i < bytes_.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[n++] = '-';
    out[n++] = digits[bytes_[i] >> 4];
    out[n++] = digits[bytes_[i] & 0x0f];
  }
  return std::string(out, sizeof(out));
}

bool uuid::nil() const noexcept {
  for (auto byte : bytes_)
    if (byte != 0)
      return false;
  return true;
}

} // namespace es::persistence

size_t std::hash<es::persistence::uuid>::operator()(
  const es::persistence::uuid& id) const noexcept {
  // The last 8 bytes of a v7 id are random: a good hash as they are.
  uint64_t x = 0;
  std::memcpy(&x, id.bytes().data() + 8, sizeof(x));
  uint64_t y = 0;
  std::memcpy(&y, id.bytes().data(), sizeof(y));
  return static_cast<size_t>(x ^ (y * 0x9e3779b97f4a7c15ULL));
}
