// uuid: UUIDv7 layout and order, the canonical text form and its parser.
#include "es/persistence/uuid.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

namespace es::persistence {
namespace {

const uuid::bytes_type known_bytes{0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                   0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
                                   0xcc, 0xdd, 0xee, 0xff};

const char* known_text = "00112233-4455-6677-8899-aabbccddeeff";

int version_of(const uuid& id) {
  return id.bytes()[6] >> 4;
}

int variant_bits_of(const uuid& id) {
  return id.bytes()[8] >> 6;
}

// Returns the 48-bit big-endian Unix time in milliseconds of a UUIDv7.
int64_t unix_millis_of(const uuid& id) {
  int64_t ms = 0;
  for (size_t i = 0; i < 6; ++i)
    ms = (ms << 8) | id.bytes()[i];
  return ms;
}

int64_t now_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

void expect_rejected(const std::string& text) {
  SCOPED_TRACE("text: '" + text + "'");
  auto parsed = uuid::parse(text);
  ASSERT_FALSE(parsed) << "parsed as " << parsed->to_string();
  EXPECT_EQ(parsed.error().code(), ec::invalid_argument);
}

TEST(Uuid, DefaultIsNil) {
  uuid id;
  EXPECT_TRUE(id.nil());
  EXPECT_EQ(id.bytes(), uuid::bytes_type{});
  EXPECT_EQ(id.to_string(), "00000000-0000-0000-0000-000000000000");
}

TEST(Uuid, NonZeroBytesAreNotNil) {
  uuid::bytes_type bytes{};
  bytes[15] = 1;
  EXPECT_FALSE(uuid{bytes}.nil());
  EXPECT_FALSE(uuid{known_bytes}.nil());
}

TEST(Uuid, ParsesNilText) {
  auto parsed = uuid::parse("00000000-0000-0000-0000-000000000000");
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->nil());
  EXPECT_EQ(*parsed, uuid{});
}

TEST(Uuid, V7HasVersionSeven) {
  for (int i = 0; i < 1000; ++i) {
    auto id = uuid::v7();
    ASSERT_EQ(version_of(id), 7) << id.to_string();
  }
}

TEST(Uuid, V7HasRfcVariant) {
  for (int i = 0; i < 1000; ++i) {
    auto id = uuid::v7();
    ASSERT_EQ(variant_bits_of(id), 0b10) << id.to_string();
  }
}

TEST(Uuid, V7IsNotNil) {
  EXPECT_FALSE(uuid::v7().nil());
}

TEST(Uuid, V7StartsWithUnixTimeInMilliseconds) {
  auto before = now_millis();
  auto id = uuid::v7();
  auto after = now_millis();
  // A monotonic generator may run ahead of the clock by a little when it
  // makes many ids in one millisecond, never behind it.
  EXPECT_GE(unix_millis_of(id), before);
  EXPECT_LE(unix_millis_of(id), after + 10'000);
}

TEST(Uuid, V7IsStrictlyIncreasingWithinAThread) {
  auto prev = uuid::v7();
  for (int i = 0; i < 200'000; ++i) {
    auto next = uuid::v7();
    ASSERT_LT(prev, next) << "call " << i << ": " << prev.to_string()
                          << " then " << next.to_string();
    prev = next;
  }
}

TEST(Uuid, V7TextSortsLikeBytes) {
  auto prev = uuid::v7();
  for (int i = 0; i < 10'000; ++i) {
    auto next = uuid::v7();
    ASSERT_LT(prev.to_string(), next.to_string());
    prev = next;
  }
}

TEST(Uuid, V7IsUniqueAndIncreasingAcrossThreads) {
  constexpr int threads = 4;
  constexpr int per_thread = 20'000;
  std::vector<std::vector<uuid>> made(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&made, t] {
      made[t].reserve(per_thread);
      for (int i = 0; i < per_thread; ++i)
        made[t].push_back(uuid::v7());
    });
  for (auto& worker : workers)
    worker.join();
  std::unordered_set<uuid> all;
  for (const auto& ids : made) {
    for (size_t i = 1; i < ids.size(); ++i)
      ASSERT_LT(ids[i - 1], ids[i]);
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), size_t{threads * per_thread});
}

TEST(Uuid, ToStringIsCanonicalLowercase) {
  EXPECT_EQ(uuid{known_bytes}.to_string(), known_text);
}

TEST(Uuid, ToStringHasDashesAtCanonicalPlaces) {
  auto text = uuid::v7().to_string();
  ASSERT_EQ(text.size(), 36u);
  for (size_t i = 0; i < text.size(); ++i) {
    bool dash_place = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_place)
      EXPECT_EQ(text[i], '-') << text;
    else
      EXPECT_NE(std::string{"0123456789abcdef"}.find(text[i]),
                std::string::npos)
        << text;
  }
}

TEST(Uuid, ParseReadsCanonicalText) {
  auto parsed = uuid::parse(known_text);
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->bytes(), known_bytes);
}

TEST(Uuid, ParseRoundTripsToString) {
  for (int i = 0; i < 1000; ++i) {
    auto id = uuid::v7();
    auto parsed = uuid::parse(id.to_string());
    ASSERT_TRUE(parsed) << id.to_string();
    ASSERT_EQ(*parsed, id) << id.to_string();
  }
}

TEST(Uuid, ParseAcceptsUppercase) {
  auto parsed = uuid::parse("00112233-4455-6677-8899-AABBCCDDEEFF");
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->bytes(), known_bytes);
  EXPECT_EQ(parsed->to_string(), known_text);
}

TEST(Uuid, ParseAcceptsMixedCase) {
  auto parsed = uuid::parse("00112233-4455-6677-8899-AaBbCcDdEeFf");
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->bytes(), known_bytes);
}

TEST(Uuid, ParseRejectsWrongLength) {
  expect_rejected("");
  expect_rejected("00112233-4455-6677-8899-aabbccddeef");   // 35
  expect_rejected("00112233-4455-6677-8899-aabbccddeeff0"); // 37
  expect_rejected("00112233445566778899aabbccddeeff");     // no dashes
  expect_rejected("{00112233-4455-6677-8899-aabbccddeeff}");
  expect_rejected("urn:uuid:00112233-4455-6677-8899-aabbccddeeff");
  expect_rejected(" 00112233-4455-6677-8899-aabbccddeeff");
  expect_rejected("00112233-4455-6677-8899-aabbccddeeff\n");
}

TEST(Uuid, ParseRejectsBadHex) {
  std::vector<std::string> texts{
    "0011223g-4455-6677-8899-aabbccddeeff",
    "00112233-4455-6677-8899-aabbccddeefz",
    "00112233-4455-6677-8899-aabbccddee f",
    "+0112233-4455-6677-8899-aabbccddeeff",
    "0x112233-4455-6677-8899-aabbccddeeff",
    std::string{"00112233-4455-6677-8899-aabbccddee\0f", 36},
    "00112233-4455-6677-8899-aabbccddee\xc3\xa9", // 'é' is two bytes
  };
  for (const auto& text : texts) {
    ASSERT_EQ(text.size(), 36u) << text;
    expect_rejected(text);
  }
}

TEST(Uuid, ParseRejectsMisplacedDashes) {
  std::vector<std::string> texts{
    "0011223-34455-6677-8899-aabbccddeeff",
    "00112233-44556-677-8899-aabbccddeeff",
    "00112233-4455-66778-899-aabbccddeeff",
    "00112233-4455-6677-8899aabbccddeeff-",
    "-0011223-4455-6677-8899-aabbccddeeff",
    "00112233a4455-6677-8899-aabbccddeeff", // hex where a dash belongs
    "000112233-4455-6677-8899aabbccddeeff",
    "------------------------------------",
  };
  for (const auto& text : texts) {
    ASSERT_EQ(text.size(), 36u) << text;
    expect_rejected(text);
  }
}

TEST(Uuid, EqualIdsHashEqually) {
  auto id = uuid::v7();
  auto copy = *uuid::parse(id.to_string());
  EXPECT_EQ(std::hash<uuid>{}(id), std::hash<uuid>{}(copy));
}

TEST(Uuid, ComparesByBytes) {
  uuid::bytes_type low{};
  uuid::bytes_type high{};
  high[0] = 1;
  low[15] = 0xff;
  EXPECT_LT(uuid{low}, uuid{high});
  EXPECT_FALSE(uuid{high} < uuid{low});
  EXPECT_NE(uuid{low}, uuid{high});
  EXPECT_EQ(uuid{known_bytes}, uuid{known_bytes});
}

} // namespace
} // namespace es::persistence
