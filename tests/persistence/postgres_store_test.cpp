// PostgreSQL-only behaviour: the schema contract, migrations, rows written by
// hand, outages, gapless positions under concurrent writers, and big
// batches (COPY) that collide, fail or lose their connection.
#include <atomic>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "es/persistence/event_registry.hpp"
#include "es/persistence/postgres_store.hpp"
#include "support/stores.hpp"

using namespace es;
using namespace es::persistence;

namespace {

struct deposited {
  static constexpr const char* type_name = "deposited";
  int64_t amount = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(deposited, amount)

using bank_event = std::variant<deposited>;

new_event deposit(int64_t amount) {
  return make_event(deposited{amount});
}

} // namespace

TEST(PostgresStore, EventsTableMatchesTheSchemaContract) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto store = db.open();
  ASSERT_TRUE(store);
  pqxx::connection conn{test::database_url()};
  pqxx::read_transaction txn{conn};
  auto rows = txn.exec_params(
    "SELECT column_name, data_type, is_nullable, coalesce(column_default, '')"
    " FROM information_schema.columns WHERE table_schema = $1"
    " AND table_name = 'es_events' ORDER BY ordinal_position",
    db.name());
  std::vector<std::string> got;
  for (const auto& row : rows)
    got.push_back(row[0].as<std::string>() + " " + row[1].as<std::string>()
                  + " " + row[2].as<std::string>() + " "
                  + row[3].as<std::string>());
  std::vector<std::string> want{
    "global_position bigint NO ",
    "event_id uuid NO ",
    "stream_id text NO ",
    "stream_type text NO ",
    "version bigint NO ",
    "event_type text NO ",
    "schema_version integer NO 1",
    "payload jsonb NO ",
    "metadata jsonb NO '{}'::jsonb",
    "recorded_at timestamp with time zone NO now()",
  };
  EXPECT_EQ(got, want);
  auto uniques = txn.exec_params(
    "SELECT count(*) FROM pg_indexes WHERE schemaname = $1"
    " AND tablename = 'es_events' AND indexdef LIKE '%UNIQUE%'"
    " AND (indexdef LIKE '%(event_id)%'"
    " OR indexdef LIKE '%(stream_id, version)%'"
    " OR indexdef LIKE '%(global_position)%')",
    db.name());
  EXPECT_EQ(uniques[0][0].as<int>(), 3);
}

TEST(PostgresStore, MigrationsAreRecordedAndRunOnce) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto pending = postgres_store::migrate(test::database_url(), db.options(),
                                         true);
  ASSERT_TRUE(pending) << pending.error().to_string();
  ASSERT_EQ(pending->size(), static_cast<size_t>(postgres_store::schema_version()));
  EXPECT_EQ(pending->front().version, 1);
  ASSERT_GE(pending->size(), 2u);
  EXPECT_EQ((*pending)[1].version, 2);
  EXPECT_EQ((*pending)[1].name, "projections and dead letters");
  auto applied = postgres_store::migrate(test::database_url(), db.options(),
                                         false);
  ASSERT_TRUE(applied);
  EXPECT_EQ(applied->size(), pending->size());
  auto again = postgres_store::migrate(test::database_url(), db.options(),
                                       false);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
  pqxx::connection conn{test::database_url()};
  pqxx::read_transaction txn{conn};
  auto rows = txn.exec("SELECT count(*), max(version) FROM " + db.name()
                       + ".es_schema_migrations");
  EXPECT_EQ(rows[0][0].as<int>(), postgres_store::schema_version());
  EXPECT_EQ(rows[0][1].as<int>(), postgres_store::schema_version());
}

TEST(PostgresStore, RefusesAnUnmigratedSchemaWhenMigrationIsOff) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto opts = db.options();
  opts.migrate = false;
  auto store = postgres_store::open(test::database_url(), opts);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ec::invalid_argument);
  EXPECT_NE(store.error().message().find("migrate"), std::string::npos);
}

TEST(PostgresStore, RefusesASchemaNewerThanTheProgram) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  ASSERT_TRUE(db.open());
  db.exec("INSERT INTO es_schema_migrations (version, name)"
          " VALUES (9999, 'from the future')");
  auto store = postgres_store::open(test::database_url(), db.options());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ec::invalid_argument);
  EXPECT_NE(store.error().message().find("newer"), std::string::npos);
}

TEST(PostgresStore, HandWrittenBadRowsReadAsCorruptEventsAtTheirPosition) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto store = db.open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->append("acct-1", "account", expected_version::no_stream(),
                            {deposit(5)}));
  // Position 2: a type nobody knows. 3: a payload of the wrong shape.
  // 4: a payload that is a JSON string holding broken JSON text.
  db.exec("INSERT INTO es_events (global_position, event_id, stream_id,"
          " stream_type, version, event_type, payload) VALUES"
          " (2, gen_random_uuid(), 'acct-1', 'account', 2, 'mystery', '{}'),"
          " (3, gen_random_uuid(), 'acct-1', 'account', 3, 'deposited',"
          "  '{\"amount\": \"ten\"}'),"
          " (4, gen_random_uuid(), 'acct-1', 'account', 4, 'deposited',"
          "  '\"{amount: 1\"');"
          " UPDATE es_head SET position = 4");
  auto events = store->read_stream("acct-1");
  ASSERT_TRUE(events) << events.error().to_string();
  ASSERT_EQ(events->size(), 4u);
  event_registry registry;
  auto good = registry.decode<bank_event>((*events)[0]);
  ASSERT_TRUE(good);
  EXPECT_EQ(std::get<deposited>(*good).amount, 5);
  for (size_t i = 1; i < 4; ++i) {
    auto bad = registry.decode<bank_event>((*events)[i]);
    ASSERT_FALSE(bad) << "position " << i + 1;
    EXPECT_EQ(bad.error().code(), ec::corrupt_event);
    EXPECT_NE(bad.error().message().find("global position "
                                         + std::to_string(i + 1)),
              std::string::npos)
      << bad.error().message();
  }
  // The feed keeps going past them: a reader decides what to do per event.
  auto page = store->read_all(0, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->events.size(), 4u);
  EXPECT_TRUE(page->at_head);
}

TEST(PostgresStore, UnreachableDatabaseIsAClearErrorNotAHang) {
  auto opts = postgres_options{};
  opts.connect_timeout_seconds = 2;
  // Port 1 is closed: connecting fails at once with libpq's reason.
  auto store = postgres_store::open("postgresql://es@127.0.0.1:1/es", opts);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ec::unavailable);
  EXPECT_NE(store.error().message().find("127.0.0.1"), std::string::npos)
    << store.error().message();
  auto any = open_store("postgresql://es@127.0.0.1:1/es");
  ASSERT_FALSE(any);
  EXPECT_EQ(any.error().code(), ec::unavailable);
}

TEST(PostgresStore, OpenStoreRejectsUnknownSchemes) {
  auto store = open_store("mysql://localhost/db");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ec::invalid_argument);
}

TEST(PostgresStore, OutageIsUnavailableThenRecoversAfterRestart) {
  ES_REQUIRE_DATABASE();
  ES_REQUIRE_PG_CONTROL();
  test::pg_schema db;
  auto store = db.open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->append("acct-1", "account", expected_version::any(),
                            {deposit(1)}));
  test::control_server("stop");
  auto appended = store->append("acct-1", "account", expected_version::any(),
                                {deposit(2)});
  auto read = store->read_stream("acct-1");
  auto head = store->head_position();
  auto reopened = postgres_store::open(test::database_url(), db.options());
  test::control_server("start");
  ASSERT_FALSE(appended);
  EXPECT_EQ(appended.error().code(), ec::unavailable);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), ec::unavailable);
  ASSERT_FALSE(head);
  EXPECT_EQ(head.error().code(), ec::unavailable);
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code(), ec::unavailable);
  // The same store object reconnects on its next call.
  auto again = store->append("acct-1", "account", expected_version::exact(1),
                             {deposit(3)});
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->version, 2);
  auto events = store->read_stream("acct-1");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].payload, json({{"amount", 3}}));
}

TEST(PostgresStore, CheckpointWrittenInTheCallersTransaction) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto store = db.open();
  ASSERT_TRUE(store);
  {
    auto conn = std::make_unique<pqxx::connection>(test::database_url());
    pqxx::work txn{*conn};
    txn.exec("SET LOCAL search_path TO " + db.name());
    postgres_store::write_checkpoint(txn, "balances", 41);
    txn.abort();
  }
  EXPECT_EQ(*store->checkpoint("balances"), 0);
  {
    pqxx::connection conn{test::database_url()};
    pqxx::work txn{conn};
    txn.exec("SET LOCAL search_path TO " + db.name());
    postgres_store::write_checkpoint(txn, "balances", 42);
    txn.commit();
  }
  EXPECT_EQ(*store->checkpoint("balances"), 42);
}

// Writers append to overlapping streams from their own connections while a
// reader checks, again and again, that what it sees is exactly 1..head:
// no holes, no reordering (DESIGN.md invariant 3).
TEST(PostgresStore, ConcurrentWritersKeepGlobalPositionsGaplessAndOrdered) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  constexpr int writers = 4;
  constexpr int rounds = 500;
  std::atomic<int> writers_done{0};
  std::atomic<int64_t> events_written{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      auto store = db.open();
      for (int i = 0; store && i < rounds; ++i) {
        std::vector<append_request> batch;
        for (int k = 0; k <= (i + w) % 4; ++k) {
          auto stream = "s-" + std::to_string((i * 7 + k * 3 + w) % 16);
          std::vector<new_event> events(1 + (i + k) % 3);
          for (auto& e : events)
            e = deposit(i);
          // Some appends expect the version just read: they race the
          // other writers and may conflict, which must write nothing.
          auto expected = expected_version::any();
          if (k == 0)
            if (auto v = store->stream_version(stream))
              expected = expected_version::exact(*v);
          batch.push_back({stream, "account", expected, std::move(events)});
        }
        for (auto& r : store->append_batch(batch)) {
          if (r)
            events_written += r->last_position - r->first_position + 1;
          else if (r.error().code() != ec::conflict)
            ++failures;
        }
      }
      ++writers_done;
    });
  }
  auto reader = db.open();
  // Returns what is wrong with the feed as one scan sees it, or "".
  auto scan = [&]() -> std::string {
    int64_t next = 1;
    int64_t after = 0;
    for (;;) {
      auto page = reader->read_all(after, 1000);
      if (!page)
        return page.error().to_string();
      for (const auto& e : page->events)
        if (e.global_position != next++)
          return "saw position " + std::to_string(e.global_position)
                 + " where " + std::to_string(next - 1) + " was due";
      after = page->next_after;
      if (page->at_head)
        return after == next - 1 ? "" : "page ended past the events seen";
    }
  };
  int scans = 0;
  std::string problem;
  for (bool last = false; reader && problem.empty() && !last; ++scans) {
    last = writers_done.load() == writers;
    problem = scan();
  }
  for (auto& t : threads)
    t.join();
  ASSERT_TRUE(reader);
  ASSERT_EQ(problem, "") << "in scan " << scans;
  auto head = reader->head_position();
  ASSERT_TRUE(head);
  EXPECT_GT(*head, writers * rounds);
  EXPECT_GT(scans, 1);
  // Every stream's versions are exactly 1..n.
  int64_t total = 0;
  for (int s = 0; s < 16; ++s) {
    auto events = reader->read_stream("s-" + std::to_string(s));
    ASSERT_TRUE(events);
    for (size_t i = 0; i < events->size(); ++i)
      ASSERT_EQ((*events)[i].version, static_cast<int64_t>(i + 1));
    total += static_cast<int64_t>(events->size());
  }
  EXPECT_EQ(total, *head);
  EXPECT_EQ(events_written.load(), *head);
  EXPECT_EQ(failures.load(), 0);
}

// Each store caches the stream versions it wrote; another writer makes that
// cache stale. Appends must still get the right versions and verdicts.
TEST(PostgresStore, TwoWritersOnOneStreamSeeEachOthersAppends) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto a = db.open();
  auto b = db.open();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->append("s", "account", expected_version::no_stream(),
                        {deposit(1)}));
  ASSERT_TRUE(b->append("s", "account", expected_version::exact(1),
                        {deposit(2)}));
  // a still believes the stream is at version 1.
  auto stale = a->append("s", "account", expected_version::exact(1),
                         {deposit(3)});
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), ec::conflict);
  auto fresh = a->append("s", "account", expected_version::exact(2),
                         {deposit(4)});
  ASSERT_TRUE(fresh) << fresh.error().to_string();
  EXPECT_EQ(fresh->version, 3);
  ASSERT_TRUE(b->append("s", "account", expected_version::any(),
                        {deposit(5), deposit(6)}));
  auto any = a->append("s", "account", expected_version::any(), {deposit(7)});
  ASSERT_TRUE(any) << any.error().to_string();
  EXPECT_EQ(any->version, 6);
  EXPECT_EQ(any->first_position, 6);
  auto events = a->read_stream("s");
  ASSERT_TRUE(events);
  std::vector<int64_t> amounts;
  for (const auto& e : *events)
    amounts.push_back(e.payload.at("amount").get<int64_t>());
  EXPECT_EQ(amounts, (std::vector<int64_t>{1, 2, 4, 5, 6, 7}));
}

// -- big batches (100 events): written with COPY, BEGIN to COMMIT in one query

namespace {

// `n` single-event requests for streams `prefix`0 .. `prefix`(n-1).
std::vector<append_request> big_batch(const std::string& prefix, int n,
                                      expected_version expected) {
  std::vector<append_request> out;
  for (int i = 0; i < n; ++i)
    out.push_back({prefix + std::to_string(i), "account", expected,
                   {deposit(i)}});
  return out;
}

// Returns the first error of `results`, or "" when every request succeeded.
std::string first_error(const std::vector<result<append_result>>& results) {
  for (const auto& r : results)
    if (!r)
      return r.error().to_string();
  return "";
}

// Returns the number of requests of `results` that failed with `code`.
size_t failed_with(const std::vector<result<append_result>>& results, ec code) {
  size_t n = 0;
  for (const auto& r : results)
    if (!r && r.error().code() == code)
      ++n;
  return n;
}

const auto no_stream = expected_version::no_stream();

} // namespace

TEST(PostgresStore, BigAppendsGetTheRightVersionsWithAStaleCache) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto a = db.open();
  auto b = db.open();
  ASSERT_TRUE(a && b);
  ASSERT_EQ(first_error(a->append_batch(big_batch("s", 100, no_stream))), "");
  auto second = expected_version::exact(1);
  ASSERT_EQ(first_error(b->append_batch(big_batch("s", 100, second))), "");
  // a still believes every stream is at version 1: its fast path collides,
  // rolls back, and the careful path gives the verdicts.
  auto stale = a->append_batch(big_batch("s", 100, second));
  EXPECT_EQ(failed_with(stale, ec::conflict), 100u);
  auto any = a->append_batch(big_batch("s", 100, expected_version::any()));
  ASSERT_EQ(first_error(any), "");
  for (const auto& r : any)
    EXPECT_EQ(r->version, 3);
  EXPECT_EQ(any.front()->first_position, 201);
  EXPECT_EQ(*a->head_position(), 300);
}

// An error other than a collision fails the batch whole, writes nothing, and
// leaves the connection out of the transaction, ready for the next batch.
TEST(PostgresStore, AFailedBigAppendWritesNothingAndTheNextOneWorks) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto store = db.open();
  ASSERT_TRUE(store);
  db.exec("ALTER TABLE es_events ADD CONSTRAINT small_amounts"
          " CHECK ((payload->>'amount')::int < 90)");
  auto failed = store->append_batch(big_batch("s", 100, no_stream));
  EXPECT_EQ(failed_with(failed, ec::unavailable), 100u);
  EXPECT_NE(failed[0].error().message().find("23514"), std::string::npos)
    << failed[0].error().to_string();
  EXPECT_EQ(*store->head_position(), 0);
  auto written = store->append_batch(big_batch("s", 90, no_stream));
  ASSERT_EQ(first_error(written), "");
  EXPECT_EQ(written.back()->last_position, 90);
  EXPECT_EQ(db.query_int("SELECT position FROM es_head"), 90);
}

// The server ends the store's connection between two batches: the next big
// append is unavailable and writes nothing; the one after reconnects.
TEST(PostgresStore, ABigAppendOnAKilledConnectionIsUnavailableThenReconnects) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto url = test::database_url();
  url += (url.find('?') == std::string::npos ? "?" : "&")
         + std::string{"application_name="} + db.name();
  auto store = postgres_store::open(url, db.options());
  ASSERT_TRUE(store) << store.error().to_string();
  auto& s = **store;
  ASSERT_EQ(first_error(s.append_batch(big_batch("a", 100, no_stream))), "");
  ASSERT_EQ(db.query_int("SELECT count(pg_terminate_backend(pid))"
                         " FROM pg_stat_activity WHERE application_name = '"
                         + db.name() + "'"),
            1);
  auto lost = s.append_batch(big_batch("b", 100, no_stream));
  EXPECT_EQ(failed_with(lost, ec::unavailable), 100u);
  auto again = s.append_batch(big_batch("b", 100, no_stream));
  ASSERT_EQ(first_error(again), "");
  EXPECT_EQ(again.front()->first_position, 101);
  EXPECT_EQ(*s.head_position(), 200);
}
