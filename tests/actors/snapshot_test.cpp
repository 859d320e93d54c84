// Snapshots: saved when the policy is due, used by recovery together with
// the newer events, ignored when written for another state schema or
// unreadable; and snapshot + replay gives the same state as a full replay.
#include <gtest/gtest.h>

#include <caf/scheduler/test_coordinator.hpp>

#include "account.hpp"
#include "actors/fixture.hpp"
#include "es/runtime.hpp"

using namespace bank;
using es::persistence::json;
using es::test::actor_fixture;
using es::test::fixture_options;

namespace {

using read_log = std::vector<std::pair<std::string, int64_t>>;

fixture_options snapshots(int64_t every) {
  fixture_options opts;
  opts.snapshots = es::snapshot_every(every);
  return opts;
}

// open, then deposits of 10, 20, 30, ...: `n` events in all.
void write_history(actor_fixture& fx, int n) {
  ASSERT_TRUE(fx.execute<account>("acct-1", open_account{"ada"}));
  for (int i = 1; i < n; ++i)
    ASSERT_TRUE(fx.execute<account>("acct-1", deposit{10 * i}));
}

// A snapshot of acct-1 as if an aggregate had saved it.
es::persistence::snapshot fake_snapshot(int64_t version, int32_t schema,
                                        json state) {
  es::persistence::snapshot s;
  s.stream_id = "acct-1";
  s.stream_type = "account";
  s.version = version;
  s.schema_version = schema;
  s.state = std::move(state);
  return s;
}

// The account after a change of its state's JSON shape.
struct account_v2 : account {
  static constexpr int32_t state_schema_version = 2;
};

void save(actor_fixture& fx, const es::persistence::snapshot& s) {
  auto stored = fx.store().inner().save_snapshot(s);
  ASSERT_TRUE(stored) << stored.error().to_string();
}

json bogus_state() {
  return json{{"opened", true}, {"closed", false}, {"owner", "eve"},
              {"balance", 1000}};
}

} // namespace

TEST(Snapshots, AreSavedWhenThePolicyIsDue) {
  actor_fixture fx{snapshots(3)};
  write_history(fx, 2);
  EXPECT_FALSE(*fx.store().inner().load_snapshot("acct-1"));
  ASSERT_TRUE(fx.execute<account>("acct-1", deposit{20})); // version 3
  auto snap = *fx.store().inner().load_snapshot("acct-1");
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->version, 3);
  EXPECT_EQ(snap->schema_version, 1);
  EXPECT_EQ(snap->stream_type, "account");
  EXPECT_EQ(snap->state.at("balance"), 30);
  EXPECT_EQ(snap->state.at("owner"), "ada");
  ASSERT_TRUE(fx.execute<account>("acct-1", deposit{1}));
  ASSERT_TRUE(fx.execute<account>("acct-1", deposit{1}));
  EXPECT_EQ((*fx.store().inner().load_snapshot("acct-1"))->version, 3);
  ASSERT_TRUE(fx.execute<account>("acct-1", deposit{1})); // version 6
  snap = *fx.store().inner().load_snapshot("acct-1");
  EXPECT_EQ(snap->version, 6);
  EXPECT_EQ(snap->state.at("balance"), 33);
}

TEST(Snapshots, RecoveryReadsOnlyTheEventsAfterTheSnapshot) {
  actor_fixture fx{snapshots(3)};
  write_history(fx, 4); // snapshot at 3, balance 10 + 20 + 30 = 60
  fx.passivate<account>("acct-1");
  EXPECT_EQ(fx.instances().live(), 0u);
  fx.store().stream_reads.clear();
  fx.store().snapshot_loads.clear();
  auto view = fx.inspect<account>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->second, 4);
  EXPECT_EQ(view->first.balance, 60);
  EXPECT_EQ(fx.store().snapshot_loads, (std::vector<std::string>{"acct-1"}));
  EXPECT_EQ(fx.store().stream_reads, (read_log{{"acct-1", 4}}));
}

TEST(Snapshots, RecoveryTrustsTheSnapshotAndAppliesNewerEvents) {
  actor_fixture fx{snapshots(100)};
  write_history(fx, 4);
  fx.passivate<account>("acct-1");
  save(fx, fake_snapshot(2, 1, bogus_state()));
  auto view = fx.inspect<account>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->second, 4);
  EXPECT_EQ(view->first.owner, "eve");
  EXPECT_EQ(view->first.balance, 1000 + 20 + 30);
}

TEST(Snapshots, OfAnOlderStateSchemaAreIgnored) {
  actor_fixture fx{snapshots(3)};
  write_history(fx, 4); // a real snapshot at version 3, schema 1
  fx.passivate<account>("acct-1");
  ASSERT_EQ((*fx.store().inner().load_snapshot("acct-1"))->schema_version, 1);
  fx.store().stream_reads.clear();
  // The same stream, now read by a program whose state schema is 2.
  auto view = fx.inspect<account_v2>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->second, 4);
  EXPECT_EQ(view->first.owner, "ada");
  EXPECT_EQ(view->first.balance, 60);
  // It read the events after the snapshot, then the whole stream.
  EXPECT_EQ(fx.store().stream_reads, (read_log{{"acct-1", 4}, {"acct-1", 1}}));
}

TEST(Snapshots, OfANewerStateSchemaAreIgnored) {
  actor_fixture fx{snapshots(100)};
  write_history(fx, 4);
  fx.passivate<account>("acct-1");
  save(fx, fake_snapshot(2, 2, bogus_state()));
  auto view = fx.inspect<account>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->second, 4);
  EXPECT_EQ(view->first.balance, 60);
}

TEST(Snapshots, ThatCannotBeDecodedAreIgnored) {
  actor_fixture fx{snapshots(100)};
  write_history(fx, 4);
  fx.passivate<account>("acct-1");
  save(fx, fake_snapshot(2, 1, json{{"balance", "lots"}}));
  auto view = fx.inspect<account>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->second, 4);
  EXPECT_EQ(view->first.balance, 60);
  EXPECT_EQ(view->first.owner, "ada");
}

TEST(Snapshots, AreNotReadWhenThePolicyIsNever) {
  actor_fixture fx; // never()
  write_history(fx, 4);
  fx.passivate<account>("acct-1");
  save(fx, fake_snapshot(2, 1, bogus_state()));
  fx.store().snapshot_loads.clear();
  auto view = fx.inspect<account>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->first.balance, 60);
  EXPECT_TRUE(fx.store().snapshot_loads.empty());
}

// Through the runtime: the same commands with and without snapshots give
// the same state after passivation and recovery.
TEST(Snapshots, SnapshotPlusReplayEqualsFullReplay) {
  auto run = [](es::snapshot_policy policy) {
    es::runtime_options opts;
    opts.deterministic = true;
    opts.snapshots = policy;
    opts.max_live_aggregates = 1;
    auto rt = es::runtime::start(opts);
    EXPECT_TRUE(rt);
    auto& r = **rt;
    EXPECT_TRUE(r.execute<account>("acct-1", open_account{"ada"}));
    for (int64_t i = 1; i <= 4; ++i)
      EXPECT_TRUE(r.execute<account>("acct-1", deposit{i * 100}));
    EXPECT_TRUE(r.execute<account>("acct-1", withdraw{150}));
    EXPECT_TRUE(r.execute<account>("acct-1", withdraw{50}));
    // Passivate acct-1 (cap of one), then recover it.
    EXPECT_TRUE(r.execute<account>("acct-2", open_account{"bob"}));
    EXPECT_EQ(r.live_aggregates(), 1u);
    auto view = r.inspect<account>("acct-1");
    EXPECT_TRUE(view);
    auto next = r.execute<account>("acct-1", withdraw{800});
    EXPECT_TRUE(next);
    return std::make_tuple(view->version, view->state.balance,
                           view->state.owner, next ? next->version : -1);
  };
  auto with = run(es::snapshot_every(3));
  auto without = run(es::never());
  EXPECT_EQ(with, without);
  EXPECT_EQ(with, std::make_tuple(int64_t{7}, int64_t{800}, std::string{"ada"},
                                  int64_t{8}));
}
