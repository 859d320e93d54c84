// The aggregate actor through `es::runtime` (deterministic, "memory:"):
// versions and events of commands, rejections, metadata, recovery and the
// commands that wait while an aggregate recovers.
#include <gtest/gtest.h>

#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>

#include "account.hpp"
#include "actors/deterministic_runtime.hpp"
#include "actors/fixture.hpp"
#include "actors/tally.hpp"
#include "es/runtime.hpp"

using namespace bank;
using es::ec;
using es::test::code_of;
using es::test::message_of;
using es::test::take;

namespace {

std::unique_ptr<es::runtime> start(es::runtime_options opts = {}) {
  return es::test::start_runtime(std::move(opts));
}

caf::scheduler::test_coordinator& sched(es::runtime& rt) {
  return es::test::scheduler_of(rt);
}

} // namespace

TEST(AggregateActor, CommandsGetConsecutiveVersionsAndTheirEvents) {
  auto rt = start();
  auto r1 = rt->execute<account>("acct-1", open_account{"ada"});
  ASSERT_TRUE(r1) << to_string(r1.error());
  EXPECT_EQ(r1->version, 1);
  ASSERT_EQ(r1->events.size(), 1u);
  const auto& e1 = *r1->events.begin();
  EXPECT_EQ(e1.event_type, "account_opened");
  EXPECT_EQ(e1.payload, (es::persistence::json{{"owner", "ada"}}));
  EXPECT_EQ(e1.stream_id, "acct-1");
  EXPECT_EQ(e1.stream_type, "account");
  EXPECT_EQ(e1.version, 1);
  EXPECT_EQ(e1.global_position, 1);
  auto other = rt->execute<account>("acct-2", open_account{"bob"});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->version, 1);
  EXPECT_EQ(other->events.begin()->global_position, 2);
  auto r2 = rt->execute<account>("acct-1", deposit{100});
  auto r3 = rt->execute<account>("acct-1", withdraw{30});
  ASSERT_TRUE(r2);
  ASSERT_TRUE(r3);
  EXPECT_EQ(r2->version, 2);
  EXPECT_EQ(r3->version, 3);
  EXPECT_EQ(r2->events.begin()->event_type, "deposited");
  EXPECT_EQ(r2->events.begin()->payload, (es::persistence::json{{"amount", 100}}));
  EXPECT_EQ(r2->events.begin()->global_position, 3);
  EXPECT_EQ(r3->events.begin()->event_type, "withdrawn");
  EXPECT_EQ(r3->events.begin()->version, 3);
  EXPECT_EQ(r3->events.begin()->global_position, 4);
  auto view = rt->inspect<account>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->version, 3);
  EXPECT_EQ(view->state.balance, 70);
  EXPECT_EQ(view->state.owner, "ada");
  auto stored = rt->read_stream("acct-1");
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 3u);
  EXPECT_EQ((*stored)[1].event_id, r2->events.begin()->event_id);
  EXPECT_EQ((*stored)[2].global_position, 4);
}

TEST(AggregateActor, OneCommandGetsTheSliceOfAllItsEvents) {
  auto rt = start();
  auto r1 = rt->execute<es::test::tally>("t-1", es::test::add{3});
  ASSERT_TRUE(r1) << to_string(r1.error());
  EXPECT_EQ(r1->version, 3);
  ASSERT_EQ(r1->events.size(), 3u);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r1->events.begin()[i].version, i + 1);
    EXPECT_EQ(r1->events.begin()[i].global_position, i + 1);
    EXPECT_EQ(r1->events.begin()[i].payload, (es::persistence::json{{"seq", i + 1}}));
  }
  auto r2 = rt->execute<es::test::tally>("t-1", es::test::add{2});
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->version, 5);
  ASSERT_EQ(r2->events.size(), 2u);
  EXPECT_EQ(r2->events.begin()[0].version, 4);
  EXPECT_EQ(r2->events.begin()[1].global_position, 5);
  // A command without events changes nothing and appends nothing.
  auto r3 = rt->execute<es::test::tally>("t-1", es::test::noop{});
  ASSERT_TRUE(r3);
  EXPECT_EQ(r3->version, 5);
  EXPECT_TRUE(r3->events.empty());
  EXPECT_EQ(rt->read_stream("t-1")->size(), 5u);
  EXPECT_EQ(rt->inspect<es::test::tally>("t-1")->state.ticks, 5);
}

TEST(AggregateActor, RejectionChangesNothing) {
  auto rt = start();
  ASSERT_TRUE(rt->execute<account>("acct-1", open_account{"ada"}));
  ASSERT_TRUE(rt->execute<account>("acct-1", deposit{50}));
  auto r = rt->execute<account>("acct-1", withdraw{80});
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), ec::rejected);
  EXPECT_EQ(message_of(r.error()), "insufficient funds");
  auto view = rt->inspect<account>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->version, 2);
  EXPECT_EQ(view->state.balance, 50);
  EXPECT_EQ(rt->read_stream("acct-1")->size(), 2u);
  // The next command continues at version 3.
  auto next = rt->execute<account>("acct-1", withdraw{50});
  ASSERT_TRUE(next);
  EXPECT_EQ(next->version, 3);
}

TEST(AggregateActor, RejectsCommandsForAStreamThatDoesNotExist) {
  auto rt = start();
  auto r = rt->execute<account>("nobody", deposit{5});
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), ec::rejected);
  EXPECT_EQ(message_of(r.error()), "account is not open");
  EXPECT_TRUE(rt->read_stream("nobody")->empty());
  EXPECT_EQ(rt->inspect<account>("nobody")->version, 0);
}

TEST(AggregateActor, EventsKeepTheGivenCorrelationAndCausation) {
  auto rt = start();
  auto r = rt->execute<account>("acct-1", open_account{"ada"},
                                {"corr-1", "cause-1"});
  ASSERT_TRUE(r);
  const auto& meta = r->events.begin()->metadata;
  EXPECT_EQ(meta.at("correlation_id"), "corr-1");
  EXPECT_EQ(meta.at("causation_id"), "cause-1");
  EXPECT_EQ(rt->read_stream("acct-1")->front().metadata, meta);
  // Only one given: only that one is written.
  auto r2 = rt->execute<account>("acct-1", deposit{1}, {"corr-1", ""});
  ASSERT_TRUE(r2);
  const auto& m2 = r2->events.begin()->metadata;
  EXPECT_EQ(m2.at("correlation_id"), "corr-1");
  EXPECT_FALSE(m2.contains("causation_id"));
  EXPECT_EQ(m2.at("command_id").get<std::string>().size(), 36u);
}

TEST(AggregateActor, EventsCarryTheirCommandIdAndNoIdsTheCallerDidNotGive) {
  auto rt = start();
  auto r1 = rt->execute<account>("acct-1", open_account{"ada"});
  auto r2 = rt->execute<account>("acct-1", deposit{10});
  ASSERT_TRUE(r1);
  ASSERT_TRUE(r2);
  const auto& m1 = r1->events.begin()->metadata;
  const auto& m2 = r2->events.begin()->metadata;
  ASSERT_TRUE(m1.contains("command_id"));
  auto id = m1.at("command_id").get<std::string>();
  EXPECT_TRUE(es::persistence::uuid::parse(id)); // a UUID
  EXPECT_EQ(m1, (es::persistence::json{{"command_id", id}}));
  EXPECT_NE(m2.at("command_id"), m1.at("command_id"));
  EXPECT_EQ(rt->read_stream("acct-1")->front().metadata, m1);
}

TEST(AggregateActor, ACommandCausedByAnEventContinuesItsCorrelation) {
  auto rt = start();
  auto opened = rt->execute<account>("acct-1", open_account{"ada"});
  ASSERT_TRUE(opened);
  const auto& cause = *opened->events.begin();
  // The cause has no correlation id: its command's id stands for it.
  auto meta = es::command_metadata::caused_by(cause);
  EXPECT_EQ(meta.correlation_id, cause.metadata.at("command_id"));
  EXPECT_EQ(meta.causation_id, cause.event_id.to_string());
  auto next = rt->execute<account>("acct-2", open_account{"bob"}, meta);
  ASSERT_TRUE(next);
  const auto& effect = *next->events.begin();
  EXPECT_EQ(effect.metadata.at("correlation_id"), meta.correlation_id);
  EXPECT_EQ(effect.metadata.at("causation_id"), meta.causation_id);
  // Down the chain the correlation stays the first command's.
  auto third = es::command_metadata::caused_by(effect);
  EXPECT_EQ(third.correlation_id, meta.correlation_id);
  EXPECT_EQ(third.causation_id, effect.event_id.to_string());
  // An event written without a command: its own id starts the conversation.
  es::persistence::recorded_event bare;
  bare.event_id = es::persistence::uuid::v7();
  bare.metadata = {{"correlation_id", 7}}; // not a string: ignored
  auto from_bare = es::command_metadata::caused_by(bare);
  EXPECT_EQ(from_bare.correlation_id, bare.event_id.to_string());
  EXPECT_EQ(from_bare.causation_id, bare.event_id.to_string());
}

TEST(AggregateActor, EveryEventOfACommandCarriesTheSameMetadata) {
  auto rt = start();
  auto r = rt->execute<es::test::tally>("t-1", es::test::add{3},
                                        {"corr-1", "cause-1"});
  ASSERT_TRUE(r);
  std::vector<es::persistence::json> metas;
  for (const auto& e : r->events)
    metas.push_back(e.metadata);
  ASSERT_EQ(metas.size(), 3u);
  EXPECT_EQ(metas[0].at("correlation_id"), "corr-1");
  EXPECT_EQ(metas[0].at("causation_id"), "cause-1");
  EXPECT_EQ(metas[0].at("command_id").get<std::string>().size(), 36u);
  EXPECT_EQ(metas[1], metas[0]);
  EXPECT_EQ(metas[2], metas[0]);
  auto stored = rt->read_stream("t-1");
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 3u);
  for (const auto& e : *stored)
    EXPECT_EQ(e.metadata, metas[0]);
}

TEST(AggregateActor, RecoversItsStateAfterPassivation) {
  es::runtime_options opts;
  opts.max_live_aggregates = 1;
  auto rt = start(opts);
  ASSERT_TRUE(rt->execute<account>("acct-1", open_account{"ada"}));
  ASSERT_TRUE(rt->execute<account>("acct-1", deposit{100}));
  ASSERT_TRUE(rt->execute<account>("acct-1", withdraw{40}));
  // Touching another aggregate passivates acct-1 (cap of one).
  ASSERT_TRUE(rt->execute<account>("acct-2", open_account{"bob"}));
  EXPECT_EQ(rt->live_aggregates(), 1u);
  auto view = rt->inspect<account>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->version, 3);
  EXPECT_EQ(view->state.balance, 60);
  EXPECT_EQ(view->state.owner, "ada");
  EXPECT_TRUE(view->state.opened);
  auto r = rt->execute<account>("acct-1", deposit{1});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version, 4);
}

TEST(AggregateActor, BuffersCommandsDuringRecovery) {
  es::runtime_options opts;
  opts.max_live_aggregates = 1;
  auto rt = start(opts);
  ASSERT_TRUE(rt->execute<account>("acct-1", open_account{"ada"}));
  ASSERT_TRUE(rt->execute<account>("acct-2", open_account{"bob"}));
  ASSERT_EQ(rt->live_aggregates(), 1u); // acct-1 is not live
  caf::scoped_actor self{rt->system()};
  // Sent before the new instance has read its stream: without buffering
  // they would meet an unopened account.
  auto h1 = rt->request<account>(self.ptr(), "acct-1", deposit{10});
  auto h2 = rt->request<account>(self.ptr(), "acct-1", deposit{20});
  auto h3 = rt->request<account>(self.ptr(), "acct-1", withdraw{25});
  auto h4 = rt->request<account>(self.ptr(), "acct-1", deposit{7});
  sched(*rt).run();
  ASSERT_EQ(self->mailbox().size(), 4u);
  auto r1 = take<es::command_result>(h1);
  auto r2 = take<es::command_result>(h2);
  auto r3 = take<es::command_result>(h3);
  auto r4 = take<es::command_result>(h4);
  ASSERT_TRUE(r1) << to_string(r1.error());
  ASSERT_TRUE(r2);
  ASSERT_TRUE(r3);
  ASSERT_TRUE(r4);
  EXPECT_EQ(r1->version, 2);
  EXPECT_EQ(r2->version, 3);
  EXPECT_EQ(r3->version, 4);
  EXPECT_EQ(r4->version, 5);
  EXPECT_EQ(rt->inspect<account>("acct-1")->state.balance, 12);
}
