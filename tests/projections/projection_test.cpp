// Projection actors on CAF's test scheduler, over a memory store the test
// holds: catch-up and live, gaps healed from the store, retries and the
// error policies, operator controls, and bad input.
#include <gtest/gtest.h>

#include <numeric>

#include "projections/fixture.hpp"

using es::ec;
using es::persistence::projection_op;
using es::persistence::projection_state;
using es::projections::error_policy;
using es::projections::projection;
using es::projections::projection_options;
using es::test::code_of;
using es::test::projection_fixture;

namespace {

std::vector<int64_t> one_to(int64_t n) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  std::iota(out.begin(), out.end(), 1);
  return out;
}

} // namespace

TEST(Projection, CatchesUpFromTheStoreThenFollowsTheBus) {
  projection_fixture p;
  p.deposit("acct-1", 5); // 6 events: opened + 5 deposits
  auto seen = p.add_recorder("p");
  EXPECT_EQ(seen->positions, one_to(6));
  EXPECT_EQ(p.status("p").state, projection_state::live);
  p.deposit("acct-2", 2); // live: through the bus
  EXPECT_EQ(seen->positions, one_to(9));
  auto s = p.status("p");
  EXPECT_EQ(s.checkpoint, 9);
  EXPECT_EQ(s.head, 9);
  EXPECT_EQ(s.lag, 0);
}

TEST(Projection, CommandsRacingTheSwitchToLiveAreHandledOnceInOrder) {
  // Interleave catch-up pages and bus batches in many ways: a command every
  // k scheduler steps while the projection starts.
  for (int k = 1; k <= 12; ++k) {
    projection_fixture p;
    p.deposit("acct-0", 3);
    caf::scoped_actor self{p.fx().sys()};
    auto rec = std::make_shared<es::test::recorder>();
    auto def = projection::in_memory("p", [rec](const auto& e) {
      rec->positions.push_back(e.global_position);
    });
    self->send(p.manager(), es::projections::add_projection_msg{
                              std::make_shared<const projection>(def)});
    std::vector<es::test::actor_fixture::handle_type> pending;
    int sent = 0;
    for (int step = 0; p.fx().sched().try_run_once() || sent < 10; ++step) {
      if (step % k == 0 && sent < 10) {
        pending.push_back(p.fx().request<bank::account>(
          self, "acct-" + std::to_string(sent % 3), bank::deposit{1}));
        ++sent;
      }
    }
    p.fx().sched().run();
    int64_t head = *p.fx().store().inner().head_position();
    EXPECT_EQ(rec->positions, one_to(head)) << "k = " << k;
    EXPECT_EQ(p.status("p").state, projection_state::live);
  }
}

TEST(Projection, AGapInTheBusIsHealedFromTheStore) {
  projection_fixture p;
  auto seen = p.add_recorder("p");
  p.deposit("acct-1", 1);        // positions 1, 2 via the bus
  p.append_direct("acct-x", 3);  // 3..5: no bus message (lost)
  p.deposit("acct-1", 1);        // 6 via the bus: a gap -> read the store
  EXPECT_EQ(seen->positions, one_to(6));
}

TEST(Projection, EventsWrittenElsewhereArriveOnWake) {
  projection_fixture p;
  auto seen = p.add_recorder("p");
  auto head = p.append_direct("acct-x", 4);
  EXPECT_TRUE(seen->positions.empty());
  p.wake(head); // a NOTIFY with the new head
  EXPECT_EQ(seen->positions, one_to(4));
  // The poll is the fallback when a notification is lost.
  p.append_direct("acct-x", 2);
  p.tick(); // the poll timer
  p.tick(); // the wake delay
  EXPECT_EQ(seen->positions, one_to(6));
}

TEST(Projection, FilterSkipsOtherEventsButMovesTheCheckpoint) {
  projection_fixture p;
  p.deposit("acct-1", 2); // opened, deposited, deposited
  projection_options opts;
  opts.filter.event_types = {"account_opened"};
  auto seen = p.add_recorder("opened", opts);
  p.deposit("acct-2", 1);
  EXPECT_EQ(seen->positions, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(p.status("opened").checkpoint, 5);
}

TEST(Projection, AFailingHandlerIsRetriedWithBackoffThenStops) {
  projection_fixture p;
  projection_options opts;
  opts.max_retries = 2;
  auto bad = p.add_recorder("bad", opts);
  bad->fail_at = {3};
  auto good = p.add_recorder("good");
  p.deposit("acct-1", 3); // positions 1..4
  EXPECT_EQ(bad->positions, one_to(2));
  EXPECT_EQ(bad->calls, 3); // 1, 2, then 3 fails
  p.tick();                 // first retry
  p.tick();                 // second retry
  EXPECT_EQ(bad->calls, 5);
  auto s = p.status("bad");
  EXPECT_EQ(s.state, projection_state::failed);
  EXPECT_EQ(s.error_position, 3);
  EXPECT_EQ(s.checkpoint, 2);
  EXPECT_NE(s.last_error.find("boom at 3"), std::string::npos);
  auto rec = p.catalog().find("bad");
  EXPECT_EQ((*rec)->state, projection_state::failed);
  EXPECT_EQ((*rec)->error_position, 3);
  // The other projection kept going.
  EXPECT_EQ(good->positions, one_to(4));
  // Failed stays failed; an operator's retry after the fix goes on.
  p.tick();
  EXPECT_EQ(bad->calls, 5);
  bad->failing = false;
  ASSERT_TRUE(p.control("bad", projection_op::retry));
  EXPECT_EQ(bad->positions, one_to(4));
  EXPECT_EQ(p.status("bad").state, projection_state::live);
}

TEST(Projection, RetriesHealATransientFailure) {
  projection_fixture p;
  auto rec = p.add_recorder("p");
  rec->fail_at = {2};
  p.deposit("acct-1", 2);
  EXPECT_EQ(rec->positions, one_to(1));
  rec->failing = false;
  p.tick();
  EXPECT_EQ(rec->positions, one_to(3));
  EXPECT_EQ(p.status("p").state, projection_state::live);
}

TEST(Projection, DeadLetterPolicySetsThePoisonEventAsideAndGoesOn) {
  projection_fixture p;
  projection_options opts;
  opts.max_retries = 1;
  opts.on_error = error_policy::dead_letter;
  auto rec = p.add_recorder("p", opts);
  rec->fail_at = {2};
  p.deposit("acct-1", 3);
  p.tick();
  EXPECT_EQ(rec->positions, (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(p.status("p").state, projection_state::live);
  auto letters = p.ask<std::vector<es::persistence::dead_letter>>(
    es::projections::dead_letters_atom::value, std::string{"p"});
  ASSERT_TRUE(letters);
  ASSERT_EQ(letters->size(), 1u);
  auto letter = letters->front();
  EXPECT_EQ(letter.global_position, 2);
  EXPECT_EQ(letter.stream_id, "acct-1");
  EXPECT_NE(letter.error.find("boom at 2"), std::string::npos);
  // Re-driving while it still fails keeps it; after the fix it is applied
  // and removed.
  auto again = p.ask<bool>(es::projections::redrive_atom::value, letter.id);
  EXPECT_EQ(code_of(again.error()), ec::rejected);
  rec->failing = false;
  ASSERT_TRUE(p.ask<bool>(es::projections::redrive_atom::value, letter.id));
  EXPECT_EQ(rec->positions, (std::vector<int64_t>{1, 3, 4, 2}));
  EXPECT_TRUE(p.catalog().dead_letters("p")->empty());
  auto gone = p.ask<bool>(es::projections::redrive_atom::value, letter.id);
  EXPECT_EQ(code_of(gone.error()), ec::not_found);
}

TEST(Projection, ARedriveRunsOnceEvenWhenAskedTwice) {
  projection_fixture p;
  projection_options opts;
  opts.max_retries = 0;
  opts.on_error = error_policy::dead_letter;
  auto rec = p.add_recorder("p", opts);
  rec->fail_at = {1};
  p.deposit("acct-1", 1);
  rec->failing = false;
  auto id = p.catalog().dead_letters("p")->front().id;
  caf::scoped_actor self{p.fx().sys()};
  auto first = self->request(p.manager(), es::test::client_timeout,
                             es::projections::redrive_atom::value, id);
  auto second = self->request(p.manager(), es::test::client_timeout,
                              es::projections::redrive_atom::value, id);
  p.fx().sched().run();
  auto a = es::test::take<bool>(first);
  auto b = es::test::take<bool>(second);
  EXPECT_TRUE(a);
  ASSERT_FALSE(b);
  EXPECT_EQ(code_of(b.error()), ec::conflict);
  EXPECT_EQ(rec->positions, (std::vector<int64_t>{2, 1})); // 1 once
  EXPECT_TRUE(p.catalog().dead_letters("p")->empty());
}

TEST(Projection, ResetDropsTheDeadLettersOfAnInMemoryProjection) {
  projection_fixture p;
  projection_options opts;
  opts.max_retries = 0;
  opts.on_error = error_policy::dead_letter;
  auto rec = p.add_recorder("p", opts);
  rec->fail_at = {1};
  p.deposit("acct-1", 1);
  ASSERT_EQ(p.catalog().dead_letters("p")->size(), 1u);
  rec->failing = false;
  ASSERT_TRUE(p.control("p", projection_op::rebuild));
  // The rebuild met event 1 again: redriving the old letter would apply
  // it twice, so it is gone.
  EXPECT_TRUE(p.catalog().dead_letters("p")->empty());
  EXPECT_EQ(rec->positions, one_to(2));
}

TEST(Projection, AHandlerThrowingANonExceptionIsAFailureNotACrash) {
  projection_fixture p;
  auto calls = std::make_shared<int>(0);
  projection_options opts;
  opts.max_retries = 0;
  ASSERT_TRUE(p.add(projection::in_memory(
    "p",
    [calls](const auto&) {
      if (++*calls == 1)
        throw 42;
    },
    opts)));
  p.deposit("acct-1", 1);
  auto s = p.status("p");
  EXPECT_EQ(s.state, projection_state::failed);
  EXPECT_EQ(s.error_position, 1);
  ASSERT_TRUE(p.control("p", projection_op::retry));
  EXPECT_EQ(p.status("p").state, projection_state::live);
  EXPECT_EQ(p.status("p").checkpoint, 2);
  EXPECT_TRUE(p.status("p").last_error.empty()); // past the failed event
}

TEST(Projection, DiscardDeletesADeadLetter) {
  projection_fixture p;
  projection_options opts;
  opts.max_retries = 0;
  opts.on_error = error_policy::dead_letter;
  auto rec = p.add_recorder("p", opts);
  rec->fail_at = {1};
  p.deposit("acct-1", 1);
  auto letters = p.catalog().dead_letters("p");
  ASSERT_EQ(letters->size(), 1u);
  auto id = letters->front().id;
  ASSERT_TRUE(p.ask<bool>(es::projections::discard_atom::value, id));
  EXPECT_TRUE(p.catalog().dead_letters("p")->empty());
  auto again = p.ask<bool>(es::projections::discard_atom::value, id);
  EXPECT_EQ(code_of(again.error()), ec::not_found);
}

TEST(Projection, UndecodableEventsGetThePolicyWithoutRetries) {
  projection_fixture p;
  auto sum = std::make_shared<int64_t>(0);
  projection_options opts;
  opts.max_retries = 5;
  opts.on_error = error_policy::dead_letter;
  auto def = projection::in_memory_of<bank::account>(
    "typed",
    [sum](const bank::account::event& e, const auto&) {
      if (auto* d = std::get_if<bank::deposited>(&e))
        *sum += d->amount;
    },
    opts);
  ASSERT_TRUE(p.add(std::move(def)));
  p.deposit("acct-1", 1);
  auto bad = es::persistence::new_event{};
  bad.event_type = "deposited";
  bad.payload = {{"amount", "not a number"}};
  (void) p.fx().store().inner().append("acct-1", "account",
                                       es::persistence::expected_version::any(),
                                       {bad});
  p.deposit("acct-2", 1);
  EXPECT_EQ(*sum, 2);
  auto letters = p.catalog().dead_letters("typed");
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ(letters->front().global_position, 3);
  EXPECT_NE(letters->front().error.find("position 3"), std::string::npos)
    << letters->front().error;
}

TEST(Projection, PauseHoldsEventsUntilResume) {
  projection_fixture p;
  auto rec = p.add_recorder("p");
  p.deposit("acct-1", 1);
  ASSERT_TRUE(p.control("p", projection_op::pause));
  EXPECT_EQ((*p.catalog().find("p"))->state, projection_state::paused);
  p.deposit("acct-1", 2);
  p.append_direct("acct-x", 2);
  p.wake();
  EXPECT_EQ(rec->positions, one_to(2));
  EXPECT_EQ(p.status("p").state, projection_state::paused);
  EXPECT_EQ(p.status("p").lag, 4);
  ASSERT_TRUE(p.control("p", projection_op::resume));
  EXPECT_EQ(rec->positions, one_to(6));
  EXPECT_EQ(p.status("p").state, projection_state::live);
}

TEST(Projection, ResetClearsAndPausesRebuildReplaysEverything) {
  projection_fixture p;
  auto rec = p.add_recorder("p");
  p.deposit("acct-1", 2);
  ASSERT_TRUE(p.control("p", projection_op::reset));
  EXPECT_EQ(rec->resets, 1);
  EXPECT_TRUE(rec->positions.empty());
  auto s = p.status("p");
  EXPECT_EQ(s.state, projection_state::paused);
  EXPECT_EQ(s.checkpoint, 0);
  EXPECT_EQ((*p.catalog().find("p"))->checkpoint, 0);
  ASSERT_TRUE(p.control("p", projection_op::resume));
  EXPECT_EQ(rec->positions, one_to(3));
  ASSERT_TRUE(p.control("p", projection_op::rebuild));
  EXPECT_EQ(rec->resets, 2);
  EXPECT_EQ(rec->positions, one_to(3));
  EXPECT_EQ(p.status("p").state, projection_state::live);
}

TEST(Projection, RequestsQueuedInTheCatalogAreApplied) {
  projection_fixture p;
  auto rec = p.add_recorder("p");
  ASSERT_TRUE(p.catalog().request("p", projection_op::pause));
  caf::anon_send(p.manager(), es::projections::requested_atom::value,
                 std::string{"p"});
  p.fx().sched().run();
  EXPECT_EQ(p.status("p").state, projection_state::paused);
  EXPECT_FALSE(*p.catalog().take_request("p")); // taken
  EXPECT_EQ((*p.catalog().find("p"))->applied_id, 1);
  // A request nobody announced is found by the poll.
  ASSERT_TRUE(p.catalog().request("p", projection_op::resume));
  p.tick();
  EXPECT_EQ(p.status("p").state, projection_state::live);
  auto rec_after = *p.catalog().find("p");
  EXPECT_EQ(rec_after->applied_id, 2);
  EXPECT_EQ(rec_after->applied_error, "");
}

TEST(Projection, WorkANodeTookAndDidNotFinishIsReportedOrRequeued) {
  projection_fixture p;
  auto& catalog = p.catalog();
  ASSERT_TRUE(catalog.register_projection("p"));
  auto id = catalog.request("p", projection_op::rebuild);
  ASSERT_TRUE(id);
  ASSERT_TRUE(*catalog.take_request("p")); // by a node that then died
  es::persistence::dead_letter d;
  d.projection = "p";
  d.global_position = 1;
  d.stream_id = "acct-1";
  d.event_type = "account_opened";
  auto letter = catalog.add_dead_letter(d);
  ASSERT_TRUE(letter);
  ASSERT_TRUE(catalog.request_retry(*letter));
  ASSERT_EQ(*catalog.take_retry_requests("p"), std::vector<int64_t>{*letter});
  projection_options opts;
  opts.resume_from_checkpoint = true; // keeps its dead letters
  p.add_recorder("p", opts);
  auto rec = *catalog.find("p");
  EXPECT_EQ(rec->applied_id, *id);
  EXPECT_NE(rec->applied_error.find("stopped before it finished"),
            std::string::npos)
    << rec->applied_error;
  // (The retry was requested again, and this node ran it: the event is
  // not in the store, so it failed with that reason.)
  auto after = *catalog.find_dead_letter(*letter);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->retry, es::persistence::retry_state::none);
  EXPECT_NE(after->error.find("not in the store"), std::string::npos)
    << after->error;
}

TEST(Projection, AQueuedRequestThatFailsRecordsWhy) {
  projection_fixture p;
  auto rec = p.add_recorder("p");
  p.deposit("acct-1", 2);
  rec->reset_fails = true;
  auto id = p.catalog().request("p", projection_op::rebuild);
  ASSERT_TRUE(id);
  caf::anon_send(p.manager(), es::projections::requested_atom::value,
                 std::string{"p"});
  p.fx().sched().run();
  auto after = *p.catalog().find("p");
  EXPECT_EQ(after->applied_id, *id);
  EXPECT_NE(after->applied_error.find("reset refused"), std::string::npos)
    << after->applied_error;
  EXPECT_EQ(rec->positions, one_to(3)); // nothing was cleared
}

TEST(Projection, DeadLetterRetriesQueuedInTheCatalogAreRedriven) {
  projection_fixture p;
  projection_options opts;
  opts.max_retries = 0;
  opts.on_error = error_policy::dead_letter;
  auto rec = p.add_recorder("p", opts);
  rec->fail_at = {1, 2};
  p.deposit("acct-1", 2);
  auto letters = *p.catalog().dead_letters("p");
  ASSERT_EQ(letters.size(), 2u);
  // Still failing: the retry runs, fails, and the letter stays with the new
  // error and no retry pending.
  ASSERT_TRUE(p.catalog().request_retry(letters[0].id));
  caf::anon_send(p.manager(), es::projections::requested_atom::value,
                 std::string{"p"});
  p.fx().sched().run();
  auto first = *p.catalog().find_dead_letter(letters[0].id);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->retry, es::persistence::retry_state::none);
  EXPECT_NE(first->error.find("failed again"), std::string::npos)
    << first->error;
  // Fixed: a retry found by the poll (no notification) is applied and the
  // letter removed; the other letter is left alone.
  rec->failing = false;
  ASSERT_TRUE(p.catalog().request_retry(letters[0].id));
  p.tick();
  EXPECT_EQ(rec->positions, (std::vector<int64_t>{3, 1}));
  EXPECT_FALSE(*p.catalog().find_dead_letter(letters[0].id));
  EXPECT_TRUE(*p.catalog().find_dead_letter(letters[1].id));
  // The manager is still there (the redrives' replies went nowhere else).
  EXPECT_EQ(p.status("p").state, projection_state::live);
}

TEST(Projection, APausedProjectionStaysPausedWhenStartedAgain) {
  projection_fixture p;
  ASSERT_TRUE(p.catalog().register_projection("p"));
  ASSERT_TRUE(p.catalog().set_state("p", projection_state::paused));
  p.deposit("acct-1", 1);
  auto rec = p.add_recorder("p");
  EXPECT_TRUE(rec->positions.empty());
  EXPECT_EQ(p.status("p").state, projection_state::paused);
}

TEST(Projection, CheckpointsOfInMemoryProjectionsAreStoredForStatus) {
  projection_fixture p;
  projection_options opts;
  opts.checkpoint_every = 4;
  auto rec = p.add_recorder("p", opts);
  p.deposit("acct-1", 5); // 6 events
  EXPECT_GE((*p.catalog().find("p"))->checkpoint, 4);
}

TEST(Projection, BadRequestsGetClearErrors) {
  projection_fixture p;
  (void) p.add_recorder("p");
  auto dup = p.add(projection::in_memory("p", [](const auto&) {}));
  EXPECT_EQ(code_of(dup.error()), ec::invalid_argument);
  auto unnamed = p.add(projection::in_memory("", [](const auto&) {}));
  EXPECT_EQ(code_of(unnamed.error()), ec::invalid_argument);
  auto no_handler = p.add(projection::in_memory("q", nullptr));
  EXPECT_EQ(code_of(no_handler.error()), ec::invalid_argument);
  auto pg = p.add(projection::postgres("r", [](auto&, const auto&) {}));
  EXPECT_EQ(code_of(pg.error()), ec::invalid_argument);
  EXPECT_NE(es::test::message_of(pg.error()).find("PostgreSQL"),
            std::string::npos);
  auto unknown = p.control("nope", projection_op::pause);
  EXPECT_EQ(code_of(unknown.error()), ec::not_found);
  auto no_letter = p.ask<bool>(es::projections::redrive_atom::value,
                               int64_t{42});
  EXPECT_EQ(code_of(no_letter.error()), ec::not_found);
  auto bad_id = p.ask<bool>(es::projections::discard_atom::value, int64_t{0});
  EXPECT_EQ(code_of(bad_id.error()), ec::invalid_argument);
}
