// The aggregate actor when the store pushes back: another writer on the
// same stream (conflict, catch-up, bounded retries), a journal that cannot
// append, a recovery that cannot read and a stream that cannot be decoded.
#include <gtest/gtest.h>

#include "account.hpp"
#include "actors/fixture.hpp"

using namespace bank;
using es::ec;
using es::persistence::expected_version;
using es::persistence::make_event;
using es::test::actor_fixture;
using es::test::code_of;
using es::test::fixture_options;
using es::test::message_of;
using es::test::take;

namespace {

using read_log = std::vector<std::pair<std::string, int64_t>>;

fixture_options retries(int n) {
  fixture_options opts;
  opts.max_conflict_retries = n;
  return opts;
}

// acct-1 at version 2 with a balance of 100, live.
void open_with_100(actor_fixture& fx) {
  ASSERT_TRUE(fx.execute<account>("acct-1", open_account{"ada"}));
  ASSERT_TRUE(fx.execute<account>("acct-1", deposit{100}));
}

// Another writer appends `amount` to acct-1 behind the aggregate's back.
void other_writer_deposits(actor_fixture& fx, int64_t amount) {
  auto r = fx.store().inner().append("acct-1", "account",
                                     expected_version::any(),
                                     {make_event(deposited{amount})});
  ASSERT_TRUE(r) << r.error().to_string();
}

} // namespace

TEST(AggregateActor, CatchesUpAndRetriesAfterAConflict) {
  actor_fixture fx;
  open_with_100(fx);
  other_writer_deposits(fx, 5); // version 3
  fx.store().batches.clear();
  fx.store().stream_reads.clear();
  auto r = fx.execute<account>("acct-1", deposit{10});
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->version, 4);
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events.begin()->version, 4);
  EXPECT_EQ(r->events.begin()->payload.at("amount"), 10);
  EXPECT_EQ(fx.store().batches, (std::vector<size_t>{1, 1}));
  EXPECT_EQ(fx.store().stream_reads, (read_log{{"acct-1", 3}}));
  auto view = fx.inspect<account>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->second, 4);
  EXPECT_EQ(view->first.balance, 115);
  EXPECT_EQ(fx.store().inner().read_stream("acct-1")->size(), 4u);
}

TEST(AggregateActor, RetriesAtMostMaxConflictRetriesTimes) {
  actor_fixture fx{retries(2)};
  ASSERT_TRUE(fx.execute<account>("acct-1", open_account{"ada"}));
  fx.store().batches.clear();
  fx.store().before_append = [&fx] { other_writer_deposits(fx, 1); };
  auto r = fx.execute<account>("acct-1", deposit{10});
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), ec::conflict);
  EXPECT_EQ(fx.store().batches.size(), 3u); // the first try and 2 retries
  EXPECT_EQ(fx.store().inner().read_stream("acct-1")->size(), 4u);
  // The other writer stops: the next command catches up and commits.
  fx.store().before_append = nullptr;
  auto next = fx.execute<account>("acct-1", deposit{10});
  ASSERT_TRUE(next) << to_string(next.error());
  EXPECT_EQ(next->version, 5);
  EXPECT_EQ(fx.inspect<account>("acct-1")->first.balance, 13);
}

TEST(AggregateActor, FailsWithConflictWhenRetriesAreOff) {
  actor_fixture fx{retries(0)};
  open_with_100(fx);
  other_writer_deposits(fx, 5);
  fx.store().batches.clear();
  fx.store().stream_reads.clear();
  auto r = fx.execute<account>("acct-1", deposit{10});
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), ec::conflict);
  EXPECT_EQ(fx.store().batches, (std::vector<size_t>{1}));
  // It catches up anyway (one read), so that the caller's retry can work.
  EXPECT_EQ(fx.store().stream_reads.size(), 1u);
  EXPECT_EQ(fx.store().inner().read_stream("acct-1")->size(), 3u);
}

// After the last allowed conflict the actor still catches up: `conflict`
// tells the caller to retry, and the retry must not meet a stale version.
TEST(AggregateActor, CommandRetriedAfterAFinalConflictSucceeds) {
  actor_fixture fx{retries(0)};
  open_with_100(fx);
  other_writer_deposits(fx, 5);
  auto r = fx.execute<account>("acct-1", deposit{10});
  ASSERT_FALSE(r);
  ASSERT_EQ(code_of(r.error()), ec::conflict);
  auto again = fx.execute<account>("acct-1", deposit{10});
  ASSERT_TRUE(again) << to_string(again.error());
  EXPECT_EQ(again->version, 4);
  EXPECT_EQ(fx.inspect<account>("acct-1")->first.balance, 115);
}

TEST(AggregateActor, UnavailableJournalFailsTheCommandAndKeepsTheState) {
  actor_fixture fx;
  open_with_100(fx);
  fx.store().fail_appends = true;
  auto r = fx.execute<account>("acct-1", deposit{10});
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), ec::unavailable);
  auto view = fx.inspect<account>("acct-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->second, 2);
  EXPECT_EQ(view->first.balance, 100);
  EXPECT_EQ(fx.store().inner().read_stream("acct-1")->size(), 2u);
  // The database is back: the same aggregate works again.
  fx.store().fail_appends = false;
  auto ok = fx.execute<account>("acct-1", deposit{10});
  ASSERT_TRUE(ok) << to_string(ok.error());
  EXPECT_EQ(ok->version, 3);
  EXPECT_EQ(fx.inspect<account>("acct-1")->first.balance, 110);
}

// A journal that dies after taking an append (here: killed, which skips
// its exit handler) never answers it (see JournalActor,
// AnswersTakenAppendsEvenWhenKilled); the aggregate's own request timeout
// must then fail the command. Without one the aggregate awaits forever,
// and an actor inside `await` skips even exit messages in CAF 0.17, so
// nothing can stop it and ~actor_system blocks.
TEST(AggregateActor, CommandIsAnsweredWhenTheJournalDiesHoldingItsAppend) {
  auto fx = std::make_unique<actor_fixture>();
  open_with_100(*fx);
  auto self = std::make_unique<caf::scoped_actor>(fx->sys());
  auto h = fx->request<account>(*self, "acct-1", deposit{10});
  ASSERT_EQ(fx->sched().jobs.size(), 1u);
  fx->sched().run_once(); // the aggregate sends its append
  caf::anon_send_exit(fx->journal(), caf::exit_reason::kill);
  fx->sched().run(); // the journal takes the append, then dies
  // Past the aggregate's request timeout (30 s), not the client's (1 h).
  fx->sched().advance_time(std::chrono::seconds{31});
  fx->sched().run();
  if ((*self)->mailbox().size() == 0) {
    self.reset();
    (void) fx.release(); // cannot shut down: leak it rather than hang
    FAIL() << "the command was never answered; the aggregate is stuck";
  }
  auto r = take<es::actors::command_result>(h);
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), ec::unavailable);
  EXPECT_EQ(fx->store().inner().read_stream("acct-1")->size(), 2u);
}

TEST(AggregateActor, FailedRecoveryFailsQueuedCommandsThenRecoversAfresh) {
  actor_fixture fx;
  open_with_100(fx);
  fx.passivate<account>("acct-1");
  fx.store().fail_reads = true;
  {
    caf::scoped_actor self{fx.sys()};
    auto h1 = fx.request<account>(self, "acct-1", deposit{1});
    auto h2 = fx.request<account>(self, "acct-1", deposit{2});
    fx.sched().run();
    ASSERT_EQ(self->mailbox().size(), 2u);
    for (auto* h : {&h1, &h2}) {
      auto r = take<es::actors::command_result>(*h);
      ASSERT_FALSE(r);
      EXPECT_EQ(code_of(r.error()), ec::unavailable);
    }
  }
  EXPECT_EQ(fx.instances().live(), 0u); // the failed instance is gone
  EXPECT_EQ(fx.store().inner().read_stream("acct-1")->size(), 2u);
  fx.store().fail_reads = false;
  auto r = fx.execute<account>("acct-1", deposit{5});
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(fx.inspect<account>("acct-1")->first.balance, 105);
}

TEST(AggregateActor, UndecodableStreamFailsWithCorruptEvent) {
  actor_fixture fx;
  es::persistence::new_event odd;
  odd.event_type = "mystery";
  ASSERT_TRUE(fx.store().inner().append("acct-1", "account",
                                        expected_version::no_stream(), {odd}));
  auto r = fx.execute<account>("acct-1", open_account{"ada"});
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), ec::corrupt_event);
  EXPECT_NE(message_of(r.error()).find("mystery"), std::string::npos)
    << message_of(r.error());
  EXPECT_EQ(fx.instances().live(), 0u);
  // Each new command recovers afresh and fails the same way.
  auto again = fx.execute<account>("acct-1", open_account{"ada"});
  ASSERT_FALSE(again);
  EXPECT_EQ(code_of(again.error()), ec::corrupt_event);
  EXPECT_EQ(fx.store().inner().read_stream("acct-1")->size(), 1u);
}

TEST(AggregateActor, UndecodableEventWhileCatchingUpFailsTheCommand) {
  actor_fixture fx;
  open_with_100(fx);
  es::persistence::new_event odd;
  odd.event_type = "mystery";
  ASSERT_TRUE(fx.store().inner().append("acct-1", "account",
                                        expected_version::exact(2), {odd}));
  auto r = fx.execute<account>("acct-1", deposit{1});
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), ec::corrupt_event);
  EXPECT_EQ(fx.instances().live(), 0u);
  EXPECT_EQ(fx.store().inner().read_stream("acct-1")->size(), 3u);
}
