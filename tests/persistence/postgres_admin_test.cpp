// postgres_admin: the counts `eventsource status` shows, and the stream and
// snapshot summaries of `streams list` and `snapshots list`.
#include <gtest/gtest.h>

#include "es/persistence/postgres_admin.hpp"
#include "support/stores.hpp"

using namespace es;
using namespace es::persistence;

namespace {

new_event event(const char* type) {
  new_event e;
  e.event_type = type;
  e.payload = {{"n", 1}};
  return e;
}

std::unique_ptr<postgres_admin> open_admin(const test::pg_schema& db) {
  auto admin = postgres_admin::open(test::database_url(), db.options());
  if (!admin) {
    ADD_FAILURE() << admin.error().to_string();
    return nullptr;
  }
  return std::move(*admin);
}

// Two accounts (3 events) and one order (1 event), a snapshot of acct-1.
void seed(postgres_store& store) {
  auto any = expected_version::any();
  ASSERT_TRUE(store.append("acct-2", "account", any, {event("opened")}));
  ASSERT_TRUE(store.append("acct-1", "account", any,
                           {event("opened"), event("deposited")}));
  ASSERT_TRUE(store.append("order-1", "order", any, {event("placed")}));
  snapshot s;
  s.stream_id = "acct-1";
  s.stream_type = "account";
  s.version = 2;
  s.schema_version = 3;
  s.state = {{"balance", 10}};
  ASSERT_TRUE(store.save_snapshot(s));
}

} // namespace

TEST(PostgresAdmin, CountsStreamsEventsAndSnapshots) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto store = db.open();
  auto admin = open_admin(db);
  ASSERT_TRUE(store && admin);
  auto empty = admin->counts();
  ASSERT_TRUE(empty) << empty.error().to_string();
  EXPECT_EQ(empty->streams, 0);
  EXPECT_EQ(empty->events, 0);
  seed(*store);
  auto c = admin->counts();
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->streams, 3);
  EXPECT_EQ(c->events, 4);
  EXPECT_EQ(c->snapshots, 1);
}

TEST(PostgresAdmin, ListsStreamsByTypeWithLimit) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto store = db.open();
  auto admin = open_admin(db);
  ASSERT_TRUE(store && admin);
  seed(*store);
  auto all = admin->streams();
  ASSERT_TRUE(all) << all.error().to_string();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].stream_id, "acct-1");
  EXPECT_EQ((*all)[0].version, 2);
  EXPECT_EQ((*all)[2].stream_type, "order");
  auto accounts = admin->streams("account", 1);
  ASSERT_TRUE(accounts);
  ASSERT_EQ(accounts->size(), 1u);
  EXPECT_EQ((*accounts)[0].stream_id, "acct-1");
  auto bad = admin->streams("", 0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ec::invalid_argument);
}

TEST(PostgresAdmin, ListsSnapshotsWithoutState) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto store = db.open();
  auto admin = open_admin(db);
  ASSERT_TRUE(store && admin);
  seed(*store);
  auto snaps = admin->snapshots("account");
  ASSERT_TRUE(snaps) << snaps.error().to_string();
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_EQ((*snaps)[0].stream_id, "acct-1");
  EXPECT_EQ((*snaps)[0].version, 2);
  EXPECT_EQ((*snaps)[0].schema_version, 3);
  EXPECT_GT((*snaps)[0].state_bytes, 0);
  auto orders = admin->snapshots("order");
  ASSERT_TRUE(orders);
  EXPECT_TRUE(orders->empty());
}

TEST(PostgresAdmin, RefusesAnUnmigratedSchema) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db; // empty: not migrated
  auto admin = postgres_admin::open(test::database_url(), db.options());
  ASSERT_FALSE(admin);
  EXPECT_EQ(admin.error().code(), ec::invalid_argument);
}
