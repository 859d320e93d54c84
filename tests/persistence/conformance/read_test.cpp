// Store conformance: read_stream, stream_version, read_all (paging,
// filters, limits) and head_position. The suite is described in
// fixture.hpp.
#include "persistence/conformance/fixture.hpp"

namespace es::persistence::conformance {

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

// Long reads (a store may decode them in parallel, or read them in parts
// of, say, 8,192 events) keep every event, in order, with its own fields,
// wherever they start and end.
TEST_P(StoreConformance, ReadsALongStreamWholeAndInOrder) {
  constexpr int64_t n = 20'000;
  auto events = items(static_cast<size_t>(n));
  auto half = events.begin() + n / 2; // at most 10,000 events per append
  append_ok("s", {events.begin(), half});
  append_ok("s", {half, events.end()});
  // Expects `count` events from version `first`, each `step` from the last.
  auto check = [&](const std::vector<recorded_event>& got, int64_t first,
                   int64_t step, int64_t count) {
    ASSERT_EQ(static_cast<int64_t>(got.size()), count);
    for (size_t i = 0; i < got.size(); ++i) {
      auto v = first + step * static_cast<int64_t>(i);
      ASSERT_EQ(got[i].version, v) << "at " << i;
      const auto& want = events[static_cast<size_t>(v - 1)];
      ASSERT_EQ(got[i].event_id, want.event_id) << "at " << i;
      ASSERT_EQ(got[i].payload, want.payload) << "at " << i;
      ASSERT_EQ(got[i].global_position, v) << "at " << i;
    }
  };
  auto backward = direction::backward;
  check(read("s"), 1, 1, n);
  check(read("s", event_store::latest, unlimited, backward), n, -1, n);
  check(read("s", 300, 17'000), 300, 1, 17'000);
  check(read("s", 1, 8192), 1, 1, 8192);
  check(read("s", 1, 8193), 1, 1, 8193);
  check(read("s", n - 8191), n - 8191, 1, 8192); // a full last page
  check(read("s", 15'000, 9000, backward), 15'000, -1, 9000);
  check(read("s", 8193, unlimited, backward), 8193, -1, 8193);
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

// -- head_position ------------------------------------------------------------

TEST_P(StoreConformance, HeadPositionOfEmptyStoreIsZero) {
  EXPECT_EQ(head(), 0);
}

TEST_P(StoreConformance, HeadPositionIsLastPosition) {
  append_ok("a", items(2));
  EXPECT_EQ(head(), 2);
  append_ok("b", items(3));
  EXPECT_EQ(head(), 5);
}

} // namespace es::persistence::conformance
