// Store conformance: append_and_record, the journal's append. It must
// answer exactly as append_batch does and hand back the written events, in
// position order, as a reader would see them. And the JSON text the stores
// write (escaped for COPY or for array literals) must read back unchanged.
#include "persistence/conformance/fixture.hpp"

namespace es::persistence::conformance {

namespace {

// The events of result `r` inside `done.events`.
std::vector<recorded_event> events_of(const committed_batch& done,
                                      const append_result& r) {
  auto base = done.events->front().global_position;
  auto first = done.events->begin() + (r.first_position - base);
  return {first, first + (r.last_position - r.first_position + 1)};
}

void expect_same(const recorded_event& a, const recorded_event& b) {
  EXPECT_EQ(a.global_position, b.global_position);
  EXPECT_EQ(a.event_id, b.event_id);
  EXPECT_EQ(a.stream_id, b.stream_id);
  EXPECT_EQ(a.stream_type, b.stream_type);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.event_type, b.event_type);
  EXPECT_EQ(a.schema_version, b.schema_version);
  EXPECT_EQ(a.payload, b.payload);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.recorded_at, b.recorded_at);
}

} // namespace

TEST_P(StoreConformance, RecordReturnsTheWrittenEventsAsReadersSeeThem) {
  auto retried = items(1);
  append_ok("old", retried, no_stream());
  auto first = items(2);
  first[1].metadata = {{"correlation_id", "c-1"}};
  auto done = store_->append_and_record(
    {request("a", first, no_stream()), request("old", items(1), exact(7)),
     request("old", retried, any()), request("b", items(1), no_stream(), "order")});
  ASSERT_EQ(done.results.size(), 4u);
  ASSERT_TRUE(is_ok(done.results[0]));
  EXPECT_TRUE(fails_with(done.results[1], ec::conflict));
  ASSERT_TRUE(is_ok(done.results[2]));
  EXPECT_TRUE(done.results[2]->duplicate);
  ASSERT_TRUE(is_ok(done.results[3]));
  // Only the three written events, in position order.
  ASSERT_TRUE(done.events);
  EXPECT_EQ(positions_of(*done.events), range(2, 4));
  auto a = read("a");
  auto got = events_of(done, *done.results[0]);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(a.size(), 2u);
  for (size_t i = 0; i < 2; ++i)
    expect_same(got[i], a[i]);
  EXPECT_EQ(got[0].event_id, first[0].event_id);
  EXPECT_EQ(got[1].metadata, first[1].metadata);
  auto b = events_of(done, *done.results[3]);
  ASSERT_EQ(b.size(), 1u);
  expect_same(b[0], read("b").at(0));
  EXPECT_EQ(b[0].stream_type, "order");
  EXPECT_EQ(version_of("old"), 1);
}

TEST_P(StoreConformance, RecordFailsInvalidRequestsAlone) {
  auto done = store_->append_and_record(
    {request("", items(1)), request("a", items(2)),
     request("b", {with_payload(json::array())})});
  ASSERT_EQ(done.results.size(), 3u);
  EXPECT_TRUE(fails_with(done.results[0], ec::invalid_argument));
  ASSERT_TRUE(is_ok(done.results[1]));
  EXPECT_TRUE(fails_with(done.results[2], ec::invalid_argument));
  ASSERT_TRUE(done.events);
  EXPECT_EQ(positions_of(*done.events), range(1, 2));
  EXPECT_EQ(version_of("b"), 0);
}

TEST_P(StoreConformance, RecordWithNothingWrittenHasNoEvents) {
  auto done = store_->append_and_record(
    {request("", items(1)), request("s", items(1), exact(3))});
  ASSERT_EQ(done.results.size(), 2u);
  EXPECT_TRUE(fails_with(done.results[0], ec::invalid_argument));
  EXPECT_TRUE(fails_with(done.results[1], ec::conflict));
  ASSERT_TRUE(done.events);
  EXPECT_TRUE(done.events->empty());
  EXPECT_EQ(head(), 0);
  EXPECT_TRUE(store_->append_and_record({}).results.empty());
}

TEST_P(StoreConformance, RecordedEventsStayUnchangedByLaterAppends) {
  auto done = store_->append_and_record({request("s", items(1), no_stream())});
  ASSERT_TRUE(is_ok(done.results.at(0)));
  auto kept = *done.events;
  for (int i = 0; i < 50; ++i)
    append_ok("s", items(2));
  ASSERT_EQ(done.events->size(), 1u);
  expect_same(done.events->front(), kept.front());
  expect_same(read("s").at(0), kept.front());
}

// Strings whose escaped character sits at every offset of an 8-byte word,
// and of the next one, in payload and metadata (keys too).
TEST_P(StoreConformance, EscapesSurviveAtEveryOffsetInBigAndSmallBatches) {
  const std::vector<std::string> specials{"\"", "\\", "\n", "\t", "\x01",
                                          "\x1f", "é", "🙂", "\x7f"};
  std::vector<json> payloads;
  for (const auto& special : specials)
    for (size_t at = 0; at < 17; ++at) {
      auto s = std::string(at, 'a') + special + std::string(9, 'b');
      payloads.push_back({{"s", s}, {s, at}});
    }
  // One batch of all of them (COPY), and each alone (one statement).
  std::vector<append_request> batch;
  for (size_t i = 0; i < payloads.size(); ++i) {
    auto e = with_payload(payloads[i]);
    e.metadata = payloads[i];
    batch.push_back(request("big-" + std::to_string(i), {e}, no_stream()));
  }
  for (const auto& r : store_->append_batch(batch))
    ASSERT_TRUE(is_ok(r));
  for (size_t i = 0; i < payloads.size(); i += 7) {
    auto e = with_payload(payloads[i]);
    e.metadata = payloads[i];
    append_ok("small-" + std::to_string(i), {e});
  }
  for (size_t i = 0; i < payloads.size(); ++i) {
    auto big = read("big-" + std::to_string(i));
    ASSERT_EQ(big.size(), 1u) << i;
    EXPECT_EQ(big[0].payload, payloads[i]) << i;
    EXPECT_EQ(big[0].metadata, payloads[i]) << i;
    if (i % 7 == 0) {
      auto small = read("small-" + std::to_string(i));
      ASSERT_EQ(small.size(), 1u) << i;
      EXPECT_EQ(small[0].payload, payloads[i]) << i;
    }
  }
}

} // namespace es::persistence::conformance
