// Store conformance: snapshots (save, load, replace, delete) and
// checkpoints. The suite is described in fixture.hpp.
#include "persistence/conformance/fixture.hpp"

namespace es::persistence::conformance {

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

} // namespace es::persistence::conformance
