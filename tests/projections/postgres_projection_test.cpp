// PostgreSQL read models in a real runtime against a real server (threads,
// so the tests wait for conditions with a deadline): exactly once across
// catch-up, live, other writers, one runner at a time with a takeover,
// operator requests through
// the database, poison events, and an outage.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include <pqxx/pqxx>

#include "account.hpp"
#include "es/persistence/postgres_catalog.hpp"
#include "es/runtime.hpp"
#include "support/stores.hpp"

using es::persistence::projection_op;
using es::persistence::projection_state;
using es::projections::error_policy;
using es::projections::event_refs;
using es::projections::projection;
using es::projections::projection_options;

namespace {

using es::test::eventually;

std::unique_ptr<es::runtime> start(const es::test::pg_schema& db,
                                   std::chrono::milliseconds poll
                                   = std::chrono::milliseconds{1000}) {
  es::runtime_options opts;
  opts.store_url = db.url();
  opts.projection_poll = poll;
  auto rt = es::runtime::start(opts);
  if (!rt)
    throw std::runtime_error(to_string(rt.error()));
  return std::move(*rt);
}

// A read model with one row per handled position: applying an event twice
// violates the primary key (the projection would fail).
projection positions_model(const std::string& table,
                           projection_options opts = {},
                           std::set<int64_t> poison = {}) {
  auto p = projection::postgres(
    table,
    [table, poison](pqxx::transaction_base& tx, const event_refs& batch) {
      for (const es::persistence::recorded_event& e : batch) {
        if (poison.count(e.global_position) > 0)
          throw std::runtime_error("poison at "
                                   + std::to_string(e.global_position));
        tx.exec("INSERT INTO " + table + " VALUES ("
                + std::to_string(e.global_position) + ")");
      }
    },
    std::move(opts));
  p.on_reset([table](pqxx::transaction_base& tx) {
    tx.exec("TRUNCATE " + table);
  });
  return p;
}

void deposit(es::runtime& rt, const std::string& id, int n) {
  (void) rt.execute<bank::account>(id, bank::open_account{"x"});
  for (int i = 0; i < n; ++i) {
    auto r = rt.execute<bank::account>(id, bank::deposit{1});
    ASSERT_TRUE(r) << to_string(r.error());
  }
}

es::projections::projection_status status_of(es::runtime& rt,
                                             const std::string& name) {
  auto all = rt.projections();
  if (all)
    for (auto& s : *all)
      if (s.name == name)
        return s;
  return {};
}

// True when `table` holds exactly the positions 1..head.
bool holds_one_to_head(const es::test::pg_schema& db,
                       const std::string& table) {
  auto head = db.query_int("SELECT position FROM es_head");
  return head > 0
         && db.query_int("SELECT count(*) FROM " + table) == head
         && db.query_int("SELECT coalesce(max(pos), 0) FROM " + table) == head;
}

} // namespace

TEST(PostgresProjection, CatchesUpThenFollowsLiveExactlyOnce) {
  ES_REQUIRE_DATABASE();
  es::test::pg_schema db;
  auto rt = start(db);
  db.exec("CREATE TABLE seen (pos bigint PRIMARY KEY)");
  deposit(*rt, "acct-1", 20);
  ASSERT_TRUE(rt->add_projection(positions_model("seen")));
  deposit(*rt, "acct-2", 20);
  EXPECT_TRUE(eventually([&] { return holds_one_to_head(db, "seen"); }));
  EXPECT_TRUE(eventually([&] {
    auto s = status_of(*rt, "seen");
    return s.state == projection_state::live && s.lag == 0;
  }));
  EXPECT_EQ(db.query_int("SELECT checkpoint FROM es_projections"
                         " WHERE name = 'seen'"),
            db.query_int("SELECT position FROM es_head"));
}

TEST(PostgresProjection, EventsOfAnotherProcessArriveThroughNotify) {
  ES_REQUIRE_DATABASE();
  es::test::pg_schema db;
  // An hour between polls: only a notification can bring the events.
  auto rt = start(db, std::chrono::hours{1});
  db.exec("CREATE TABLE seen (pos bigint PRIMARY KEY)");
  ASSERT_TRUE(rt->add_projection(positions_model("seen")));
  auto other = es::persistence::postgres_store::open(db.url());
  ASSERT_TRUE(other);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE((*other)->append("elsewhere", "account",
                                 es::persistence::expected_version::any(),
                                 {es::persistence::make_event(
                                   bank::deposited{1})}));
  EXPECT_TRUE(eventually([&] { return holds_one_to_head(db, "seen"); }));
}

TEST(PostgresProjection, OneNodeRunsAProjectionAnotherTakesOverWhenItGoes) {
  ES_REQUIRE_DATABASE();
  es::test::pg_schema db;
  auto a = start(db, std::chrono::milliseconds{100});
  auto b = start(db, std::chrono::milliseconds{100});
  db.exec("CREATE TABLE seen (pos bigint PRIMARY KEY)");
  ASSERT_TRUE(a->add_projection(positions_model("seen")));
  ASSERT_TRUE(b->add_projection(positions_model("seen")));
  EXPECT_FALSE(status_of(*a, "seen").standby);
  EXPECT_TRUE(status_of(*b, "seen").standby); // a holds the lease
  EXPECT_FALSE(b->control("seen", projection_op::pause)); // not b's to run
  for (int i = 0; i < 10; ++i) {
    deposit(*a, "a-" + std::to_string(i), 3);
    deposit(*b, "b-" + std::to_string(i), 3);
  }
  EXPECT_TRUE(eventually([&] { return holds_one_to_head(db, "seen"); }));
  a.reset(); // the node that ran it stops
  deposit(*b, "b-after", 3);
  EXPECT_TRUE(eventually([&] {
    auto s = status_of(*b, "seen");
    return !s.standby && s.state == projection_state::live && s.lag == 0;
  }));
  EXPECT_TRUE(holds_one_to_head(db, "seen")); // each event once, none lost
}

TEST(PostgresProjection, PoisonEventIsDeadLetteredInTheSameTransaction) {
  ES_REQUIRE_DATABASE();
  es::test::pg_schema db;
  auto rt = start(db);
  db.exec("CREATE TABLE seen (pos bigint PRIMARY KEY)");
  projection_options opts;
  opts.max_retries = 1;
  opts.backoff = std::chrono::milliseconds{10};
  opts.on_error = error_policy::dead_letter;
  deposit(*rt, "acct-1", 5); // positions 1..6
  ASSERT_TRUE(rt->add_projection(positions_model("seen", opts, {4})));
  EXPECT_TRUE(eventually([&] { return status_of(*rt, "seen").lag == 0; }));
  EXPECT_EQ(db.query_int("SELECT count(*) FROM seen"), 5);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM seen WHERE pos = 4"), 0);
  EXPECT_EQ(db.query_int("SELECT global_position FROM es_dead_letters"
                         " WHERE projection = 'seen'"),
            4);
  auto letters = rt->dead_letters("seen");
  ASSERT_TRUE(letters);
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_NE(letters->front().error.find("poison at 4"), std::string::npos);
  EXPECT_EQ(status_of(*rt, "seen").state, projection_state::live);
}

TEST(PostgresProjection, StopPolicyFailsAndRecordsTheErrorInTheCatalog) {
  ES_REQUIRE_DATABASE();
  es::test::pg_schema db;
  auto rt = start(db);
  db.exec("CREATE TABLE seen (pos bigint PRIMARY KEY)");
  db.exec("CREATE TABLE other (pos bigint PRIMARY KEY)");
  projection_options opts;
  opts.max_retries = 2;
  opts.backoff = std::chrono::milliseconds{10};
  deposit(*rt, "acct-1", 5);
  ASSERT_TRUE(rt->add_projection(positions_model("seen", opts, {3})));
  ASSERT_TRUE(rt->add_projection(positions_model("other")));
  EXPECT_TRUE(eventually([&] {
    return db.query_int("SELECT count(*) FROM es_projections WHERE name ="
                        " 'seen' AND state = 'failed' AND error_position = 3")
           == 1;
  }));
  EXPECT_EQ(db.query_int("SELECT checkpoint FROM es_projections"
                         " WHERE name = 'seen'"),
            2);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM seen"), 2);
  EXPECT_TRUE(eventually([&] { return holds_one_to_head(db, "other"); }));
}

TEST(PostgresProjection, RequestsThroughTheDatabaseReachTheRunningNode) {
  ES_REQUIRE_DATABASE();
  es::test::pg_schema db;
  auto rt = start(db, std::chrono::hours{1}); // NOTIFY only
  db.exec("CREATE TABLE seen (pos bigint PRIMARY KEY)");
  deposit(*rt, "acct-1", 3);
  ASSERT_TRUE(rt->add_projection(positions_model("seen")));
  EXPECT_TRUE(eventually([&] { return holds_one_to_head(db, "seen"); }));
  auto cli = es::persistence::postgres_catalog::open(db.url());
  ASSERT_TRUE(cli);
  auto state_is = [&](const char* s) {
    return db.query_int(std::string{"SELECT count(*) FROM es_projections"
                                    " WHERE name = 'seen' AND state = '"}
                        + s + "'")
           == 1;
  };
  ASSERT_TRUE((*cli)->request("seen", projection_op::pause));
  EXPECT_TRUE(eventually([&] { return state_is("paused"); }));
  deposit(*rt, "acct-1", 2);
  ASSERT_TRUE((*cli)->request("seen", projection_op::rebuild));
  EXPECT_TRUE(eventually([&] {
    return state_is("live") && holds_one_to_head(db, "seen");
  }));
}

TEST(PostgresProjection, WaitsOutADatabaseOutageAndLosesNothing) {
  ES_REQUIRE_DATABASE();
  ES_REQUIRE_PG_CONTROL();
  es::test::pg_schema db;
  auto rt = start(db, std::chrono::milliseconds{200});
  db.exec("CREATE TABLE seen (pos bigint PRIMARY KEY)");
  ASSERT_TRUE(rt->add_projection(positions_model("seen")));
  deposit(*rt, "acct-1", 3);
  EXPECT_TRUE(eventually([&] { return holds_one_to_head(db, "seen"); }));
  // Events the projection has not handled yet when the database goes.
  ASSERT_TRUE(rt->control("seen", projection_op::pause));
  deposit(*rt, "acct-2", 3);
  es::test::control_server("stop");
  ASSERT_TRUE(rt->control("seen", projection_op::resume));
  auto down = rt->execute<bank::account>("acct-1", bank::deposit{1});
  EXPECT_FALSE(down);
  EXPECT_TRUE(eventually([&] {
    return !status_of(*rt, "seen").last_error.empty(); // it saw the outage
  }));
  es::test::control_server("start");
  // The runtime's connections come back on their next call.
  EXPECT_TRUE(eventually([&] {
    return static_cast<bool>(
      rt->execute<bank::account>("acct-1", bank::deposit{1}));
  }));
  deposit(*rt, "acct-3", 3);
  EXPECT_TRUE(eventually([&] { return holds_one_to_head(db, "seen"); }));
  EXPECT_TRUE(eventually([&] {
    auto s = status_of(*rt, "seen");
    return s.state == projection_state::live && s.lag == 0;
  }));
}
