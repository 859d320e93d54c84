// The store conformance suite: one value-parameterized GoogleTest suite,
// `StoreConformance`, that every event store must pass. Each test gets a
// fresh, empty store through the `event_store` interface only; the suite is
// instantiated once (in fixture.cpp) for "memory" and, with $ES_DATABASE_URL,
// "postgres" (skipped without it, failed under CI=true).
//
// Tests live in topic files beside this one (append_test.cpp,
// idempotency_test.cpp, read_test.cpp, snapshot_checkpoint_test.cpp,
// input_test.cpp), all TEST_P(StoreConformance, ...).
//
// To add a store: teach es::test::make_store (tests/support/stores.cpp) to
// build it from a new kind name, and add that name to the ::testing::Values
// of the INSTANTIATE_TEST_SUITE_P in fixture.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "es/persistence/event.hpp"
#include "es/persistence/event_store.hpp"
#include "support/stores.hpp"

// Not in an anonymous namespace: the fixture is shared by several
// translation units, and GoogleTest matches their TEST_Ps to the one
// instantiation by the fixture's type.
namespace es::persistence::conformance {

// -- test events and helpers --------------------------------------------------

struct item_added {
  static constexpr const char* type_name = "item_added";
  std::string sku;
  int64_t quantity = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(item_added, sku, quantity)

struct checked_out {
  static constexpr const char* type_name = "checked_out";
  int64_t total_cents = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(checked_out, total_cents)

inline new_event item(std::string sku = "sku-1", int64_t quantity = 1) {
  return make_event(item_added{std::move(sku), quantity});
}

/// Returns `n` fresh item_added events with quantities 1..n.
inline std::vector<new_event> items(size_t n) {
  std::vector<new_event> result;
  for (size_t i = 0; i < n; ++i)
    result.push_back(item("sku-" + std::to_string(i + 1),
                          static_cast<int64_t>(i + 1)));
  return result;
}

inline new_event typed(std::string event_type,
                       json payload = json::object()) {
  new_event e;
  e.event_type = std::move(event_type);
  e.payload = std::move(payload);
  return e;
}

inline new_event with_payload(json payload) {
  return typed("raw", std::move(payload));
}

inline expected_version any() {
  return expected_version::any();
}

inline expected_version exact(int64_t v) {
  return expected_version::exact(v);
}

inline expected_version no_stream() {
  return expected_version::no_stream();
}

inline expected_version stream_exists() {
  return expected_version::stream_exists();
}

inline append_request request(std::string stream,
                              std::vector<new_event> events,
                              expected_version expected = any(),
                              std::string type = "cart") {
  append_request req;
  req.stream_id = std::move(stream);
  req.stream_type = std::move(type);
  req.expected = expected;
  req.events = std::move(events);
  return req;
}

template <class T>
std::string describe(const result<T>& r) {
  return r ? std::string{"ok"} : r.error().to_string();
}

template <class T>
::testing::AssertionResult is_ok(const result<T>& r) {
  if (r)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "failed: " << r.error().to_string();
}

template <class T>
::testing::AssertionResult fails_with(const result<T>& r, ec code) {
  if (r)
    return ::testing::AssertionFailure()
           << "succeeded, expected " << to_string(code);
  if (r.error().code() != code)
    return ::testing::AssertionFailure()
           << "failed with " << r.error().to_string() << ", expected "
           << to_string(code);
  return ::testing::AssertionSuccess();
}

inline std::vector<int64_t>
versions_of(const std::vector<recorded_event>& events) {
  std::vector<int64_t> result;
  for (const auto& e : events)
    result.push_back(e.version);
  return result;
}

inline std::vector<int64_t>
positions_of(const std::vector<recorded_event>& events) {
  std::vector<int64_t> result;
  for (const auto& e : events)
    result.push_back(e.global_position);
  return result;
}

/// Returns first, first + 1, ..., last.
inline std::vector<int64_t> range(int64_t first, int64_t last) {
  std::vector<int64_t> result;
  for (auto i = first; i <= last; ++i)
    result.push_back(i);
  return result;
}

inline bool near_now(time_point t) {
  auto diff = std::chrono::system_clock::now() - t;
  return diff < std::chrono::seconds{30} && diff > -std::chrono::seconds{30};
}

inline snapshot snap(std::string stream_id, int64_t version,
                     int32_t schema_version = 1, json state = json::object(),
                     std::string stream_type = "cart") {
  snapshot s;
  s.stream_id = std::move(stream_id);
  s.stream_type = std::move(stream_type);
  s.version = version;
  s.schema_version = schema_version;
  s.state = state.empty() ? json{{"version", version}} : std::move(state);
  return s;
}

/// Names that break naive SQL, array literals, LIKE patterns or escaping.
inline const std::vector<std::string>& awkward_names() {
  static const std::vector<std::string> names{
    "账户-ü-🙂",
    "x'); DROP TABLE es_events;--",
    "it's",
    "\"quoted\"",
    "back\\slash",
    "tab\there",
    "new\nline",
    "comma,separated",
    "{a,b}",
    "a",
    "b",
    "{}",
    "NULL",
    "%_*?",
    "$1",
    " padded ",
  };
  return names;
}

// -- the fixture --------------------------------------------------------------

class StoreConformance : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    if (GetParam() == "postgres")
      ES_REQUIRE_DATABASE();
    store_ = es::test::make_store(GetParam(), schema_);
    ASSERT_NE(store_, nullptr);
  }

  result<append_result> append(const std::string& stream,
                               std::vector<new_event> events,
                               expected_version expected = any(),
                               const std::string& type = "cart") {
    return store_->append(stream, type, expected, std::move(events));
  }

  /// Appends and fails the test on error.
  append_result append_ok(const std::string& stream,
                          std::vector<new_event> events,
                          expected_version expected = any(),
                          const std::string& type = "cart") {
    auto r = append(stream, std::move(events), expected, type);
    if (!r) {
      ADD_FAILURE() << "append to '" << stream << "' failed: "
                    << r.error().to_string();
      return {};
    }
    return *r;
  }

  std::vector<recorded_event> read(std::string_view stream,
                                   int64_t from = 1,
                                   size_t max_count = unlimited,
                                   direction dir = direction::forward) {
    auto r = store_->read_stream(stream, from, max_count, dir);
    if (!r) {
      ADD_FAILURE() << "read_stream failed: " << r.error().to_string();
      return {};
    }
    return std::move(*r);
  }

  int64_t version_of(std::string_view stream) {
    auto r = store_->stream_version(stream);
    if (!r) {
      ADD_FAILURE() << "stream_version failed: " << r.error().to_string();
      return -1;
    }
    return *r;
  }

  int64_t head() {
    auto r = store_->head_position();
    if (!r) {
      ADD_FAILURE() << "head_position failed: " << r.error().to_string();
      return -1;
    }
    return *r;
  }

  feed_page page(int64_t after, size_t limit, const feed_filter& filter = {}) {
    auto r = store_->read_all(after, limit, filter);
    if (!r) {
      ADD_FAILURE() << "read_all failed: " << r.error().to_string();
      return {};
    }
    return std::move(*r);
  }

  /// Reads the whole feed page by page, following next_after.
  std::vector<recorded_event> read_feed(const feed_filter& filter = {},
                                        size_t limit = 10'000) {
    std::vector<recorded_event> all;
    int64_t after = 0;
    for (int pages = 0; pages < 1000; ++pages) {
      auto p = page(after, limit, filter);
      all.insert(all.end(), p.events.begin(), p.events.end());
      if (p.at_head)
        return all;
      if (p.next_after <= after) {
        ADD_FAILURE() << "next_after " << p.next_after
                      << " does not advance past " << after;
        return all;
      }
      after = p.next_after;
    }
    ADD_FAILURE() << "read_feed never reached the head";
    return all;
  }

  std::vector<int64_t> feed_positions(const feed_filter& filter = {},
                                      size_t limit = 10'000) {
    return positions_of(read_feed(filter, limit));
  }

  std::optional<snapshot> load(std::string_view stream) {
    auto r = store_->load_snapshot(stream);
    if (!r) {
      ADD_FAILURE() << "load_snapshot failed: " << r.error().to_string();
      return std::nullopt;
    }
    return std::move(*r);
  }

  bool save(const snapshot& s) {
    auto r = store_->save_snapshot(s);
    if (!r) {
      ADD_FAILURE() << "save_snapshot failed: " << r.error().to_string();
      return false;
    }
    return *r;
  }

  /// Expects the append to fail with invalid_argument and write nothing.
  void expect_invalid_append(const std::string& stream,
                             const std::string& type,
                             std::vector<new_event> events,
                             expected_version expected = any()) {
    auto head_before = head();
    auto r = store_->append(stream, type, expected, std::move(events));
    EXPECT_TRUE(fails_with(r, ec::invalid_argument));
    EXPECT_EQ(head(), head_before);
  }

  /// Appends, in order: cart c1 item_added (1), order o1 order_placed (2),
  /// cart c1 checked_out (3), order o1 order_shipped (4), cart c2 item_added
  /// (5), invoice i1 invoice_sent (6).
  void seed_mixed_feed() {
    append_ok("c1", {item()}, no_stream(), "cart");
    append_ok("o1", {typed("order_placed")}, no_stream(), "order");
    append_ok("c1", {make_event(checked_out{100})}, exact(1), "cart");
    append_ok("o1", {typed("order_shipped")}, exact(1), "order");
    append_ok("c2", {item()}, no_stream(), "cart");
    append_ok("i1", {typed("invoice_sent")}, no_stream(), "invoice");
  }

  // Declared first so that the store closes before its schema is dropped.
  std::unique_ptr<es::test::pg_schema> schema_;
  std::unique_ptr<event_store> store_;
};

} // namespace es::persistence::conformance
