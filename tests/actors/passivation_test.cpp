// Passivation: idle aggregates and those over the live cap stop, and come
// back from the store; commands that race with a passivation are answered
// once, in the order each sender sent them.
#include <gtest/gtest.h>

#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>

#include "account.hpp"
#include "actors/deterministic_runtime.hpp"
#include "actors/fixture.hpp"
#include "es/runtime.hpp"

using namespace bank;
using namespace std::chrono_literals;
using es::test::actor_fixture;
using es::test::fixture_options;
using es::test::take;

namespace {

using read_log = std::vector<std::pair<std::string, int64_t>>;

std::unique_ptr<es::runtime> start(es::runtime_options opts = {}) {
  return es::test::start_runtime(std::move(opts));
}

caf::scheduler::test_coordinator& sched(es::runtime& rt) {
  return es::test::scheduler_of(rt);
}

// Moves the test clock on (firing the idle sweeper when due) and runs.
void pass_time(caf::scheduler::test_coordinator& s, caf::timespan d) {
  s.advance_time(d);
  s.run();
}

fixture_options limits(caf::timespan idle, size_t max_live) {
  fixture_options opts;
  opts.limits = {idle, max_live};
  return opts;
}

} // namespace

TEST(Passivation, IdleAggregateIsPassivatedAndRecoversLater) {
  es::runtime_options opts;
  opts.idle_timeout = 1s; // swept every 500 ms
  auto rt = start(opts);
  ASSERT_TRUE(rt->execute<account>("acct-1", open_account{"ada"}));
  ASSERT_TRUE(rt->execute<account>("acct-1", deposit{10}));
  EXPECT_EQ(rt->live_aggregates(), 1u);
  pass_time(sched(*rt), 500ms);
  EXPECT_EQ(rt->live_aggregates(), 1u); // idle for 500 ms only
  pass_time(sched(*rt), 500ms);
  EXPECT_EQ(rt->live_aggregates(), 0u);
  auto r = rt->execute<account>("acct-1", deposit{5});
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(rt->inspect<account>("acct-1")->state.balance, 15);
  EXPECT_EQ(rt->live_aggregates(), 1u);
}

TEST(Passivation, RecentlyUsedAggregateStaysLive) {
  es::runtime_options opts;
  opts.idle_timeout = 1s;
  auto rt = start(opts);
  ASSERT_TRUE(rt->execute<account>("acct-1", open_account{"ada"}));
  pass_time(sched(*rt), 500ms);
  ASSERT_TRUE(rt->execute<account>("acct-2", open_account{"bob"}));
  pass_time(sched(*rt), 500ms); // acct-1 idle 1 s, acct-2 500 ms
  EXPECT_EQ(rt->live_aggregates(), 1u);
  pass_time(sched(*rt), 500ms); // acct-2 idle 1 s
  EXPECT_EQ(rt->live_aggregates(), 0u);
}

TEST(Passivation, IdleSweepPassivatesTheIdleOnesOnly) {
  actor_fixture fx{limits(1s, 0)};
  ASSERT_TRUE(fx.execute<account>("acct-1", open_account{"ada"}));
  fx.sched().advance_time(600ms);
  ASSERT_TRUE(fx.execute<account>("acct-2", open_account{"bob"}));
  fx.sched().advance_time(400ms);
  fx.instances().sweep();
  fx.sched().run();
  EXPECT_EQ(fx.instances().live(), 1u);
  fx.store().stream_reads.clear();
  ASSERT_TRUE(fx.inspect<account>("acct-2")); // still live: no read
  ASSERT_TRUE(fx.inspect<account>("acct-1")); // recovers
  EXPECT_EQ(fx.store().stream_reads, (read_log{{"acct-1", 1}}));
}

TEST(Passivation, CapPassivatesTheLeastRecentlyUsed) {
  actor_fixture fx{limits(caf::timespan{0}, 2)};
  ASSERT_TRUE(fx.execute<account>("a-1", open_account{"ada"}));
  ASSERT_TRUE(fx.execute<account>("a-2", open_account{"bob"}));
  ASSERT_TRUE(fx.execute<account>("a-1", deposit{1})); // a-2 is now LRU
  ASSERT_TRUE(fx.execute<account>("a-3", open_account{"cy"}));
  EXPECT_EQ(fx.instances().live(), 2u);
  fx.store().stream_reads.clear();
  ASSERT_TRUE(fx.inspect<account>("a-1"));
  ASSERT_TRUE(fx.inspect<account>("a-3"));
  EXPECT_TRUE(fx.store().stream_reads.empty()); // both live
  auto a2 = fx.inspect<account>("a-2");         // passivates a-1 (LRU)
  ASSERT_TRUE(a2);
  EXPECT_EQ(a2->first.owner, "bob");
  auto a1 = fx.inspect<account>("a-1");
  ASSERT_TRUE(a1);
  EXPECT_EQ(a1->first.balance, 1);
  EXPECT_EQ(fx.store().stream_reads, (read_log{{"a-2", 1}, {"a-1", 1}}));
  EXPECT_EQ(fx.instances().live(), 2u);
}

// A command queued before the passivation mark goes to the old instance,
// those routed after it to a successor that starts when the old one is
// done: every command is answered once and in the order it was sent.
TEST(Passivation, CommandsRacingWithPassivationAreAnsweredOnceInOrder) {
  es::runtime_options opts;
  opts.max_live_aggregates = 1;
  auto rt = start(opts);
  ASSERT_TRUE(rt->execute<account>("acct-1", open_account{"ada"}));
  caf::scoped_actor self{rt->system()};
  // Nothing runs until sched().run(): all four are routed at once.
  auto h1 = rt->request<account>(self.ptr(), "acct-1", deposit{5});
  auto h2 = rt->request<account>(self.ptr(), "acct-2", open_account{"bob"});
  auto h3 = rt->request<account>(self.ptr(), "acct-1", deposit{10});
  auto h4 = rt->request<account>(self.ptr(), "acct-1", withdraw{15});
  sched(*rt).run();
  ASSERT_EQ(self->mailbox().size(), 4u);
  auto r1 = take<es::command_result>(h1);
  auto r2 = take<es::command_result>(h2);
  auto r3 = take<es::command_result>(h3);
  auto r4 = take<es::command_result>(h4);
  EXPECT_EQ(self->mailbox().size(), 0u);
  ASSERT_TRUE(r1) << to_string(r1.error());
  ASSERT_TRUE(r2) << to_string(r2.error());
  ASSERT_TRUE(r3) << to_string(r3.error());
  ASSERT_TRUE(r4) << to_string(r4.error());
  EXPECT_EQ(r1->version, 2);
  EXPECT_EQ(r2->version, 1);
  EXPECT_EQ(r3->version, 3);
  EXPECT_EQ(r4->version, 4);
  auto stored = rt->read_stream("acct-1");
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 4u);
  EXPECT_EQ((*stored)[1].payload.at("amount"), 5);
  EXPECT_EQ((*stored)[2].payload.at("amount"), 10);
  EXPECT_EQ((*stored)[3].event_type, "withdrawn");
  auto view = rt->inspect<account>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->version, 4);
  EXPECT_EQ(view->state.balance, 0);
}

TEST(Passivation, CommandAfterTheMarkGoesToAWaitingSuccessor) {
  actor_fixture fx;
  ASSERT_TRUE(fx.execute<account>("acct-1", open_account{"ada"}));
  caf::scoped_actor self{fx.sys()};
  caf::actor old_instance;
  caf::actor successor;
  auto h1 = fx.request<account>(self, "acct-1", deposit{1}, {}, &old_instance);
  fx.instances().passivate("account", "acct-1", old_instance.address());
  auto h2 = fx.request<account>(self, "acct-1", deposit{2}, {}, &successor);
  auto h3 = fx.request<account>(self, "acct-1", deposit{3});
  EXPECT_NE(successor, old_instance);
  EXPECT_EQ(fx.instances().live(), 1u);
  fx.store().stream_reads.clear();
  fx.sched().run();
  ASSERT_EQ(self->mailbox().size(), 3u);
  EXPECT_EQ(take<es::command_result>(h1)->version, 2);
  EXPECT_EQ(take<es::command_result>(h2)->version, 3);
  EXPECT_EQ(take<es::command_result>(h3)->version, 4);
  // The successor recovered once, after the old instance's last append.
  EXPECT_EQ(fx.store().stream_reads, (read_log{{"acct-1", 1}}));
  EXPECT_EQ(fx.instances().live(), 1u);
  auto view = fx.inspect<account>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->second, 4);
  EXPECT_EQ(view->first.balance, 6);
}

TEST(Passivation, CloseAnswersCommandsHeldByAWaitingSuccessor) {
  actor_fixture fx;
  ASSERT_TRUE(fx.execute<account>("acct-1", open_account{"ada"}));
  caf::scoped_actor self{fx.sys()};
  caf::actor old_instance;
  auto h1 = fx.request<account>(self, "acct-1", deposit{1}, {}, &old_instance);
  fx.instances().passivate("account", "acct-1", old_instance.address());
  auto h2 = fx.request<account>(self, "acct-1", deposit{2});
  fx.instances().close();
  fx.sched().run();
  ASSERT_EQ(self->mailbox().size(), 2u);
  auto r1 = take<es::command_result>(h1);
  auto r2 = take<es::command_result>(h2);
  ASSERT_TRUE(r1);
  ASSERT_TRUE(r2) << to_string(r2.error());
  EXPECT_EQ(r2->version, 3);
  EXPECT_EQ(fx.instances().live(), 0u);
  EXPECT_FALSE(fx.instances().dispatch(
    "account", "acct-1", [](bool) -> caf::actor { return nullptr; },
    [](const caf::actor&) { FAIL() << "routed after close"; }));
}

// A hand-over to a successor counts as a live instance again: the cap
// applies at once, not only when the next new aggregate arrives.
TEST(Passivation, CapHoldsAfterAHandOverToASuccessor) {
  es::runtime_options opts;
  opts.max_live_aggregates = 1;
  auto rt = start(opts);
  ASSERT_TRUE(rt->execute<account>("acct-1", open_account{"ada"}));
  caf::scoped_actor self{rt->system()};
  auto h1 = rt->request<account>(self.ptr(), "acct-2", open_account{"bob"});
  auto h2 = rt->request<account>(self.ptr(), "acct-1", deposit{1});
  sched(*rt).run();
  ASSERT_TRUE(take<es::command_result>(h1));
  ASSERT_TRUE(take<es::command_result>(h2));
  EXPECT_EQ(rt->live_aggregates(), 1u);
}
