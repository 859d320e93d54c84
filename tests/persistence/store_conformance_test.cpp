// The conformance suite that every event store passes: one value-
// parameterized suite, run against memory_store and (with $ES_DATABASE_URL)
// postgres_store, through the event_store interface only.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "es/persistence/event.hpp"
#include "es/persistence/event_store.hpp"
#include "support/stores.hpp"

namespace es::persistence {
namespace {

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

new_event item(std::string sku = "sku-1", int64_t quantity = 1) {
  return make_event(item_added{std::move(sku), quantity});
}

/// Returns `n` fresh item_added events with quantities 1..n.
std::vector<new_event> items(size_t n) {
  std::vector<new_event> result;
  for (size_t i = 0; i < n; ++i)
    result.push_back(item("sku-" + std::to_string(i + 1),
                          static_cast<int64_t>(i + 1)));
  return result;
}

new_event typed(std::string event_type, json payload = json::object()) {
  new_event e;
  e.event_type = std::move(event_type);
  e.payload = std::move(payload);
  return e;
}

new_event with_payload(json payload) {
  return typed("raw", std::move(payload));
}

expected_version any() {
  return expected_version::any();
}

expected_version exact(int64_t v) {
  return expected_version::exact(v);
}

expected_version no_stream() {
  return expected_version::no_stream();
}

expected_version stream_exists() {
  return expected_version::stream_exists();
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

std::vector<int64_t> versions_of(const std::vector<recorded_event>& events) {
  std::vector<int64_t> result;
  for (const auto& e : events)
    result.push_back(e.version);
  return result;
}

std::vector<int64_t> positions_of(const std::vector<recorded_event>& events) {
  std::vector<int64_t> result;
  for (const auto& e : events)
    result.push_back(e.global_position);
  return result;
}

/// Returns first, first + 1, ..., last.
std::vector<int64_t> range(int64_t first, int64_t last) {
  std::vector<int64_t> result;
  for (auto i = first; i <= last; ++i)
    result.push_back(i);
  return result;
}

bool near_now(time_point t) {
  auto diff = std::chrono::system_clock::now() - t;
  return diff < std::chrono::seconds{30} && diff > -std::chrono::seconds{30};
}

snapshot snap(std::string stream_id, int64_t version,
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
const std::vector<std::string>& awkward_names() {
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

// -- expected versions --------------------------------------------------------

TEST_P(StoreConformance, NoStreamCreatesNewStream) {
  auto r = append("s", items(2), no_stream());
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(r->version, 2);
  EXPECT_EQ(version_of("s"), 2);
}

TEST_P(StoreConformance, NoStreamConflictsOnExistingStream) {
  append_ok("s", items(1));
  EXPECT_TRUE(fails_with(append("s", items(1), no_stream()), ec::conflict));
}

TEST_P(StoreConformance, ExactZeroCreatesNewStream) {
  auto r = append("s", items(1), exact(0));
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(r->version, 1);
}

TEST_P(StoreConformance, ExactZeroConflictsOnExistingStream) {
  append_ok("s", items(1));
  EXPECT_TRUE(fails_with(append("s", items(1), exact(0)), ec::conflict));
}

TEST_P(StoreConformance, AcceptsMatchingExpectedVersion) {
  append_ok("s", items(2));
  auto r = append("s", items(1), exact(2));
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(r->version, 3);
}

TEST_P(StoreConformance, RejectsStaleExpectedVersion) {
  append_ok("s", items(2));
  EXPECT_TRUE(fails_with(append("s", items(1), exact(1)), ec::conflict));
}

TEST_P(StoreConformance, RejectsExpectedVersionAheadOfStream) {
  append_ok("s", items(2));
  EXPECT_TRUE(fails_with(append("s", items(1), exact(3)), ec::conflict));
}

TEST_P(StoreConformance, ExactNonZeroConflictsOnNewStream) {
  EXPECT_TRUE(fails_with(append("s", items(1), exact(1)), ec::conflict));
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, AnyCreatesNewStream) {
  auto r = append("s", items(2), any());
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(r->version, 2);
}

TEST_P(StoreConformance, AnyAppendsToExistingStream) {
  append_ok("s", items(2));
  auto r = append("s", items(1), any());
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(r->version, 3);
}

TEST_P(StoreConformance, StreamExistsConflictsOnNewStream) {
  EXPECT_TRUE(fails_with(append("s", items(1), stream_exists()), ec::conflict));
  EXPECT_EQ(version_of("s"), 0);
  EXPECT_EQ(head(), 0);
}

TEST_P(StoreConformance, StreamExistsAppendsToExistingStream) {
  append_ok("s", items(1));
  auto r = append("s", items(1), stream_exists());
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(r->version, 2);
}

TEST_P(StoreConformance, ConflictWritesNothing) {
  append_ok("s", items(2));
  auto rejected = items(3);
  ASSERT_TRUE(fails_with(append("s", rejected, exact(1)), ec::conflict));
  EXPECT_EQ(version_of("s"), 2);
  EXPECT_EQ(head(), 2);
  EXPECT_EQ(versions_of(read("s")), range(1, 2));
  // The rejected ids were not stored: they append as new events.
  auto r = append("s", rejected, exact(2));
  ASSERT_TRUE(is_ok(r));
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->version, 5);
}

TEST_P(StoreConformance, ConflictLeavesNoGapInPositions) {
  append_ok("s", items(1));
  ASSERT_TRUE(fails_with(append("s", items(2), exact(0)), ec::conflict));
  auto r = append_ok("t", items(1));
  EXPECT_EQ(r.first_position, 2);
  EXPECT_EQ(feed_positions(), range(1, 2));
}

TEST_P(StoreConformance, VersionsAreExactlyOneToN) {
  append_ok("s", items(2), no_stream());
  append_ok("s", items(1), exact(2));
  append_ok("s", items(3), any());
  EXPECT_EQ(versions_of(read("s")), range(1, 6));
  EXPECT_EQ(version_of("s"), 6);
}

TEST_P(StoreConformance, StreamsHaveIndependentVersions) {
  append_ok("s", items(2));
  append_ok("t", items(1));
  append_ok("s", items(1));
  EXPECT_EQ(versions_of(read("s")), range(1, 3));
  EXPECT_EQ(versions_of(read("t")), range(1, 1));
}

TEST_P(StoreConformance, PositionsOfOneAppendAreConsecutive) {
  append_ok("other", items(2));
  auto r = append_ok("s", items(3));
  append_ok("other", items(1));
  auto events = read("s");
  EXPECT_EQ(positions_of(events), range(3, 5));
  EXPECT_EQ(r.first_position, 3);
  EXPECT_EQ(r.last_position, 5);
}

TEST_P(StoreConformance, GlobalPositionsAreExactlyOneToN) {
  append_ok("a", items(2));
  append_ok("b", items(3));
  append_ok("a", items(1));
  EXPECT_EQ(feed_positions(), range(1, 6));
  EXPECT_EQ(head(), 6);
}

TEST_P(StoreConformance, AppendResultDescribesTheAppend) {
  append_ok("other", items(2));
  auto r = append("s", items(3), no_stream());
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(r->first_position, 3);
  EXPECT_EQ(r->last_position, 5);
  EXPECT_FALSE(r->duplicate);
  EXPECT_TRUE(near_now(r->recorded_at));
  auto next = append("s", items(1), exact(3));
  ASSERT_TRUE(is_ok(next));
  EXPECT_EQ(next->version, 4);
  EXPECT_EQ(next->first_position, 6);
  EXPECT_EQ(next->last_position, 6);
  EXPECT_FALSE(next->duplicate);
}

TEST_P(StoreConformance, EventsCarryTheRecordedAtOfTheirAppend) {
  auto r = append_ok("s", items(2));
  auto events = read("s");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].recorded_at, r.recorded_at);
  EXPECT_EQ(events[1].recorded_at, r.recorded_at);
}

TEST_P(StoreConformance, ConcurrentAppendsKeepVersionsAndPositionsGapless) {
  constexpr int per_thread = 25;
  auto writer = [this] {
    for (int i = 0; i < per_thread; ++i)
      EXPECT_TRUE(is_ok(store_->append("shared", "cart", any(), {item()})));
  };
  std::thread first{writer};
  std::thread second{writer};
  first.join();
  second.join();
  EXPECT_EQ(versions_of(read("shared")), range(1, 2 * per_thread));
  EXPECT_EQ(feed_positions(), range(1, 2 * per_thread));
}

// -- idempotency --------------------------------------------------------------

TEST_P(StoreConformance, ExactRetryReturnsOriginalResultAsDuplicate) {
  auto events = items(2);
  auto first = append_ok("s", events, no_stream());
  // no_stream no longer matches; an exact retry is not checked again.
  auto retry = append("s", events, no_stream());
  ASSERT_TRUE(is_ok(retry));
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->version, first.version);
  EXPECT_EQ(retry->first_position, first.first_position);
  EXPECT_EQ(retry->last_position, first.last_position);
  EXPECT_EQ(version_of("s"), 2);
  EXPECT_EQ(head(), 2);
  EXPECT_EQ(read("s").size(), 2u);
}

TEST_P(StoreConformance, ExactRetryReturnsOriginalRecordedAt) {
  auto events = items(1);
  auto first = append_ok("s", events);
  auto retry = append("s", events);
  ASSERT_TRUE(is_ok(retry));
  EXPECT_EQ(retry->recorded_at, first.recorded_at);
}

TEST_P(StoreConformance, ExactRetryIsDuplicateAfterLaterAppends) {
  auto events = items(2);
  append_ok("s", events, no_stream());
  append_ok("s", items(1), exact(2));
  append_ok("other", items(1));
  auto retry = append("s", events, exact(0));
  ASSERT_TRUE(is_ok(retry));
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->version, 2);
  EXPECT_EQ(retry->first_position, 1);
  EXPECT_EQ(retry->last_position, 2);
  EXPECT_EQ(version_of("s"), 3);
  EXPECT_EQ(head(), 4);
}

TEST_P(StoreConformance, ExactRetryWithAnyOrStreamExistsIsDuplicate) {
  auto events = items(1);
  append_ok("s", events, no_stream());
  auto with_any = append("s", events, any());
  ASSERT_TRUE(is_ok(with_any));
  EXPECT_TRUE(with_any->duplicate);
  auto with_exists = append("s", events, stream_exists());
  ASSERT_TRUE(is_ok(with_exists));
  EXPECT_TRUE(with_exists->duplicate);
  EXPECT_EQ(head(), 1);
}

TEST_P(StoreConformance, RetryOfConsecutiveStoredEventsIsDuplicate) {
  // The header's rule: all stored, same stream, same order, consecutive
  // versions. A tail of an earlier append qualifies.
  auto events = items(3);
  append_ok("s", events, no_stream());
  auto retry = append("s", {events[1], events[2]}, no_stream());
  ASSERT_TRUE(is_ok(retry));
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->version, 3);
  EXPECT_EQ(retry->first_position, 2);
  EXPECT_EQ(retry->last_position, 3);
  EXPECT_EQ(head(), 3);
}

TEST_P(StoreConformance, PartialRetryConflictsAndWritesNothing) {
  auto stored = items(2);
  append_ok("s", stored, no_stream());
  auto fresh = item("fresh");
  auto r = append("s", {stored[1], fresh}, exact(2));
  EXPECT_TRUE(fails_with(r, ec::conflict));
  EXPECT_EQ(version_of("s"), 2);
  EXPECT_EQ(head(), 2);
  // The new id of the failed append was not stored.
  auto later = append("s", {fresh}, exact(2));
  ASSERT_TRUE(is_ok(later));
  EXPECT_FALSE(later->duplicate);
  EXPECT_EQ(later->version, 3);
}

TEST_P(StoreConformance, RetryWithAnExtraEventConflicts) {
  auto stored = items(2);
  append_ok("s", stored, no_stream());
  auto grown = stored;
  grown.push_back(item("extra"));
  EXPECT_TRUE(fails_with(append("s", grown, any()), ec::conflict));
  EXPECT_EQ(head(), 2);
}

TEST_P(StoreConformance, RetryInAnotherOrderConflicts) {
  auto stored = items(2);
  append_ok("s", stored, no_stream());
  EXPECT_TRUE(
    fails_with(append("s", {stored[1], stored[0]}, any()), ec::conflict));
  EXPECT_EQ(head(), 2);
}

TEST_P(StoreConformance, RetryOfNonConsecutiveEventsConflicts) {
  auto stored = items(3);
  append_ok("s", stored, no_stream());
  EXPECT_TRUE(
    fails_with(append("s", {stored[0], stored[2]}, any()), ec::conflict));
  EXPECT_EQ(head(), 3);
}

TEST_P(StoreConformance, EventIdReusedInAnotherStreamConflicts) {
  auto events = items(1);
  append_ok("s", events);
  EXPECT_TRUE(fails_with(append("t", events, any()), ec::conflict));
  EXPECT_EQ(version_of("t"), 0);
  EXPECT_EQ(head(), 1);
  EXPECT_TRUE(read("t").empty());
}

TEST_P(StoreConformance, EventIdReusedWithNewPayloadElsewhereConflicts) {
  auto original = item("original");
  append_ok("s", {original});
  auto copy = item("different");
  copy.event_id = original.event_id;
  EXPECT_TRUE(fails_with(append("t", {copy}), ec::conflict));
  EXPECT_EQ(head(), 1);
}

TEST_P(StoreConformance, DuplicateIdsInOneRequestAreInvalid) {
  auto e = item();
  expect_invalid_append("s", "cart", {e, e});
  EXPECT_EQ(version_of("s"), 0);
}

// -- append_batch -------------------------------------------------------------

append_request request(std::string stream, std::vector<new_event> events,
                       expected_version expected = any(),
                       std::string type = "cart") {
  append_request req;
  req.stream_id = std::move(stream);
  req.stream_type = std::move(type);
  req.expected = expected;
  req.events = std::move(events);
  return req;
}

TEST_P(StoreConformance, BatchReturnsOneResultPerRequestInOrder) {
  auto results = store_->append_batch({request("a", items(2), no_stream()),
                                       request("b", items(1), no_stream()),
                                       request("c", items(3), no_stream())});
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results)
    ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(results[0]->version, 2);
  EXPECT_EQ(results[0]->first_position, 1);
  EXPECT_EQ(results[0]->last_position, 2);
  EXPECT_EQ(results[1]->version, 1);
  EXPECT_EQ(results[1]->first_position, 3);
  EXPECT_EQ(results[1]->last_position, 3);
  EXPECT_EQ(results[2]->version, 3);
  EXPECT_EQ(results[2]->first_position, 4);
  EXPECT_EQ(results[2]->last_position, 6);
  EXPECT_EQ(positions_of(read("c")), range(4, 6));
  EXPECT_EQ(head(), 6);
}

TEST_P(StoreConformance, EmptyBatchReturnsNoResults) {
  EXPECT_TRUE(store_->append_batch({}).empty());
  EXPECT_EQ(head(), 0);
}

TEST_P(StoreConformance, ConflictingRequestInBatchFailsAlone) {
  append_ok("s", items(1));
  auto results = store_->append_batch({request("a", items(1), no_stream()),
                                       request("s", items(2), exact(5)),
                                       request("b", items(1), no_stream())});
  ASSERT_EQ(results.size(), 3u);
  ASSERT_TRUE(is_ok(results[0]));
  EXPECT_TRUE(fails_with(results[1], ec::conflict));
  ASSERT_TRUE(is_ok(results[2]));
  EXPECT_EQ(results[0]->first_position, 2);
  EXPECT_EQ(results[2]->first_position, 3);
  EXPECT_EQ(version_of("s"), 1);
  EXPECT_EQ(version_of("a"), 1);
  EXPECT_EQ(version_of("b"), 1);
  EXPECT_EQ(feed_positions(), range(1, 3));
}

TEST_P(StoreConformance, InvalidRequestInBatchFailsAlone) {
  auto results
    = store_->append_batch({request("a", items(1)), request("", items(1)),
                            request("b", {with_payload(json::array())}),
                            request("c", items(2))});
  ASSERT_EQ(results.size(), 4u);
  ASSERT_TRUE(is_ok(results[0]));
  EXPECT_TRUE(fails_with(results[1], ec::invalid_argument));
  EXPECT_TRUE(fails_with(results[2], ec::invalid_argument));
  ASSERT_TRUE(is_ok(results[3]));
  EXPECT_EQ(results[3]->first_position, 2);
  EXPECT_EQ(results[3]->last_position, 3);
  EXPECT_EQ(version_of("b"), 0);
  EXPECT_EQ(feed_positions(), range(1, 3));
}

TEST_P(StoreConformance, BatchRequestsForOneStreamSeeEachOther) {
  auto results = store_->append_batch(
    {request("s", items(1), no_stream()), request("s", items(2), exact(1))});
  ASSERT_EQ(results.size(), 2u);
  ASSERT_TRUE(is_ok(results[0]));
  ASSERT_TRUE(is_ok(results[1]));
  EXPECT_EQ(results[0]->version, 1);
  EXPECT_EQ(results[1]->version, 3);
  EXPECT_EQ(results[1]->first_position, 2);
  EXPECT_EQ(versions_of(read("s")), range(1, 3));
}

TEST_P(StoreConformance, SecondNoStreamRequestInBatchConflicts) {
  auto results = store_->append_batch(
    {request("s", items(1), no_stream()), request("s", items(1), no_stream())});
  ASSERT_EQ(results.size(), 2u);
  ASSERT_TRUE(is_ok(results[0]));
  EXPECT_TRUE(fails_with(results[1], ec::conflict));
  EXPECT_EQ(version_of("s"), 1);
  EXPECT_EQ(head(), 1);
}

TEST_P(StoreConformance, RetryWithinBatchIsDuplicate) {
  auto events = items(2);
  auto results = store_->append_batch(
    {request("s", events, no_stream()), request("s", events, no_stream())});
  ASSERT_EQ(results.size(), 2u);
  ASSERT_TRUE(is_ok(results[0]));
  ASSERT_TRUE(is_ok(results[1]));
  EXPECT_FALSE(results[0]->duplicate);
  EXPECT_TRUE(results[1]->duplicate);
  EXPECT_EQ(results[1]->version, results[0]->version);
  EXPECT_EQ(results[1]->first_position, results[0]->first_position);
  EXPECT_EQ(results[1]->last_position, results[0]->last_position);
  EXPECT_EQ(head(), 2);
}

TEST_P(StoreConformance, IdReusedAcrossStreamsInBatchConflicts) {
  auto events = items(1);
  auto results = store_->append_batch(
    {request("s", events), request("t", events), request("u", items(1))});
  ASSERT_EQ(results.size(), 3u);
  ASSERT_TRUE(is_ok(results[0]));
  EXPECT_TRUE(fails_with(results[1], ec::conflict));
  ASSERT_TRUE(is_ok(results[2]));
  EXPECT_EQ(version_of("t"), 0);
  EXPECT_EQ(feed_positions(), range(1, 2));
}

TEST_P(StoreConformance, BatchStoresEventsLikeSingleAppends) {
  auto s_events = items(2);
  auto results = store_->append_batch(
    {request("s", s_events), request("t", {typed("other")}, any(), "order")});
  ASSERT_EQ(results.size(), 2u);
  auto s = read("s");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].event_id, s_events[1].event_id);
  EXPECT_EQ(s[1].payload, s_events[1].payload);
  auto t = read("t");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].stream_type, "order");
  EXPECT_EQ(t[0].event_type, "other");
}

// -- read_stream --------------------------------------------------------------

TEST_P(StoreConformance, ReadsWholeStreamByDefault) {
  auto events = items(3);
  append_ok("s", events);
  auto read_back = read("s");
  ASSERT_EQ(read_back.size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(read_back[i].event_id, events[i].event_id);
}

TEST_P(StoreConformance, ReadsForwardFromVersion) {
  append_ok("s", items(5));
  EXPECT_EQ(versions_of(read("s", 3)), range(3, 5));
}

TEST_P(StoreConformance, ReadsForwardFromVersionZeroAsFromStart) {
  append_ok("s", items(3));
  EXPECT_EQ(versions_of(read("s", 0)), range(1, 3));
}

TEST_P(StoreConformance, ReadsForwardWithMaxCount) {
  append_ok("s", items(5));
  EXPECT_EQ(versions_of(read("s", 2, 2)), range(2, 3));
  EXPECT_EQ(versions_of(read("s", 1, 1)), range(1, 1));
}

TEST_P(StoreConformance, ReadsForwardPastTheEndAsEmpty) {
  append_ok("s", items(3));
  EXPECT_TRUE(read("s", 4).empty());
}

TEST_P(StoreConformance, ReadsLastEventsBackwardFromLatest) {
  append_ok("s", items(5));
  EXPECT_EQ(versions_of(read("s", event_store::latest, 2, direction::backward)),
            (std::vector<int64_t>{5, 4}));
}

TEST_P(StoreConformance, ReadsWholeStreamBackward) {
  append_ok("s", items(3));
  EXPECT_EQ(versions_of(read("s", event_store::latest, unlimited,
                             direction::backward)),
            (std::vector<int64_t>{3, 2, 1}));
}

TEST_P(StoreConformance, ReadsBackwardFromVersion) {
  append_ok("s", items(5));
  EXPECT_EQ(versions_of(read("s", 3, unlimited, direction::backward)),
            (std::vector<int64_t>{3, 2, 1}));
  EXPECT_EQ(versions_of(read("s", 4, 2, direction::backward)),
            (std::vector<int64_t>{4, 3}));
}

TEST_P(StoreConformance, ReadsUnknownStreamAsEmpty) {
  append_ok("s", items(1));
  EXPECT_TRUE(read("unknown").empty());
  EXPECT_TRUE(
    read("unknown", event_store::latest, 10, direction::backward).empty());
}

TEST_P(StoreConformance, ReadsOnlyTheNamedStream) {
  append_ok("s", items(1));
  append_ok("t", items(2));
  append_ok("s", items(1));
  append_ok("s-suffix", items(1));
  auto events = read("s");
  EXPECT_EQ(positions_of(events), (std::vector<int64_t>{1, 4}));
  for (const auto& e : events)
    EXPECT_EQ(e.stream_id, "s");
}

TEST_P(StoreConformance, StreamIdsAreComparedExactly) {
  append_ok("abc", items(1));
  append_ok("ABC", items(2));
  append_ok("abc ", items(3));
  EXPECT_EQ(version_of("abc"), 1);
  EXPECT_EQ(version_of("ABC"), 2);
  EXPECT_EQ(version_of("abc "), 3);
  EXPECT_EQ(version_of("ab"), 0);
}

TEST_P(StoreConformance, StreamVersionOfUnknownStreamIsZero) {
  EXPECT_EQ(version_of("unknown"), 0);
  append_ok("s", items(2));
  EXPECT_EQ(version_of("unknown"), 0);
  EXPECT_EQ(version_of("s"), 2);
}

TEST_P(StoreConformance, EventsCarryAllFields) {
  append_ok("other", items(1), any(), "order");
  new_event e;
  e.event_type = "price_changed";
  e.schema_version = 2;
  e.payload = json::parse(R"({"sku": "a-1",
    "price": {"amount": 1999, "currency": "EUR"}, "tags": ["x", "y"]})");
  e.metadata
    = json::parse(R"({"correlation_id": "c-1", "causation_id": "k-9"})");
  auto r = append_ok("s", {item(), e}, no_stream(), "cart");
  auto events = read("s");
  ASSERT_EQ(events.size(), 2u);
  const auto& got = events[1];
  EXPECT_EQ(got.global_position, 3);
  EXPECT_EQ(got.event_id, e.event_id);
  EXPECT_EQ(got.stream_id, "s");
  EXPECT_EQ(got.stream_type, "cart");
  EXPECT_EQ(got.version, 2);
  EXPECT_EQ(got.event_type, "price_changed");
  EXPECT_EQ(got.schema_version, 2);
  EXPECT_EQ(got.payload, e.payload);
  EXPECT_EQ(got.metadata, e.metadata);
  EXPECT_TRUE(near_now(got.recorded_at));
  EXPECT_EQ(r.last_position, 3);
}

TEST_P(StoreConformance, PayloadValuesRoundTripExactly) {
  auto payload = json::parse(R"({
    "big": 9223372036854775807, "negative": -42, "half": 2.5,
    "yes": true, "no": false, "nothing": null, "empty": "",
    "nested": {"list": [1, [2, 3], {"k": "v"}], "obj": {}, "arr": []},
    "text": "line\nbreak \"quote\" back\\slash tab\t ünï 🙂"})");
  append_ok("s", {with_payload(payload)});
  auto events = read("s");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, payload);
}

TEST_P(StoreConformance, EmptyPayloadAndMetadataRoundTrip) {
  append_ok("s", {with_payload(json::object())});
  auto events = read("s");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, json::object());
  EXPECT_EQ(events[0].metadata, json::object());
}

// -- read_all -----------------------------------------------------------------

TEST_P(StoreConformance, ReadAllOfEmptyStoreIsAtHead) {
  auto p = page(0, 10);
  EXPECT_TRUE(p.events.empty());
  EXPECT_TRUE(p.at_head);
  EXPECT_EQ(p.next_after, 0);
}

TEST_P(StoreConformance, ReadAllPagesUntilAtHead) {
  append_ok("a", items(3));
  append_ok("b", items(2));
  append_ok("a", items(2));
  auto first = page(0, 3);
  EXPECT_EQ(positions_of(first.events), range(1, 3));
  EXPECT_EQ(first.next_after, 3);
  EXPECT_FALSE(first.at_head);
  auto second = page(first.next_after, 3);
  EXPECT_EQ(positions_of(second.events), range(4, 6));
  EXPECT_EQ(second.next_after, 6);
  EXPECT_FALSE(second.at_head);
  auto third = page(second.next_after, 3);
  EXPECT_EQ(positions_of(third.events), range(7, 7));
  EXPECT_EQ(third.next_after, 7);
  EXPECT_TRUE(third.at_head);
}

TEST_P(StoreConformance, PageThatReachesHeadIsAtHead) {
  append_ok("a", items(4));
  auto p = page(2, 2);
  EXPECT_EQ(positions_of(p.events), range(3, 4));
  EXPECT_EQ(p.next_after, 4);
  EXPECT_TRUE(p.at_head);
}

TEST_P(StoreConformance, ReadAllAtHeadIsEmpty) {
  append_ok("a", items(3));
  auto p = page(3, 10);
  EXPECT_TRUE(p.events.empty());
  EXPECT_TRUE(p.at_head);
  EXPECT_EQ(p.next_after, 3);
}

TEST_P(StoreConformance, ReadAllBeyondHeadIsEmpty) {
  append_ok("a", items(3));
  auto p = page(100, 10);
  EXPECT_TRUE(p.events.empty());
  EXPECT_TRUE(p.at_head);
}

TEST_P(StoreConformance, ReadAllEventsMatchReadStream) {
  append_ok("a", items(2), any(), "cart");
  append_ok("b", {typed("order_placed", {{"n", 1}})}, any(), "order");
  auto feed = page(0, 10).events;
  ASSERT_EQ(feed.size(), 3u);
  auto b = read("b");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(feed[2].global_position, b[0].global_position);
  EXPECT_EQ(feed[2].event_id, b[0].event_id);
  EXPECT_EQ(feed[2].stream_id, "b");
  EXPECT_EQ(feed[2].stream_type, "order");
  EXPECT_EQ(feed[2].version, 1);
  EXPECT_EQ(feed[2].event_type, "order_placed");
  EXPECT_EQ(feed[2].schema_version, b[0].schema_version);
  EXPECT_EQ(feed[2].payload, b[0].payload);
  EXPECT_EQ(feed[2].metadata, b[0].metadata);
  EXPECT_EQ(feed[2].recorded_at, b[0].recorded_at);
}

TEST_P(StoreConformance, ReadAllFiltersByStreamType) {
  seed_mixed_feed();
  feed_filter f;
  f.stream_types = {"order"};
  EXPECT_EQ(feed_positions(f), (std::vector<int64_t>{2, 4}));
  f.stream_types = {"order", "invoice"};
  EXPECT_EQ(feed_positions(f), (std::vector<int64_t>{2, 4, 6}));
}

TEST_P(StoreConformance, ReadAllFiltersByEventType) {
  seed_mixed_feed();
  feed_filter f;
  f.event_types = {"item_added"};
  EXPECT_EQ(feed_positions(f), (std::vector<int64_t>{1, 5}));
  f.event_types = {"item_added", "order_shipped"};
  EXPECT_EQ(feed_positions(f), (std::vector<int64_t>{1, 4, 5}));
}

TEST_P(StoreConformance, ReadAllFiltersByStreamAndEventType) {
  seed_mixed_feed();
  feed_filter f;
  f.stream_types = {"cart"};
  f.event_types = {"checked_out", "order_placed"};
  EXPECT_EQ(feed_positions(f), (std::vector<int64_t>{3}));
}

TEST_P(StoreConformance, ReadAllFilterMatchingNothingReachesHead) {
  seed_mixed_feed();
  feed_filter f;
  f.event_types = {"no_such_type"};
  EXPECT_TRUE(feed_positions(f, 2).empty());
  auto p = page(0, 10, f);
  EXPECT_TRUE(p.events.empty());
  EXPECT_TRUE(p.at_head);
}

TEST_P(StoreConformance, FilteredPagesLoseNothing) {
  // o c c o c c c o c c: the order events are at positions 1, 4 and 8.
  const char* pattern = "occocccocc";
  for (int i = 0; pattern[i] != '\0'; ++i) {
    if (pattern[i] == 'o')
      append_ok("o" + std::to_string(i), {typed("placed")}, any(), "order");
    else
      append_ok("c" + std::to_string(i), items(1), any(), "cart");
  }
  feed_filter f;
  f.stream_types = {"order"};
  auto first = page(0, 2, f);
  EXPECT_EQ(positions_of(first.events), (std::vector<int64_t>{1, 4}));
  EXPECT_GE(first.next_after, 4);
  EXPECT_LT(first.next_after, 8);
  EXPECT_FALSE(first.at_head);
  auto second = page(first.next_after, 2, f);
  EXPECT_EQ(positions_of(second.events), (std::vector<int64_t>{8}));
  EXPECT_EQ(feed_positions(f, 1), (std::vector<int64_t>{1, 4, 8}));
  EXPECT_EQ(feed_positions(f, 2), (std::vector<int64_t>{1, 4, 8}));
}

TEST_P(StoreConformance, FilteredPageNextAfterMayPassLastReturnedEvent) {
  const char* pattern = "occocccocc";
  for (int i = 0; pattern[i] != '\0'; ++i) {
    if (pattern[i] == 'o')
      append_ok("o" + std::to_string(i), {typed("placed")}, any(), "order");
    else
      append_ok("c" + std::to_string(i), items(1), any(), "cart");
  }
  feed_filter f;
  f.stream_types = {"order"};
  auto p = page(0, 10, f);
  EXPECT_EQ(positions_of(p.events), (std::vector<int64_t>{1, 4, 8}));
  EXPECT_TRUE(p.at_head);
  EXPECT_GE(p.next_after, 8);
  EXPECT_LE(p.next_after, 10);
  auto rest = page(p.next_after, 10, f);
  EXPECT_TRUE(rest.events.empty());
  EXPECT_TRUE(rest.at_head);
}

TEST_P(StoreConformance, ReadAllRejectsZeroLimit) {
  EXPECT_TRUE(fails_with(store_->read_all(0, 0), ec::invalid_argument));
}

TEST_P(StoreConformance, ReadAllRejectsLimitAboveTenThousand) {
  EXPECT_TRUE(fails_with(store_->read_all(0, 10'001), ec::invalid_argument));
  EXPECT_TRUE(fails_with(store_->read_all(0, unlimited), ec::invalid_argument));
  EXPECT_TRUE(is_ok(store_->read_all(0, 10'000)));
  EXPECT_TRUE(is_ok(store_->read_all(0, 1)));
}

TEST_P(StoreConformance, ReadAllRejectsNegativeAfterPosition) {
  EXPECT_TRUE(fails_with(store_->read_all(-1, 10), ec::invalid_argument));
}

TEST_P(StoreConformance, HeadPositionOfEmptyStoreIsZero) {
  EXPECT_EQ(head(), 0);
}

TEST_P(StoreConformance, HeadPositionIsLastPosition) {
  append_ok("a", items(2));
  EXPECT_EQ(head(), 2);
  append_ok("b", items(3));
  EXPECT_EQ(head(), 5);
}

// -- snapshots ----------------------------------------------------------------

TEST_P(StoreConformance, SnapshotRoundTrips) {
  auto state
    = json::parse(R"({"items": {"a": 2}, "total": 1999, "open": true})");
  EXPECT_TRUE(save(snap("s", 5, 2, state)));
  auto loaded = load("s");
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->stream_id, "s");
  EXPECT_EQ(loaded->stream_type, "cart");
  EXPECT_EQ(loaded->version, 5);
  EXPECT_EQ(loaded->schema_version, 2);
  EXPECT_EQ(loaded->state, state);
}

TEST_P(StoreConformance, LoadSnapshotOfUnknownStreamIsEmpty) {
  EXPECT_TRUE(save(snap("s", 1)));
  auto loaded = store_->load_snapshot("unknown");
  ASSERT_TRUE(is_ok(loaded));
  EXPECT_FALSE(loaded->has_value());
}

TEST_P(StoreConformance, OlderSnapshotDoesNotReplaceNewer) {
  EXPECT_TRUE(save(snap("s", 5, 1, {{"v", "new"}})));
  EXPECT_FALSE(save(snap("s", 3, 1, {{"v", "old"}})));
  auto loaded = load("s");
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->version, 5);
  EXPECT_EQ(loaded->state, json({{"v", "new"}}));
}

TEST_P(StoreConformance, SnapshotAtSameVersionDoesNotReplace) {
  EXPECT_TRUE(save(snap("s", 5, 1, {{"v", "first"}})));
  EXPECT_FALSE(save(snap("s", 5, 1, {{"v", "second"}})));
  auto loaded = load("s");
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->state, json({{"v", "first"}}));
}

TEST_P(StoreConformance, NewerSnapshotReplacesOlder) {
  EXPECT_TRUE(save(snap("s", 3, 1, {{"v", "old"}})));
  EXPECT_TRUE(save(snap("s", 7, 2, {{"v", "new"}})));
  auto loaded = load("s");
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->version, 7);
  EXPECT_EQ(loaded->schema_version, 2);
  EXPECT_EQ(loaded->state, json({{"v", "new"}}));
}

TEST_P(StoreConformance, SnapshotsAreKeptPerStream) {
  EXPECT_TRUE(save(snap("s", 3)));
  EXPECT_TRUE(save(snap("t", 1)));
  ASSERT_TRUE(load("s").has_value());
  EXPECT_EQ(load("s")->version, 3);
  ASSERT_TRUE(load("t").has_value());
  EXPECT_EQ(load("t")->version, 1);
}

TEST_P(StoreConformance, DeleteSnapshotRemovesIt) {
  EXPECT_TRUE(save(snap("s", 3)));
  EXPECT_TRUE(save(snap("t", 3)));
  auto deleted = store_->delete_snapshot("s");
  ASSERT_TRUE(is_ok(deleted));
  EXPECT_EQ(*deleted, 1u);
  EXPECT_FALSE(load("s").has_value());
  EXPECT_TRUE(load("t").has_value());
  auto again = store_->delete_snapshot("s");
  ASSERT_TRUE(is_ok(again));
  EXPECT_EQ(*again, 0u);
}

TEST_P(StoreConformance, DeleteSnapshotsOfTypeDeletesAllOfThatType) {
  EXPECT_TRUE(save(snap("c1", 1, 1, {}, "cart")));
  EXPECT_TRUE(save(snap("c2", 1, 5, {}, "cart")));
  EXPECT_TRUE(save(snap("o1", 1, 1, {}, "order")));
  auto deleted = store_->delete_snapshots("cart");
  ASSERT_TRUE(is_ok(deleted));
  EXPECT_EQ(*deleted, 2u);
  EXPECT_FALSE(load("c1").has_value());
  EXPECT_FALSE(load("c2").has_value());
  EXPECT_TRUE(load("o1").has_value());
}

TEST_P(StoreConformance, DeleteSnapshotsBelowSchemaVersionKeepsNewerOnes) {
  EXPECT_TRUE(save(snap("c1", 1, 1, {}, "cart")));
  EXPECT_TRUE(save(snap("c2", 1, 2, {}, "cart")));
  EXPECT_TRUE(save(snap("c3", 1, 3, {}, "cart")));
  EXPECT_TRUE(save(snap("o1", 1, 1, {}, "order")));
  auto deleted = store_->delete_snapshots("cart", 3);
  ASSERT_TRUE(is_ok(deleted));
  EXPECT_EQ(*deleted, 2u);
  EXPECT_FALSE(load("c1").has_value());
  EXPECT_FALSE(load("c2").has_value());
  EXPECT_TRUE(load("c3").has_value());
  EXPECT_TRUE(load("o1").has_value());
}

TEST_P(StoreConformance, DeletedSnapshotCanBeSavedAgainAtLowerVersion) {
  EXPECT_TRUE(save(snap("s", 9)));
  ASSERT_TRUE(is_ok(store_->delete_snapshot("s")));
  EXPECT_TRUE(save(snap("s", 2)));
  ASSERT_TRUE(load("s").has_value());
  EXPECT_EQ(load("s")->version, 2);
}

TEST_P(StoreConformance, RejectsSnapshotAtVersionZero) {
  EXPECT_TRUE(
    fails_with(store_->save_snapshot(snap("s", 0)), ec::invalid_argument));
  EXPECT_TRUE(
    fails_with(store_->save_snapshot(snap("s", -1)), ec::invalid_argument));
  EXPECT_FALSE(load("s").has_value());
}

TEST_P(StoreConformance, RejectsSnapshotWithEmptyStreamId) {
  EXPECT_TRUE(
    fails_with(store_->save_snapshot(snap("", 1)), ec::invalid_argument));
}

// -- checkpoints --------------------------------------------------------------

TEST_P(StoreConformance, UnknownCheckpointIsZero) {
  auto r = store_->checkpoint("never-set");
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(*r, 0);
}

TEST_P(StoreConformance, CheckpointReadsBackWhatWasSet) {
  ASSERT_TRUE(is_ok(store_->checkpoint("projection-a", 42)));
  auto r = store_->checkpoint("projection-a");
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(*r, 42);
}

TEST_P(StoreConformance, CheckpointOverwritesWithLowerValue) {
  ASSERT_TRUE(is_ok(store_->checkpoint("p", 42)));
  ASSERT_TRUE(is_ok(store_->checkpoint("p", 7)));
  auto r = store_->checkpoint("p");
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(*r, 7);
}

TEST_P(StoreConformance, CheckpointsAreKeptPerName) {
  ASSERT_TRUE(is_ok(store_->checkpoint("p", 1)));
  ASSERT_TRUE(is_ok(store_->checkpoint("q", 2)));
  EXPECT_EQ(*store_->checkpoint("p"), 1);
  EXPECT_EQ(*store_->checkpoint("q"), 2);
}

TEST_P(StoreConformance, RejectsCheckpointWithEmptyName) {
  EXPECT_TRUE(fails_with(store_->checkpoint("", 1), ec::invalid_argument));
}

TEST_P(StoreConformance, RejectsNegativeCheckpointPosition) {
  EXPECT_TRUE(fails_with(store_->checkpoint("p", -1), ec::invalid_argument));
  auto r = store_->checkpoint("p");
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(*r, 0);
}

// -- awkward names and text ---------------------------------------------------

TEST_P(StoreConformance, AwkwardStreamIdsRoundTripVerbatim) {
  const auto& names = awkward_names();
  for (const auto& name : names)
    append_ok(name, {item(name)}, no_stream());
  for (const auto& name : names) {
    SCOPED_TRACE("stream id: " + name);
    EXPECT_EQ(version_of(name), 1);
    auto events = read(name);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].stream_id, name);
    EXPECT_EQ(events[0].payload["sku"], name);
  }
  auto feed = page(0, 100).events;
  ASSERT_EQ(feed.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i)
    EXPECT_EQ(feed[i].stream_id, names[i]);
}

TEST_P(StoreConformance, AwkwardTypesRoundTripAndFilterVerbatim) {
  const auto& names = awkward_names();
  for (size_t i = 0; i < names.size(); ++i)
    append_ok("s" + std::to_string(i), {typed(names[i], {{"text", names[i]}})},
              no_stream(), names[i]);
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE("type: " + names[i]);
    auto events = read("s" + std::to_string(i));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].stream_type, names[i]);
    EXPECT_EQ(events[0].event_type, names[i]);
    EXPECT_EQ(events[0].payload["text"], names[i]);
    auto position = static_cast<int64_t>(i + 1);
    feed_filter by_stream_type;
    by_stream_type.stream_types = {names[i]};
    EXPECT_EQ(feed_positions(by_stream_type), (std::vector<int64_t>{position}));
    feed_filter by_event_type;
    by_event_type.event_types = {names[i]};
    EXPECT_EQ(feed_positions(by_event_type), (std::vector<int64_t>{position}));
  }
}

TEST_P(StoreConformance, FilterListIsNotParsedAsOneName) {
  append_ok("s1", items(1), any(), "a");
  append_ok("s2", items(1), any(), "b");
  append_ok("s3", items(1), any(), "{a,b}");
  append_ok("s4", items(1), any(), "a,b");
  feed_filter f;
  f.stream_types = {"a", "b"};
  EXPECT_EQ(feed_positions(f), (std::vector<int64_t>{1, 2}));
  f.stream_types = {"a,b"};
  EXPECT_EQ(feed_positions(f), (std::vector<int64_t>{4}));
}

TEST_P(StoreConformance, AwkwardTextInMetadataRoundTrips) {
  json metadata;
  for (size_t i = 0; i < awkward_names().size(); ++i)
    metadata[awkward_names()[i]] = awkward_names()[i];
  append_ok("s", {make_event(item_added{"x", 1}, metadata)});
  auto events = read("s");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].metadata, metadata);
}

TEST_P(StoreConformance, AwkwardNamesInSnapshotsAndCheckpoints) {
  const auto& names = awkward_names();
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE("name: " + names[i]);
    auto version = static_cast<int64_t>(i + 1);
    EXPECT_TRUE(save(snap(names[i], version, 1, {{"name", names[i]}},
                          names[i])));
    ASSERT_TRUE(is_ok(store_->checkpoint(names[i], version)));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE("name: " + names[i]);
    auto loaded = load(names[i]);
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->stream_id, names[i]);
    EXPECT_EQ(loaded->stream_type, names[i]);
    EXPECT_EQ(loaded->version, static_cast<int64_t>(i + 1));
    EXPECT_EQ(loaded->state, json({{"name", names[i]}}));
    auto cp = store_->checkpoint(names[i]);
    ASSERT_TRUE(is_ok(cp));
    EXPECT_EQ(*cp, static_cast<int64_t>(i + 1));
  }
  auto deleted = store_->delete_snapshots("{a,b}");
  ASSERT_TRUE(is_ok(deleted));
  EXPECT_EQ(*deleted, 1u);
  EXPECT_TRUE(load("a").has_value());
}

// -- bad input ----------------------------------------------------------------

TEST_P(StoreConformance, RejectsEmptyStreamId) {
  expect_invalid_append("", "cart", items(1));
}

TEST_P(StoreConformance, RejectsEmptyStreamType) {
  expect_invalid_append("s", "", items(1));
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsEmptyEventList) {
  append_ok("s", items(1));
  expect_invalid_append("s", "cart", {});
  EXPECT_EQ(version_of("s"), 1);
}

TEST_P(StoreConformance, RejectsEmptyEventType) {
  expect_invalid_append("s", "cart", {item(), typed("")});
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsStreamIdLongerThanLimit) {
  auto max = store_->limits().max_name_bytes;
  EXPECT_EQ(max, 256u);
  expect_invalid_append(std::string(max + 1, 'x'), "cart", items(1));
  EXPECT_TRUE(is_ok(append(std::string(max, 'x'), items(1))));
}

TEST_P(StoreConformance, MeasuresNameLimitInBytes) {
  std::string euros;
  for (int i = 0; i < 86; ++i) // 86 characters, 258 bytes
    euros += "€";
  expect_invalid_append(euros, "cart", items(1));
}

TEST_P(StoreConformance, RejectsStreamTypeLongerThanLimit) {
  auto max = store_->limits().max_name_bytes;
  expect_invalid_append("s", std::string(max + 1, 't'), items(1));
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsEventTypeLongerThanLimit) {
  auto max = store_->limits().max_name_bytes;
  expect_invalid_append("s", "cart", {typed(std::string(max + 1, 'e'))});
  EXPECT_TRUE(is_ok(append("s", {typed(std::string(max, 'e'))})));
}

TEST_P(StoreConformance, RejectsTooManyEvents) {
  auto max = store_->limits().max_events_per_append;
  EXPECT_EQ(max, 10'000u);
  expect_invalid_append("s", "cart", items(max + 1));
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, AcceptsMaxEventsPerAppend) {
  auto max = store_->limits().max_events_per_append;
  auto r = append("s", items(max));
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(r->version, static_cast<int64_t>(max));
  EXPECT_EQ(r->last_position, static_cast<int64_t>(max));
}

TEST_P(StoreConformance, RejectsOversizedPayload) {
  std::string blob(2 * 1024 * 1024, 'x');
  expect_invalid_append("s", "cart", {with_payload({{"blob", blob}})});
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsOversizedPayloadPlusMetadata) {
  std::string half(600 * 1024, 'x');
  auto e = with_payload({{"blob", half}});
  e.metadata = {{"blob", half}};
  expect_invalid_append("s", "cart", {e});
}

TEST_P(StoreConformance, AcceptsPayloadJustUnderLimit) {
  auto max = store_->limits().max_event_bytes;
  std::string blob(max - 1024, 'x');
  auto r = append("s", {with_payload({{"blob", blob}})});
  ASSERT_TRUE(is_ok(r));
  auto events = read("s");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload["blob"].get<std::string>().size(), blob.size());
}

TEST_P(StoreConformance, RejectsPayloadThatIsNotAnObject) {
  for (auto payload : {json::array(), json(nullptr), json(42), json("text"),
                       json(true)}) {
    SCOPED_TRACE("payload: " + payload.dump());
    expect_invalid_append("s", "cart", {with_payload(payload)});
  }
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsMetadataThatIsNotAnObject) {
  for (auto metadata : {json::array(), json(nullptr), json(42)}) {
    SCOPED_TRACE("metadata: " + metadata.dump());
    auto e = item();
    e.metadata = metadata;
    expect_invalid_append("s", "cart", {e});
  }
}

TEST_P(StoreConformance, RejectsNilEventId) {
  auto e = item();
  e.event_id = uuid{};
  expect_invalid_append("s", "cart", {item(), e});
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsInvalidUtf8InStreamId) {
  for (std::string id : {"\xff", "bad-\xc3\x28", "cut-\xe2\x82",
                         "over-\xc0\xaf", "surrogate-\xed\xa0\x80"}) {
    SCOPED_TRACE("stream id bytes: " + std::to_string(id.size()));
    expect_invalid_append(id, "cart", items(1));
  }
}

TEST_P(StoreConformance, RejectsInvalidUtf8InTypes) {
  expect_invalid_append("s", "cart-\xff", items(1));
  expect_invalid_append("s", "cart", {typed("type-\xff")});
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsInvalidUtf8InPayload) {
  expect_invalid_append("s", "cart", {with_payload({{"text", "bad-\xff"}})});
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsNulByteInStreamId) {
  expect_invalid_append(std::string{"a\0b", 3}, "cart", items(1));
  EXPECT_EQ(version_of("a"), 0);
}

TEST_P(StoreConformance, RejectsNegativeExactExpectedVersion) {
  expect_invalid_append("s", "cart", items(1), exact(-1));
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsDifferentStreamTypeForExistingStream) {
  append_ok("s", items(1), any(), "cart");
  expect_invalid_append("s", "order", items(1));
  EXPECT_EQ(version_of("s"), 1);
  auto events = read("s");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].stream_type, "cart");
}

TEST_P(StoreConformance, RejectsNegativeFromVersion) {
  append_ok("s", items(1));
  EXPECT_TRUE(fails_with(store_->read_stream("s", -1), ec::invalid_argument));
  EXPECT_TRUE(fails_with(
    store_->read_stream("s", -1, unlimited, direction::backward),
    ec::invalid_argument));
}

std::string store_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreConformance,
                         ::testing::Values("memory", "postgres"), store_name);

} // namespace
} // namespace es::persistence
