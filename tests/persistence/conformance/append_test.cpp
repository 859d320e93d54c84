// Store conformance: expected versions, append results, gapless versions
// and global positions. The suite is described in fixture.hpp.
#include <thread>

#include "persistence/conformance/fixture.hpp"

namespace es::persistence::conformance {

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

// -- append results, versions and positions ----------------------------------

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

} // namespace es::persistence::conformance
