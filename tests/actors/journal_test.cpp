// The journal actor alone, over a store double: group commit, a failing
// request inside a batch, the batch bound, an unavailable store and the bus.
#include <gtest/gtest.h>

#include "actors/fixture.hpp"

using namespace es;
using namespace es::test;
using persistence::append_request;
using persistence::expected_version;

namespace {

using reply = caf::expected<actors::append_reply>;

// An append of `n` events {"i": 1..n} to `stream`.
append_request request(const std::string& stream, size_t n = 1,
                       expected_version ev = expected_version::any(),
                       const std::string& type = "account") {
  append_request r{stream, type, ev, {}};
  for (size_t i = 1; i <= n; ++i)
    r.events.push_back(persistence::new_event{
      persistence::uuid::v7(), "e", 1, {{"i", i}}, persistence::json::object()});
  return r;
}

class JournalActor : public ::testing::Test {
protected:
  using handle_type = decltype(std::declval<caf::scoped_actor&>()->request(
    std::declval<caf::actor>(), caf::timespan{},
    std::declval<actors::append_msg>()));

  explicit JournalActor(fixture_options opts = {}) : fx_(opts) {
    // nop
  }

  handle_type append(append_request req) {
    return self_->request(fx_.journal(), std::chrono::seconds{30},
                          actors::append_msg{std::move(req)});
  }

  // Runs the scheduler and returns the replies, asserting that there is
  // exactly one per request.
  std::vector<reply> run(std::vector<handle_type>& handles) {
    fx_.sched().run();
    std::vector<reply> out;
    // Receiving a reply that never comes would block: check first.
    auto n = self_->mailbox().size();
    if (n != handles.size()) {
      ADD_FAILURE() << n << " replies for " << handles.size() << " requests";
      out.resize(handles.size(), reply{caf::sec::request_timeout});
      handles.clear();
      return out;
    }
    for (auto& h : handles)
      out.push_back(take<actors::append_reply>(h));
    handles.clear();
    return out;
  }

  actor_fixture fx_;
  caf::scoped_actor self_{fx_.sys()};
};

class SmallBatchJournal : public JournalActor {
protected:
  SmallBatchJournal() : JournalActor(options()) {
    // nop
  }

  static fixture_options options() {
    fixture_options opts;
    opts.max_batch = 2;
    return opts;
  }
};

} // namespace

TEST_F(JournalActor, CommitsQueuedAppendsInOneBatch) {
  std::vector<handle_type> hs;
  for (int i = 1; i <= 5; ++i)
    hs.push_back(append(request("s-" + std::to_string(i))));
  auto replies = run(hs);
  EXPECT_EQ(fx_.store().batches, (std::vector<size_t>{5}));
  ASSERT_EQ(replies.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(replies[i]) << to_string(replies[i].error());
    const auto& r = *replies[i];
    EXPECT_EQ(r.result.version, 1);
    EXPECT_EQ(r.result.first_position, i + 1);
    EXPECT_EQ(r.result.last_position, i + 1);
    EXPECT_FALSE(r.result.duplicate);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events.begin()->global_position, i + 1);
    EXPECT_EQ(r.events.begin()->stream_id, "s-" + std::to_string(i + 1));
    EXPECT_EQ(r.events.begin()->version, 1);
    // All slices point into the one committed batch.
    EXPECT_EQ(r.events.batch.get(), replies[0]->events.batch.get());
  }
  EXPECT_EQ(*fx_.store().inner().head_position(), 5);
}

TEST_F(JournalActor, ConflictingAppendFailsAloneAndOthersCommit) {
  ASSERT_TRUE(fx_.store().inner().append("s-2", "account",
                                         expected_version::no_stream(),
                                         request("x").events));
  auto bus = fx_.listen();
  std::vector<handle_type> hs;
  hs.push_back(append(request("s-1", 2, expected_version::no_stream())));
  hs.push_back(append(request("s-2", 1, expected_version::no_stream())));
  hs.push_back(append(request("s-3", 1, expected_version::exact(0))));
  auto replies = run(hs);
  EXPECT_EQ(fx_.store().batches, (std::vector<size_t>{3}));
  ASSERT_TRUE(replies[0]);
  EXPECT_EQ(replies[0]->result.version, 2);
  EXPECT_EQ(replies[0]->result.first_position, 2);
  EXPECT_EQ(replies[0]->result.last_position, 3);
  ASSERT_EQ(replies[0]->events.size(), 2u);
  EXPECT_EQ(replies[0]->events.begin()[1].version, 2);
  EXPECT_EQ(replies[0]->events.begin()[1].payload, (persistence::json{{"i", 2}}));
  ASSERT_FALSE(replies[1]);
  EXPECT_EQ(code_of(replies[1].error()), ec::conflict);
  ASSERT_TRUE(replies[2]);
  EXPECT_EQ(replies[2]->result.version, 1);
  EXPECT_EQ(replies[2]->result.first_position, 4);
  EXPECT_EQ(fx_.store().inner().read_stream("s-2")->size(), 1u);
  // The bus sees the committed events only.
  ASSERT_EQ(bus->size(), 1u);
  std::vector<int64_t> positions;
  for (const auto& e : *bus->front())
    positions.push_back(e.global_position);
  EXPECT_EQ(positions, (std::vector<int64_t>{2, 3, 4}));
}

TEST_F(JournalActor, InvalidRequestFailsAloneAndOthersCommit) {
  std::vector<handle_type> hs;
  hs.push_back(append(request("s-1")));
  hs.push_back(append(request("")));  // no stream id
  hs.push_back(append(request("s-3", 0))); // no events
  hs.push_back(append(request("s-4")));
  auto replies = run(hs);
  ASSERT_TRUE(replies[0]);
  ASSERT_FALSE(replies[1]);
  EXPECT_EQ(code_of(replies[1].error()), ec::invalid_argument);
  ASSERT_FALSE(replies[2]);
  EXPECT_EQ(code_of(replies[2].error()), ec::invalid_argument);
  ASSERT_TRUE(replies[3]);
  EXPECT_EQ(replies[3]->result.first_position, 2);
  EXPECT_EQ(replies[3]->events.begin()->stream_id, "s-4");
  EXPECT_EQ(*fx_.store().inner().head_position(), 2);
}

TEST_F(JournalActor, ExactRetryInTheSameBatchIsADuplicate) {
  auto bus = fx_.listen();
  auto req = request("s-1", 2, expected_version::no_stream());
  std::vector<handle_type> hs;
  hs.push_back(append(req));
  hs.push_back(append(req));
  auto replies = run(hs);
  ASSERT_TRUE(replies[0]);
  ASSERT_TRUE(replies[1]) << to_string(replies[1].error());
  EXPECT_FALSE(replies[0]->result.duplicate);
  EXPECT_TRUE(replies[1]->result.duplicate);
  EXPECT_EQ(replies[1]->result.version, 2);
  EXPECT_EQ(replies[1]->result.first_position, 1);
  EXPECT_TRUE(replies[1]->events.empty());
  EXPECT_EQ(*fx_.store().inner().head_position(), 2);
  ASSERT_EQ(bus->size(), 1u);
  EXPECT_EQ(bus->front()->size(), 2u);
}

TEST_F(SmallBatchJournal, MaxBatchBoundsTheBatchSize) {
  std::vector<handle_type> hs;
  for (int i = 1; i <= 5; ++i)
    hs.push_back(append(request("s-" + std::to_string(i))));
  auto replies = run(hs);
  EXPECT_EQ(fx_.store().batches, (std::vector<size_t>{2, 2, 1}));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(replies[i]);
    EXPECT_EQ(replies[i]->result.first_position, i + 1);
  }
}

TEST_F(JournalActor, UnavailableStoreFailsEveryWaitingRequest) {
  auto bus = fx_.listen();
  fx_.store().fail_appends = true;
  std::vector<handle_type> hs;
  for (int i = 1; i <= 3; ++i)
    hs.push_back(append(request("s-" + std::to_string(i))));
  auto replies = run(hs);
  EXPECT_EQ(fx_.store().batches, (std::vector<size_t>{3}));
  for (auto& r : replies) {
    ASSERT_FALSE(r);
    EXPECT_EQ(code_of(r.error()), ec::unavailable);
  }
  EXPECT_EQ(*fx_.store().inner().head_position(), 0);
  EXPECT_TRUE(bus->empty());
  // The store comes back: the next append commits from position 1.
  fx_.store().fail_appends = false;
  hs.push_back(append(request("s-1")));
  auto again = run(hs);
  ASSERT_TRUE(again[0]);
  EXPECT_EQ(again[0]->result.first_position, 1);
  EXPECT_EQ(bus->size(), 1u);
}

TEST_F(JournalActor, PublishesOneMessagePerBatchAndPerStreamType) {
  auto all = fx_.listen();
  auto accounts = fx_.listen("account");
  auto orders = fx_.listen("order");
  std::vector<handle_type> hs;
  hs.push_back(append(request("a-1", 2)));
  hs.push_back(append(request("o-1", 1, expected_version::any(), "order")));
  hs.push_back(append(request("a-2", 1)));
  run(hs);
  auto positions = [](const actors::event_batch& b) {
    std::vector<int64_t> out;
    for (const auto& e : b)
      out.push_back(e.global_position);
    return out;
  };
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(positions(*all->at(0)), (std::vector<int64_t>{1, 2, 3, 4}));
  ASSERT_EQ(accounts->size(), 1u);
  EXPECT_EQ(positions(*accounts->at(0)), (std::vector<int64_t>{1, 2, 4}));
  for (const auto& e : *accounts->at(0))
    EXPECT_EQ(e.stream_type, "account");
  ASSERT_EQ(orders->size(), 1u);
  EXPECT_EQ(positions(*orders->at(0)), (std::vector<int64_t>{3}));
  EXPECT_EQ(orders->at(0)->front().stream_id, "o-1");
  // A batch of one type reaches that type's group only.
  hs.push_back(append(request("a-3")));
  run(hs);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(positions(*all->at(1)), (std::vector<int64_t>{5}));
  ASSERT_EQ(accounts->size(), 2u);
  EXPECT_EQ(positions(*accounts->at(1)), (std::vector<int64_t>{5}));
  EXPECT_EQ(orders->size(), 1u);
}

// Requests the journal has taken (queued for the next flush) hold response
// promises in its state; if it dies without its exit handler (kill, or an
// exception) they must still be answered, or the aggregates waiting for
// them never hear back.
TEST_F(JournalActor, AnswersTakenAppendsEvenWhenKilled) {
  std::vector<handle_type> hs;
  hs.push_back(append(request("s-1")));
  caf::anon_send_exit(fx_.journal(), caf::exit_reason::kill);
  auto replies = run(hs);
  ASSERT_FALSE(replies[0]);
  EXPECT_EQ(code_of(replies[0].error()), ec::unavailable);
}

TEST_F(JournalActor, CommitsQueuedAppendsBeforeItExits) {
  std::vector<handle_type> hs;
  for (int i = 1; i <= 3; ++i)
    hs.push_back(append(request("s-" + std::to_string(i))));
  caf::anon_send_exit(fx_.journal(), caf::exit_reason::user_shutdown);
  auto replies = run(hs);
  EXPECT_EQ(fx_.store().batches, (std::vector<size_t>{3}));
  for (auto& r : replies)
    EXPECT_TRUE(r);
  EXPECT_EQ(*fx_.store().inner().head_position(), 3);
}

// CAF relays every message to a local group through a hidden broker actor,
// also when nobody joined; the journal sends only to groups an actor joined
// through join_bus, for as long as that actor runs.
TEST_F(JournalActor, PublishesOnlyWhileAnActorJoinedThroughJoinBus) {
  auto& sys = fx_.sys();
  auto all = sys.groups().get_local(actors::bus_group());
  // Records the first position of each batch heard, joined one way or
  // the other.
  auto listener = [](caf::event_based_actor* self,
                     std::shared_ptr<std::vector<int64_t>> out, caf::group grp,
                     bool through_join_bus) -> caf::behavior {
    if (through_join_bus)
      actors::join_bus(self);
    else
      self->join(grp);
    return {[out](std::shared_ptr<const actors::event_batch>& b) {
      out->push_back(b->front().global_position);
    }};
  };
  // An actor joined with plain CAF `join` counts for nothing.
  auto plain = std::make_shared<std::vector<int64_t>>();
  fx_.own(sys.spawn(listener, plain, all, false));
  fx_.sched().run();
  EXPECT_FALSE(actors::has_bus_listeners(all));
  std::vector<handle_type> hs;
  hs.push_back(append(request("s-1")));
  run(hs);
  EXPECT_TRUE(plain->empty()) << "published to a group nobody joined";
  // While one actor joined through join_bus, everyone in the group hears.
  auto joined = std::make_shared<std::vector<int64_t>>();
  auto bus_listener = sys.spawn(listener, joined, all, true);
  fx_.sched().run();
  EXPECT_TRUE(actors::has_bus_listeners(all));
  hs.push_back(append(request("s-2")));
  run(hs);
  EXPECT_EQ(*joined, (std::vector<int64_t>{2}));
  EXPECT_EQ(*plain, (std::vector<int64_t>{2}));
  // When it terminates, the journal stops publishing there.
  caf::anon_send_exit(bus_listener, caf::exit_reason::user_shutdown);
  fx_.sched().run();
  EXPECT_FALSE(actors::has_bus_listeners(all));
  hs.push_back(append(request("s-3")));
  run(hs);
  EXPECT_EQ(*plain, (std::vector<int64_t>{2}));
  EXPECT_EQ(*joined, (std::vector<int64_t>{2}));
}
