// Leases (advisory locks on a connection of their own): one holder at a
// time across connections, released by release() or by the holder's
// connection going away, scoped by schema, and a lost connection reported.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "es/persistence/postgres_lease.hpp"
#include "support/stores.hpp"

using namespace es;
using namespace es::persistence;

namespace {

std::unique_ptr<postgres_lease> lease_in(const test::pg_schema& db) {
  auto l = postgres_lease::open(test::database_url(), db.options());
  if (!l)
    throw std::runtime_error(l.error().to_string());
  return std::move(*l);
}

// The server releases a closed session's locks when its backend exits,
// which happens shortly after the client goes: try for up to 10 s.
bool eventually_acquires(postgres_lease& l, std::string_view name) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  for (;;) {
    auto got = l.try_acquire(name);
    if (got && *got)
      return true;
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
}

} // namespace

TEST(PostgresLease, OneHolderAtATime) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto a = lease_in(db);
  auto b = lease_in(db);
  EXPECT_TRUE(*a->try_acquire("projection:p"));
  EXPECT_FALSE(*b->try_acquire("projection:p"));
  EXPECT_TRUE(*a->try_acquire("projection:p")); // still its own
  EXPECT_TRUE(*b->try_acquire("projection:q"));
  EXPECT_EQ(a->held().count("projection:p"), 1u);
  EXPECT_EQ(b->held().count("projection:p"), 0u);
}

TEST(PostgresLease, ReleaseLetsAnotherTakeIt) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto a = lease_in(db);
  auto b = lease_in(db);
  ASSERT_TRUE(*a->try_acquire("p"));
  ASSERT_TRUE(a->release("p"));
  EXPECT_TRUE(a->held().empty());
  EXPECT_TRUE(*b->try_acquire("p"));
  EXPECT_FALSE(*a->try_acquire("p"));
  EXPECT_TRUE(a->release("never-held")); // nothing to do
}

TEST(PostgresLease, TheHolderGoingAwayReleasesIt) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto a = lease_in(db);
  auto b = lease_in(db);
  ASSERT_TRUE(*a->try_acquire("p"));
  a.reset(); // the process holding it stops
  EXPECT_TRUE(eventually_acquires(*b, "p"));
}

TEST(PostgresLease, SchemasScopeTheNames) {
  ES_REQUIRE_DATABASE();
  test::pg_schema one;
  test::pg_schema two;
  auto a = lease_in(one);
  auto b = lease_in(two);
  EXPECT_TRUE(*a->try_acquire("p"));
  EXPECT_TRUE(*b->try_acquire("p"));
}

TEST(PostgresLease, ALostConnectionIsReportedAndTheLeaseGoes) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto a = lease_in(db);
  auto b = lease_in(db);
  ASSERT_TRUE(*a->try_acquire("p"));
  ASSERT_TRUE(a->check());
  // Another session kills a's backend (as a lost network would).
  db.exec("SELECT pg_terminate_backend(pid) FROM pg_locks"
          " WHERE locktype = 'advisory' AND classid = 25971"
          " AND objid = (hashtext(current_schema() || '.p')::bigint"
          "              & 4294967295)::oid");
  auto lost = a->check();
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code(), ec::unavailable);
  EXPECT_TRUE(a->held().empty());
  EXPECT_TRUE(eventually_acquires(*b, "p"));
  // a reconnects, and finds it taken.
  auto again = a->try_acquire("p");
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_FALSE(*again);
}

TEST(PostgresLease, BadInputAndAnUnreachableServer) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto a = lease_in(db);
  auto empty = a->try_acquire("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), ec::invalid_argument);
  postgres_options opts;
  opts.connect_timeout_seconds = 1;
  auto none = postgres_lease::open("postgresql://u:secret@127.0.0.1:1/x", opts);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ec::unavailable);
}
