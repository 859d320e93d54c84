// Store conformance: retries and duplicate event ids, and append_batch.
// The suite is described in fixture.hpp.
#include "persistence/conformance/fixture.hpp"

namespace es::persistence::conformance {

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

// -- big batches (the PostgreSQL store writes these with COPY) ----------------

namespace {

// One single-event request per stream big-0 .. big-(n-1).
std::vector<append_request> big_batch(int n) {
  std::vector<append_request> out;
  for (int i = 0; i < n; ++i)
    out.push_back(request("big-" + std::to_string(i), items(1), no_stream()));
  return out;
}

} // namespace

TEST_P(StoreConformance, BigBatchStoresEventsLikeSmallOnes) {
  auto batch = big_batch(100);
  json payload = {
    {"control", std::string{"\x01\x1f\b\f\n\r\t end"}},
    {"quotes", "\"quoted\" \\ back\\slash {a,b} 'x' \\N"},
    {"unicode", "ü €  🙂"},
    {"numbers", {0, -1, 9223372036854775807LL, 0.5, -1.25e-8}},
  };
  json metadata = {{"correlation_id", "tab\there"}, {"nested", {{"a", nullptr}}}};
  batch[7].events[0] = typed("awkward", payload);
  batch[7].events[0].metadata = metadata;
  auto results = store_->append_batch(batch);
  ASSERT_EQ(results.size(), 100u);
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(is_ok(results[i])) << i;
    EXPECT_EQ(results[i]->first_position, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(results[i]->version, 1);
  }
  auto awkward = read("big-7");
  ASSERT_EQ(awkward.size(), 1u);
  EXPECT_EQ(awkward[0].payload, payload);
  EXPECT_EQ(awkward[0].metadata, metadata);
  EXPECT_EQ(awkward[0].event_type, "awkward");
  EXPECT_EQ(awkward[0].event_id, batch[7].events[0].event_id);
  EXPECT_EQ(awkward[0].recorded_at, results[7]->recorded_at);
  EXPECT_EQ(feed_positions(), range(1, 100));
}

TEST_P(StoreConformance, BigBatchWithARetryStoresTheRestOnce) {
  // Nothing predicts the retry (an id the batch does not look up first):
  // the write itself finds it.
  auto stored = items(1);
  append_ok("s", stored, no_stream());
  auto batch = big_batch(100);
  batch[10] = request("s", stored, any());
  auto results = store_->append_batch(batch);
  ASSERT_EQ(results.size(), 100u);
  ASSERT_TRUE(is_ok(results[10]));
  EXPECT_TRUE(results[10]->duplicate);
  EXPECT_EQ(results[10]->first_position, 1);
  int64_t next = 2;
  for (size_t i = 0; i < results.size(); ++i) {
    if (i == 10)
      continue;
    ASSERT_TRUE(is_ok(results[i])) << i;
    EXPECT_EQ(results[i]->first_position, next++);
  }
  EXPECT_EQ(version_of("s"), 1);
  EXPECT_EQ(feed_positions(), range(1, 100));
}

TEST_P(StoreConformance, BigBatchWithAConflictFailsItAlone) {
  append_ok("s", items(1), no_stream());
  auto batch = big_batch(100);
  batch[20] = request("s", items(1), exact(0));
  auto results = store_->append_batch(batch);
  ASSERT_EQ(results.size(), 100u);
  EXPECT_TRUE(fails_with(results[20], ec::conflict));
  int64_t next = 2;
  for (size_t i = 0; i < results.size(); ++i) {
    if (i == 20)
      continue;
    ASSERT_TRUE(is_ok(results[i])) << i;
    EXPECT_EQ(results[i]->first_position, next++);
  }
  EXPECT_EQ(version_of("s"), 1);
  EXPECT_EQ(feed_positions(), range(1, 100));
}

} // namespace es::persistence::conformance
