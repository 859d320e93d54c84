// PostgreSQL notifications: every append that writes events NOTIFYs
// `<schema>.es_events` with the new head, catalog requests and dead letter
// retry requests NOTIFY `<schema>.es_projections` with the projection's
// name, and postgres_listener hears them (and only its own schema's), also
// across a server restart.
#include <chrono>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "es/persistence/postgres_catalog.hpp"
#include "es/persistence/postgres_listener.hpp"
#include "support/stores.hpp"

using namespace es;
using namespace es::persistence;
using namespace std::chrono_literals;

namespace {

using notification = postgres_listener::notification;

new_event deposit(int64_t amount) {
  new_event e;
  e.event_type = "deposited";
  e.payload = {{"amount", amount}};
  return e;
}

std::unique_ptr<postgres_listener> listen(const postgres_options& opts) {
  auto l = postgres_listener::open(test::database_url(), opts);
  if (!l) {
    ADD_FAILURE() << "cannot listen: " << l.error().to_string();
    return nullptr;
  }
  return std::move(*l);
}

// Returns the notifications received until there are `n` of them, or 5 s
// passed (the test then fails on the count). Fails the test on an error.
std::vector<notification> receive(postgres_listener& l, size_t n) {
  std::vector<notification> all;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (all.size() < n && std::chrono::steady_clock::now() < deadline) {
    auto got = l.wait(200ms);
    if (!got) {
      ADD_FAILURE() << "wait: " << got.error().to_string();
      return all;
    }
    all.insert(all.end(), got->begin(), got->end());
  }
  return all;
}

std::vector<std::string> payloads(const std::vector<notification>& ns) {
  std::vector<std::string> out;
  for (const auto& n : ns)
    out.push_back(n.payload);
  return out;
}

} // namespace

TEST(PostgresListener, HearsEveryAppendWithTheNewHeadPosition) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto store = db.open();
  auto l = listen(db.options());
  ASSERT_TRUE(store && l);
  EXPECT_EQ(l->events_channel(), db.name() + ".es_events");
  EXPECT_EQ(l->projections_channel(), db.name() + ".es_projections");
  ASSERT_TRUE(store->append("acct-1", "account", expected_version::any(),
                            {deposit(1), deposit(2), deposit(3)}));
  ASSERT_TRUE(store->append("acct-2", "account", expected_version::any(),
                            {deposit(4)}));
  // A batch of several appends commits once: one notification.
  auto batch = store->append_batch(
    {{"acct-1", "account", expected_version::any(), {deposit(5)}},
     {"acct-3", "account", expected_version::any(), {deposit(6), deposit(7)}}});
  ASSERT_TRUE(batch[0] && batch[1]);
  auto got = receive(*l, 3);
  EXPECT_EQ(payloads(got), (std::vector<std::string>{"3", "4", "7"}));
  for (const auto& n : got)
    EXPECT_EQ(n.channel, l->events_channel());
}

// A store whose cached stream version is stale fails on the fast path and
// appends on the careful path: that path notifies too.
TEST(PostgresListener, BothAppendPathsNotify) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto a = db.open();
  auto b = db.open();
  auto l = listen(db.options());
  ASSERT_TRUE(a && b && l);
  ASSERT_TRUE(a->append("s", "account", expected_version::any(), {deposit(1)}));
  ASSERT_TRUE(b->append("s", "account", expected_version::any(), {deposit(2)}));
  auto careful = a->append("s", "account", expected_version::any(),
                           {deposit(3)});
  ASSERT_TRUE(careful) << careful.error().to_string();
  EXPECT_EQ(careful->version, 3);
  EXPECT_EQ(payloads(receive(*l, 3)),
            (std::vector<std::string>{"1", "2", "3"}));
}

TEST(PostgresListener, AppendsThatWriteNothingSendNothing) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto store = db.open();
  auto l = listen(db.options());
  ASSERT_TRUE(store && l);
  auto e = deposit(1);
  ASSERT_TRUE(store->append("s", "account", expected_version::no_stream(), {e}));
  EXPECT_EQ(payloads(receive(*l, 1)), std::vector<std::string>{"1"});
  auto retry = store->append("s", "account", expected_version::no_stream(),
                             {e});
  ASSERT_TRUE(retry);
  EXPECT_TRUE(retry->duplicate);
  EXPECT_FALSE(store->append("s", "account", expected_version::exact(7),
                             {deposit(2)}));
  // Notifications arrive in commit order: the next one is this append's.
  ASSERT_TRUE(store->append("s", "account", expected_version::any(),
                            {deposit(3)}));
  EXPECT_EQ(payloads(receive(*l, 1)), std::vector<std::string>{"2"});
}

TEST(PostgresListener, HearsCatalogRequests) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto catalog = db.open_catalog();
  auto l = listen(db.options());
  ASSERT_TRUE(catalog && l);
  ASSERT_TRUE(catalog->register_projection("bank balances"));
  ASSERT_TRUE(catalog->request("bank balances", projection_op::pause));
  // Not registered: nothing changes, nothing is sent.
  ASSERT_FALSE(catalog->request("ledger", projection_op::pause));
  ASSERT_TRUE(catalog->register_projection("ledger"));
  ASSERT_TRUE(catalog->request("ledger", projection_op::rebuild));
  auto got = receive(*l, 2);
  EXPECT_EQ(payloads(got),
            (std::vector<std::string>{"bank balances", "ledger"}));
  for (const auto& n : got)
    EXPECT_EQ(n.channel, l->projections_channel());
}

// The same channel and payload as a request: the node's listener that
// handles requests also hears retry requests.
TEST(PostgresListener, HearsDeadLetterRetryRequests) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto catalog = db.open_catalog();
  auto l = listen(db.options());
  ASSERT_TRUE(catalog && l);
  auto letter = dead_letter{};
  letter.projection = "bank balances";
  letter.global_position = 3;
  letter.event_id = uuid::v7();
  letter.stream_id = "acct-1";
  letter.event_type = "deposited";
  letter.error = "boom";
  auto id = catalog->add_dead_letter(letter);
  ASSERT_TRUE(id);
  // No such letter: nothing changes, nothing is sent.
  ASSERT_FALSE(catalog->request_retry(*id + 1));
  ASSERT_TRUE(catalog->request_retry(*id));
  auto got = receive(*l, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].channel, l->projections_channel());
  EXPECT_EQ(got[0].payload, "bank balances");
}

TEST(PostgresListener, InterruptEndsAWaitAndKeepsNotifications) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto l = listen(db.options());
  ASSERT_TRUE(l);
  // Before a wait: the next wait returns at once (it would block for an
  // hour otherwise, and ctest's timeout would fail the test).
  l->interrupt();
  auto got = l->wait(std::chrono::hours{1});
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
  // From another thread, during a wait.
  std::thread stopper{[&] {
    std::this_thread::sleep_for(50ms);
    l->interrupt();
  }};
  got = l->wait(std::chrono::hours{1});
  stopper.join();
  ASSERT_TRUE(got);
  // Notifications still arrive afterwards.
  auto store = db.open();
  ASSERT_TRUE(store->append("s", "t", expected_version::any(), {deposit(1)}));
  EXPECT_EQ(payloads(receive(*l, 1)), (std::vector<std::string>{"1"}));
}

// Both listeners see the appends of both schemas committed in this order:
// `mine` must hear only the second.
TEST(PostgresListener, HearsNothingOfAnotherSchema) {
  ES_REQUIRE_DATABASE();
  test::pg_schema theirs_db;
  test::pg_schema mine_db;
  auto theirs = theirs_db.open();
  auto mine = mine_db.open();
  auto l = listen(mine_db.options());
  ASSERT_TRUE(theirs && mine && l);
  ASSERT_TRUE(theirs->append("s", "account", expected_version::any(),
                             {deposit(1), deposit(2)}));
  ASSERT_TRUE(mine->append("s", "account", expected_version::any(),
                           {deposit(3)}));
  auto got = receive(*l, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].channel, mine_db.name() + ".es_events");
  EXPECT_EQ(got[0].payload, "1");
}

// Channels have at most 63 bytes: a long schema name stands in as its MD5
// digest, on both sides.
TEST(PostgresListener, LongSchemaNamesStillNotify) {
  ES_REQUIRE_DATABASE();
  auto opts = postgres_options{};
  opts.schema = "es_test_" + std::to_string(::getpid()) + "_long_";
  opts.schema.resize(63, 'x');
  struct drop_schema {
    std::string name;
    ~drop_schema() {
      try {
        pqxx::connection conn{test::database_url()};
        pqxx::work txn{conn};
        txn.exec("DROP SCHEMA IF EXISTS " + txn.quote_name(name) + " CASCADE");
        txn.commit();
      } catch (const std::exception&) {
        // nop: the throwaway server goes away anyway
      }
    }
  } guard{opts.schema};
  auto store = postgres_store::open(test::database_url(), opts);
  ASSERT_TRUE(store) << store.error().to_string();
  auto l = listen(opts);
  ASSERT_TRUE(l);
  {
    pqxx::connection conn{test::database_url()};
    pqxx::read_transaction txn{conn};
    auto md5 = txn.exec_params1("SELECT md5($1)", opts.schema)[0].as<std::string>();
    EXPECT_EQ(l->events_channel(), md5 + ".es_events");
    EXPECT_EQ(l->projections_channel(), md5 + ".es_projections");
  }
  ASSERT_TRUE((*store)->append("s", "account", expected_version::any(),
                               {deposit(1)}));
  auto got = receive(*l, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].channel, l->events_channel());
}

TEST(PostgresListener, UnreachableDatabaseIsUnavailable) {
  auto opts = postgres_options{};
  opts.connect_timeout_seconds = 2;
  auto l = postgres_listener::open("postgresql://es@127.0.0.1:1/es", opts);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code(), ec::unavailable);
}

TEST(PostgresListener, OutageIsUnavailableThenEverythingReconnects) {
  ES_REQUIRE_DATABASE();
  ES_REQUIRE_PG_CONTROL();
  test::pg_schema db;
  auto store = db.open();
  auto catalog = db.open_catalog();
  auto rm = postgres_read_model::open(test::database_url(), db.options());
  auto l = listen(db.options());
  ASSERT_TRUE(store && catalog && rm && l);
  ASSERT_TRUE(catalog->register_projection("balances"));
  test::control_server("stop");
  auto lost = l->wait(2s);
  auto still_down = l->wait(100ms);
  auto head = store->head_position();
  auto listed = catalog->list();
  auto applied = (*rm)->apply("balances", 0, 1, {});
  test::control_server("start");
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code(), ec::unavailable);
  ASSERT_FALSE(still_down);
  EXPECT_EQ(still_down.error().code(), ec::unavailable);
  ASSERT_FALSE(head);
  EXPECT_EQ(head.error().code(), ec::unavailable);
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().code(), ec::unavailable);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), ec::unavailable);
  // The next calls connect again; the listener listens again.
  auto back = l->wait(10ms);
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_TRUE(store->append("s", "account", expected_version::any(),
                            {deposit(1)}));
  EXPECT_EQ(payloads(receive(*l, 1)), std::vector<std::string>{"1"});
  ASSERT_TRUE(catalog->list());
  ASSERT_TRUE((*rm)->apply("balances", 0, 1, {}));
}
