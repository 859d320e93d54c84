// Runtimes as cluster members on loopback (real threads and sockets): how
// they find each other, where commands run, what crosses between nodes,
// clients, and the bad cases. `Cluster.*` use the memory store (each member
// has its own: these tests are about routing); `PostgresCluster.*` share a
// real PostgreSQL, the single source of truth. Networking is asynchronous,
// so these tests wait for conditions (es::test::eventually), never sleep.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>

#include "account.hpp"
#include "es/actors/journal.hpp"
#include "es/node_client.hpp"
#include "es/placement.hpp"
#include "es/runtime.hpp"
#include "runtime/cluster_fixture.hpp"
#include "support/stores.hpp"

using bank::account;
using es::ec;
using es::test::eventually;
using namespace cluster_fixture;

TEST(Cluster, MembersFindEachOtherThroughOneSeed) {
  auto a = start_member();
  auto b = start_member({{address(*a)}});
  auto c = start_member({{address(*b)}}); // knows only b
  ASSERT_TRUE(joined({a.get(), b.get(), c.get()}));
  auto seen = a->members();
  ASSERT_TRUE(seen);
  std::vector<std::string> names;
  for (const auto& m : *seen) {
    names.push_back(m.address);
    EXPECT_EQ(m.self, m.address == address(*a));
  }
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::count(names.begin(), names.end(), address(*c)), 1);
}

TEST(Cluster, CommandsRunOnTheirOwnerAndAnswerThroughAnyMember) {
  auto a = start_member();
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  std::vector<std::string> members{address(*a), address(*b)};
  size_t on_b = 0;
  for (int i = 1; i <= 20; ++i) {
    auto id = "acct-" + std::to_string(i);
    auto& via = i % 2 ? *a : *b;
    auto r = via.execute<account>(id, bank::open_account{"ada"});
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(r->version, 1);
    ASSERT_EQ(r->events.size(), 1u);
    EXPECT_EQ(r->events.begin()->stream_id, id);
    EXPECT_EQ(r->events.begin()->event_type, "account_opened");
    EXPECT_EQ(r->events.begin()->payload["owner"], "ada");
    if (es::owner_of(es::placement_key("account", id), members) == address(*b))
      ++on_b;
  }
  EXPECT_GT(on_b, 0u);
  EXPECT_LT(on_b, 20u);
  EXPECT_EQ(b->live_aggregates(), on_b);
  EXPECT_EQ(a->live_aggregates(), 20 - on_b);
  // The state comes back through the member that does not own it.
  auto id = owned_by(address(*b), members);
  ASSERT_TRUE(a->execute<account>(id, bank::deposit{70}));
  auto view = a->inspect<account>(id);
  ASSERT_TRUE(view) << to_string(view.error());
  EXPECT_EQ(view->state.balance, 70);
  EXPECT_EQ(view->version, 2);
  EXPECT_EQ(view->state.owner, "ada");
}

TEST(Cluster, TheOwnersErrorsComeBackUnchanged) {
  auto a = start_member();
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  auto id = owned_by(address(*b), {address(*a), address(*b)});
  auto r = a->execute<account>(id, bank::deposit{5}); // never opened
  ASSERT_FALSE(r);
  auto err = error_of(r.error());
  EXPECT_EQ(err.code(), ec::rejected);
  EXPECT_FALSE(err.message().empty());
  EXPECT_EQ(b->live_aggregates(), 1u);
}

TEST(Cluster, AMemberThatDoesNotHostATypeSaysSo) {
  auto a = start_member();
  auto b = start_member({{address(*a)}, "memory:", false});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  auto id = owned_by(address(*b), {address(*a), address(*b)});
  auto r = a->execute<account>(id, bank::open_account{"ada"});
  ASSERT_FALSE(r);
  auto err = error_of(r.error());
  EXPECT_EQ(err.code(), ec::not_found);
  EXPECT_NE(err.message().find("hosts no aggregate type 'account'"),
            std::string::npos)
    << err.message();
  EXPECT_EQ(b->live_aggregates(), 0u);
}

TEST(Cluster, CommandsWithoutJsonRunOnlyWhereTheyAreOwned) {
  auto a = start_member();
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  std::vector<std::string> members{address(*a), address(*b)};
  std::string here, there;
  for (int i = 1; here.empty() || there.empty(); ++i) {
    auto id = "t-" + std::to_string(i);
    auto owner = es::owner_of(es::placement_key("tally", id), members);
    (owner == address(*a) ? here : there) = id;
  }
  EXPECT_TRUE(a->execute<tally>(here, tally::add{2}));
  auto r = a->execute<tally>(there, tally::add{2});
  ASSERT_FALSE(r);
  auto err = error_of(r.error());
  EXPECT_EQ(err.code(), ec::invalid_argument);
  EXPECT_NE(err.message().find("cannot cross nodes"), std::string::npos)
    << err.message();
  EXPECT_EQ(b->live_aggregates(), 0u);
}

TEST(Cluster, AggregatesThatMoveAwayPassivate) {
  auto a = start_member();
  for (int i = 1; i <= 30; ++i)
    ASSERT_TRUE(a->execute<account>("acct-" + std::to_string(i),
                                    bank::open_account{"ada"}));
  EXPECT_EQ(a->live_aggregates(), 30u);
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  size_t kept = 0;
  for (int i = 1; i <= 30; ++i)
    if (es::owner_of(es::placement_key("account", "acct-" + std::to_string(i)),
                     {address(*a), address(*b)})
        == address(*a))
      ++kept;
  ASSERT_LT(kept, 30u);
  EXPECT_TRUE(eventually([&] { return a->live_aggregates() == kept; }))
    << a->live_aggregates() << " live, " << kept << " kept";
}

TEST(Cluster, AMemberThatLeavesIsRemovedAndItsAggregatesComeBack) {
  log_lines log;
  auto a = start_member({{}, "memory:", true, &log});
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  auto gone = address(*b);
  auto id = owned_by(gone, {address(*a), gone});
  ASSERT_TRUE(a->execute<account>(id, bank::open_account{"ada"}));
  EXPECT_EQ(a->live_aggregates(), 0u);
  b.reset(); // leaves the cluster, then stops
  EXPECT_TRUE(eventually([&] { return member_count(*a) == 1; }));
  EXPECT_TRUE(log.has("member " + gone + " joined"));
  EXPECT_TRUE(log.has("member " + gone + " left"));
  // Runs here now (on a's own memory store: a new account).
  EXPECT_TRUE(a->execute<account>(id, bank::open_account{"bob"}));
  EXPECT_EQ(a->live_aggregates(), 1u);
}

TEST(Cluster, AMemberRestartedOnItsPortRejoins) {
  auto a = start_member();
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  auto port = b->node_port();
  b.reset();
  ASSERT_TRUE(eventually([&] { return member_count(*a) == 1; }));
  es::runtime_options opts;
  opts.node_port = port;
  opts.peers = {address(*a)};
  opts.failure_timeout = std::chrono::milliseconds{1000};
  auto again = es::runtime::start(opts);
  ASSERT_TRUE(again) << to_string(again.error());
  EXPECT_TRUE(joined({a.get(), again->get()}));
}

TEST(Cluster, ClientsSendEverythingThroughTheirNode) {
  auto a = start_member();
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  es::runtime_options opts;
  opts.via = address(*a);
  auto client = es::runtime::start(opts);
  ASSERT_TRUE(client) << to_string(client.error());
  auto& c = **client;
  for (int i = 1; i <= 10; ++i) {
    auto id = "acct-" + std::to_string(i);
    auto r = c.execute<account>(id, bank::open_account{"ada"});
    ASSERT_TRUE(r) << to_string(r.error());
    ASSERT_TRUE(c.execute<account>(id, bank::deposit{i}));
    auto view = c.inspect<account>(id);
    ASSERT_TRUE(view) << to_string(view.error());
    EXPECT_EQ(view->state.balance, i);
  }
  EXPECT_EQ(c.live_aggregates(), 0u);
  EXPECT_EQ(a->live_aggregates() + b->live_aggregates(), 10u);
  EXPECT_GT(b->live_aggregates(), 0u);
  // Streams are read by the node (here: a's own memory store).
  auto id = owned_by(address(*a), {address(*a), address(*b)});
  auto events = c.read_stream(id);
  ASSERT_TRUE(events) << to_string(events.error());
  EXPECT_EQ(events->size(), 2u);
  // The members and projections are the node's.
  EXPECT_EQ(member_count(c), 2u);
  auto statuses = c.projections();
  ASSERT_TRUE(statuses) << to_string(statuses.error());
  auto added = c.add_projection(es::projection::in_memory(
    "p", [](const es::persistence::recorded_event&) {}));
  ASSERT_FALSE(added);
  EXPECT_EQ(error_of(added.error()).code(), ec::invalid_argument);
}

TEST(Cluster, AClientWhoseNodeGoesAwayGetsUnavailableThenReconnects) {
  auto a = start_member();
  es::runtime_options opts;
  opts.via = address(*a);
  auto client = es::runtime::start(opts);
  ASSERT_TRUE(client) << to_string(client.error());
  ASSERT_TRUE((*client)->execute<account>("acct-1", bank::open_account{"x"}));
  auto port = a->node_port();
  a.reset();
  EXPECT_TRUE(eventually([&] {
    auto r = (*client)->execute<account>("acct-1", bank::deposit{1});
    return !r && error_of(r.error()).code() == ec::unavailable;
  }));
  // A node back on that port: the client reconnects by itself.
  es::runtime_options again;
  again.node_port = port;
  auto b = es::runtime::start(again);
  ASSERT_TRUE(b) << to_string(b.error());
  (*b)->host<account>();
  EXPECT_TRUE(eventually([&] {
    return static_cast<bool>(
      (*client)->execute<account>("acct-1", bank::open_account{"y"}));
  }));
}

TEST(Cluster, BadOptionsAreRefused) {
  auto refused = [](es::runtime_options opts, const std::string& part) {
    auto rt = es::runtime::start(opts);
    if (rt)
      return testing::AssertionFailure() << "started";
    auto err = error_of(rt.error());
    if (err.code() != ec::invalid_argument
        || err.message().find(part) == std::string::npos)
      return testing::AssertionFailure() << err.to_string();
    return testing::AssertionSuccess();
  };
  es::runtime_options opts;
  opts.peers = {"127.0.0.1:4710"};
  EXPECT_TRUE(refused(opts, "need a node_port"));
  opts.node_port = 0;
  for (auto bad : {"nope", "127.0.0.1:0", "127.0.0.1:70000", ":4710",
                   "127.0.0.1:"}) {
    opts.peers = {bad};
    EXPECT_TRUE(refused(opts, "is not HOST:PORT")) << bad;
  }
  opts.peers.clear();
  opts.failure_timeout = std::chrono::milliseconds{50};
  EXPECT_TRUE(refused(opts, "failure_timeout"));
  es::runtime_options client;
  client.via = "127.0.0.1";
  EXPECT_TRUE(refused(client, "is not HOST:PORT"));
  client.via = "127.0.0.1:4710";
  client.node_port = 0;
  EXPECT_TRUE(refused(client, "no node_port"));
}

TEST(Cluster, AClientWithNoNodeFailsToStartAtOnce) {
  es::runtime_options opts;
  opts.via = "127.0.0.1:" + std::to_string(closed_port());
  auto rt = es::runtime::start(opts);
  ASSERT_FALSE(rt);
  auto err = error_of(rt.error());
  EXPECT_EQ(err.code(), ec::unavailable);
  EXPECT_NE(err.message().find("cannot reach node " + opts.via),
            std::string::npos)
    << err.message();
}

TEST(Cluster, APeerThatNeverAnswersIsReportedAndDoesNotBlockOthers) {
  // A socket that listens but never accepts or speaks.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto silent = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto a = start_member();
  log_lines log;
  auto b = start_member({{silent, address(*a)}, "memory:", true, &log});
  EXPECT_TRUE(joined({a.get(), b.get()}));
  EXPECT_TRUE(eventually([&] { return log.has("cannot reach " + silent); }));
  EXPECT_TRUE(b->execute<account>("acct-1", bank::open_account{"ada"}));
  close(fd);
}

TEST(Cluster, APortInUseIsAClearError) {
  auto a = start_member();
  es::runtime_options opts;
  opts.node_port = a->node_port();
  auto rt = es::runtime::start(opts);
  ASSERT_FALSE(rt);
  auto err = error_of(rt.error());
  EXPECT_EQ(err.code(), ec::unavailable);
  EXPECT_NE(err.message().find("cannot serve the node on"), std::string::npos)
    << err.message();
}

// Two nodes that each believe they own an aggregate (split views, as during
// a membership change) write to one stream at once: optimistic concurrency
// makes one fail with a conflict, it catches up and retries; the stream
// never forks and every acknowledged deposit is in it.
TEST(PostgresCluster, TwoOwnersOfOneAggregateNeverForkItsStream) {
  ES_REQUIRE_DATABASE();
  es::test::pg_schema db;
  auto a = start_member({{}, db.url()});
  auto b = start_member({{}, db.url()}); // no peers: each owns everything
  ASSERT_TRUE(a->execute<account>("acct-1", bank::open_account{"ada"}));
  // Taking turns: each one's live state is one event behind when its turn
  // comes, so every append first conflicts, then catches up and succeeds.
  for (int64_t v = 2; v <= 11; ++v) {
    auto r = (v % 2 ? *a : *b).execute<account>("acct-1", bank::deposit{1});
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(r->version, v);
  }
  std::atomic<int64_t> acknowledged{10};
  std::atomic<int> conflicts{0};
  std::atomic<int> other_errors{0};
  auto hammer = [&](es::runtime* rt) {
    for (int i = 0; i < 100; ++i) {
      auto r = rt->execute<account>("acct-1", bank::deposit{1});
      if (r)
        ++acknowledged;
      else if (error_of(r.error()).code() == ec::conflict)
        ++conflicts;
      else
        ++other_errors;
    }
  };
  std::thread ta{hammer, a.get()};
  std::thread tb{hammer, b.get()};
  ta.join();
  tb.join();
  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_GT(acknowledged.load(), 0);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM es_events"),
            acknowledged.load() + 1);
  EXPECT_EQ(db.query_int("SELECT max(version) - count(*) FROM es_events "
                         "WHERE stream_id = 'acct-1'"),
            0);
  EXPECT_EQ(db.query_int("SELECT sum((payload->>'amount')::bigint) FROM "
                         "es_events WHERE event_type = 'deposited'"),
            acknowledged.load());
  // Both see the same state once they have caught up.
  for (auto* rt : {a.get(), b.get()}) {
    ASSERT_TRUE(rt->execute<account>("acct-1", bank::deposit{1}));
    auto view = rt->inspect<account>("acct-1");
    ASSERT_TRUE(view);
    EXPECT_EQ(view->version,
              db.query_int("SELECT max(version) FROM es_events"));
  }
}

// Commands through every member of a real cluster land in one store:
// versions and global positions stay gapless.
TEST(PostgresCluster, CommandsThroughAnyMemberShareOneStore) {
  ES_REQUIRE_DATABASE();
  es::test::pg_schema db;
  auto a = start_member({{}, db.url()});
  auto b = start_member({{address(*a)}, db.url()});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  for (int i = 1; i <= 20; ++i) {
    auto id = "acct-" + std::to_string(i);
    ASSERT_TRUE(a->execute<account>(id, bank::open_account{"ada"}));
    ASSERT_TRUE(b->execute<account>(id, bank::deposit{i}));
  }
  EXPECT_EQ(a->live_aggregates() + b->live_aggregates(), 20u);
  EXPECT_GT(a->live_aggregates(), 0u);
  EXPECT_GT(b->live_aggregates(), 0u);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM es_events"), 40);
  EXPECT_EQ(db.query_int("SELECT max(global_position) FROM es_events"), 40);
  auto history = b->read_stream("acct-7");
  ASSERT_TRUE(history);
  EXPECT_EQ(history->size(), 2u);
}

// The journal's batches reach the other members' local bus group (the fast
// path to their projections).
TEST(PostgresCluster, EventsCommittedOnOneMemberReachTheOthersBus) {
  ES_REQUIRE_DATABASE();
  es::test::pg_schema db;
  auto a = start_member({{}, db.url()});
  auto b = start_member({{address(*a)}, db.url()});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  caf::scoped_actor listener{b->system()};
  es::actors::join_bus(listener.ptr());
  auto id = owned_by(address(*a), {address(*a), address(*b)});
  ASSERT_TRUE(a->execute<account>(id, bank::open_account{"ada"}));
  std::shared_ptr<const es::actors::event_batch> got;
  listener->receive(
    [&](std::shared_ptr<const es::actors::event_batch>& batch) {
      got = batch;
    },
    caf::after(std::chrono::seconds{10}) >> [] {});
  ASSERT_TRUE(got) << "no batch arrived";
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->front().stream_id, id);
  EXPECT_EQ(got->front().event_type, "account_opened");
  EXPECT_EQ(got->front().payload["owner"], "ada");
  EXPECT_EQ(got->front().global_position, 1);
}
