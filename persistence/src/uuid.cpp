#include "es/persistence/uuid.hpp"

#include <array>
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

// Hex digit values by byte; -1 for anything else.
constexpr std::array<int8_t, 256> hex_digits = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t)
    v = -1;
  for (int c = '0'; c <= '9'; ++c)
    t[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c)
    t[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c)
    t[c] = static_cast<int8_t>(c - 'A' + 10);
  return t;
}();

// Where each byte's two digits start in the 36-character form.
constexpr size_t byte_offsets[16] = {0,  2,  4,  6,  9,  11, 14, 16,
                                     19, 21, 24, 26, 28, 30, 32, 34};

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
  if (text.size() != 36 || text[8] != '-' || text[13] != '-'
      || text[18] != '-' || text[23] != '-')
    return fail();
  bytes_type b{};
  for (size_t i = 0; i < 16; ++i) {
    auto hi = hex_digits[static_cast<uint8_t>(text[byte_offsets[i]])];
    auto lo = hex_digits[static_cast<uint8_t>(text[byte_offsets[i] + 1])];
    if ((hi | lo) < 0)
      return fail();
    b[i] = static_cast<uint8_t>(hi << 4 | lo);
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
