// PostgreSQL-only behaviour of projections: the read model writer moves the
// checkpoint and the read model together (DESIGN.md invariant 6), dead
// letters, reset, the catalog's tables (and their upgrade) and its atomic
// take_request and take_retry_requests.
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "es/persistence/postgres_catalog.hpp"
#include "support/stores.hpp"

using namespace es;
using namespace es::persistence;

namespace {

using update_fn = postgres_read_model::update_fn;

// Adds `amount` to `account` in the read model table `balances`.
update_fn deposit(std::string account, int64_t amount) {
  return [account, amount](pqxx::transaction_base& txn) {
    txn.exec_params("INSERT INTO balances VALUES ($1, $2)"
                    " ON CONFLICT (account) DO UPDATE"
                    " SET amount = balances.amount + excluded.amount",
                    account, amount);
  };
}

dead_letter poison(int64_t position, std::string projection = "balances") {
  recorded_event e;
  e.global_position = position;
  e.event_id = uuid::v7();
  e.stream_id = "acct-" + std::to_string(position);
  e.event_type = "deposited";
  return make_dead_letter(std::move(projection), e, "amount is not a number");
}

class PostgresReadModel : public ::testing::Test {
protected:
  void SetUp() override {
    ES_REQUIRE_DATABASE();
    db_ = std::make_unique<test::pg_schema>();
    catalog_ = db_->open_catalog();
    ASSERT_TRUE(catalog_);
    db_->exec("CREATE TABLE balances (account text PRIMARY KEY,"
              " amount bigint NOT NULL)");
    auto rm = postgres_read_model::open(test::database_url(), db_->options());
    ASSERT_TRUE(rm) << rm.error().to_string();
    rm_ = std::move(*rm);
    ASSERT_TRUE(catalog_->register_projection("balances"));
  }

  int64_t balance(const std::string& account) {
    return db_->query_int("SELECT coalesce(sum(amount), 0) FROM balances"
                          " WHERE account = '" + account + "'");
  }

  int64_t rows() {
    return db_->query_int("SELECT count(*) FROM balances");
  }

  int64_t stored_checkpoint() {
    auto r = rm_->checkpoint("balances");
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : -1;
  }

  std::unique_ptr<test::pg_schema> db_;
  std::unique_ptr<postgres_catalog> catalog_;
  std::unique_ptr<postgres_read_model> rm_;
};

} // namespace

TEST_F(PostgresReadModel, ApplyMovesTheCheckpointAndCommitsTheUpdateTogether) {
  auto r = rm_->apply("balances", 0, 3, deposit("ada", 10));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(balance("ada"), 10);
  EXPECT_EQ(stored_checkpoint(), 3);
  EXPECT_EQ((*catalog_->find("balances"))->checkpoint, 3);
  ASSERT_TRUE(rm_->apply("balances", 3, 5, deposit("ada", 5)));
  EXPECT_EQ(balance("ada"), 15);
  EXPECT_EQ(stored_checkpoint(), 5);
}

TEST_F(PostgresReadModel, ApplyWithAStaleFromIsAConflictAndWritesNothing) {
  ASSERT_TRUE(rm_->apply("balances", 0, 3, deposit("ada", 10)));
  bool called = false;
  auto r = rm_->apply("balances", 0, 4, [&](pqxx::transaction_base& txn) {
    called = true;
    deposit("bob", 99)(txn);
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ec::conflict);
  EXPECT_NE(r.error().message().find("at checkpoint 3, expected 0"),
            std::string::npos)
    << r.error().message();
  EXPECT_FALSE(called);
  EXPECT_EQ(balance("bob"), 0);
  EXPECT_EQ(stored_checkpoint(), 3);
}

TEST_F(PostgresReadModel, ApplyOfAnUnregisteredProjectionIsNotFound) {
  auto r = rm_->apply("ledger", 0, 1, deposit("ada", 1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ec::not_found);
  EXPECT_NE(r.error().message().find("'ledger'"), std::string::npos);
  EXPECT_EQ(rows(), 0);
  EXPECT_EQ(rm_->checkpoint("ledger").error().code(), ec::not_found);
}

TEST_F(PostgresReadModel, ThrowingUpdateRollsBackAndPropagates) {
  auto throwing = [](pqxx::transaction_base& txn) {
    deposit("ada", 10)(txn);
    throw std::runtime_error("boom");
  };
  EXPECT_THROW((void) rm_->apply("balances", 0, 2, throwing),
               std::runtime_error);
  EXPECT_EQ(rows(), 0);
  EXPECT_EQ(stored_checkpoint(), 0);
  // The connection is still good.
  ASSERT_TRUE(rm_->apply("balances", 0, 2, deposit("ada", 1)));
  EXPECT_EQ(balance("ada"), 1);
}

TEST_F(PostgresReadModel, FailingSqlInTheUpdatePropagatesAsItsOwnException) {
  auto bad_sql = [](pqxx::transaction_base& txn) {
    deposit("ada", 10)(txn);
    txn.exec("SELECT * FROM no_such_table");
  };
  EXPECT_THROW((void) rm_->apply("balances", 0, 2, bad_sql), pqxx::sql_error);
  EXPECT_EQ(rows(), 0);
  EXPECT_EQ(stored_checkpoint(), 0);
  ASSERT_TRUE(rm_->apply("balances", 0, 2, deposit("ada", 1)));
}

TEST_F(PostgresReadModel, TransientDatabaseFailuresInTheUpdateAreUnavailable) {
  // A statement timeout and a serialization failure are the database's,
  // not the update's: `unavailable`, nothing written, retry later.
  auto timeout = [](pqxx::transaction_base& txn) {
    deposit("ada", 10)(txn);
    txn.exec("SET LOCAL statement_timeout = 10");
    txn.exec("SELECT pg_sleep(1)");
  };
  auto r = rm_->apply("balances", 0, 2, timeout);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ec::unavailable) << r.error().to_string();
  auto serialization = [](pqxx::transaction_base& txn) {
    deposit("ada", 10)(txn);
    txn.exec("DO $$ BEGIN RAISE EXCEPTION 'retry me'"
             " USING ERRCODE = 'serialization_failure'; END $$");
  };
  r = rm_->apply("balances", 0, 2, serialization);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ec::unavailable) << r.error().to_string();
  EXPECT_EQ(rows(), 0);
  EXPECT_EQ(stored_checkpoint(), 0);
  ASSERT_TRUE(rm_->apply("balances", 0, 2, deposit("ada", 1)));
}

TEST_F(PostgresReadModel, ApplyWithPoisonRecordsTheDeadLetter) {
  auto d = poison(4);
  ASSERT_TRUE(rm_->apply("balances", 0, 4, deposit("ada", 3), &d));
  EXPECT_EQ(balance("ada"), 3);
  EXPECT_EQ(stored_checkpoint(), 4);
  auto letters = catalog_->dead_letters("balances");
  ASSERT_TRUE(letters);
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ(letters->front().global_position, 4);
  EXPECT_EQ(letters->front().event_id, d.event_id);
  EXPECT_EQ(letters->front().error, "amount is not a number");
  // The same poison again (a rerun after a crash) keeps one row; an empty
  // update writes nothing but the checkpoint.
  ASSERT_TRUE(rm_->apply("balances", 4, 4, {}, &d));
  EXPECT_EQ(catalog_->dead_letters("balances")->size(), 1u);
}

TEST_F(PostgresReadModel, RedriveRunsTheUpdateAndDeletesTheDeadLetter) {
  auto d = poison(2);
  ASSERT_TRUE(rm_->apply("balances", 0, 2, {}, &d));
  auto id = catalog_->dead_letters("balances")->front().id;
  auto throwing = [](pqxx::transaction_base&) {
    throw std::logic_error("still broken");
  };
  EXPECT_THROW((void) rm_->redrive(id, throwing), std::logic_error);
  EXPECT_TRUE(*catalog_->find_dead_letter(id));
  ASSERT_TRUE(rm_->redrive(id, deposit("ada", 7)));
  EXPECT_EQ(balance("ada"), 7);
  EXPECT_FALSE(*catalog_->find_dead_letter(id));
  EXPECT_EQ(stored_checkpoint(), 2);
  auto again = rm_->redrive(id, deposit("ada", 7));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ec::not_found);
  EXPECT_EQ(balance("ada"), 7);
}

TEST_F(PostgresReadModel, ResetRunsClearAndSetsTheCheckpointToZero) {
  auto d = poison(6);
  auto other = poison(6, "ledger");
  ASSERT_TRUE(rm_->apply("balances", 0, 6, deposit("ada", 4), &d));
  ASSERT_TRUE(catalog_->add_dead_letter(other));
  auto r = rm_->reset("balances", [](pqxx::transaction_base& txn) {
    txn.exec("DELETE FROM balances");
  });
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(rows(), 0);
  EXPECT_EQ(stored_checkpoint(), 0);
  // Its dead letters go with the read model (a redrive after the rebuild
  // could apply an event twice); other projections keep theirs.
  EXPECT_TRUE(catalog_->dead_letters("balances")->empty());
  EXPECT_EQ(catalog_->dead_letters("ledger")->size(), 1u);
  EXPECT_EQ(rm_->reset("ledger", {}).error().code(), ec::not_found);
}

TEST_F(PostgresReadModel, ResetWhoseClearThrowsChangesNothing) {
  ASSERT_TRUE(rm_->apply("balances", 0, 6, deposit("ada", 4)));
  auto throwing = [](pqxx::transaction_base& txn) {
    txn.exec("DELETE FROM balances");
    throw std::runtime_error("no");
  };
  EXPECT_THROW((void) rm_->reset("balances", throwing), std::runtime_error);
  EXPECT_EQ(balance("ada"), 4);
  EXPECT_EQ(stored_checkpoint(), 6);
}

// Two runners of one projection: the second waits for the first one's row
// lock (or comes later) and finds the checkpoint moved.
TEST_F(PostgresReadModel, ConcurrentRunnerFindsTheCheckpointMoved) {
  auto other = postgres_read_model::open(test::database_url(), db_->options());
  ASSERT_TRUE(other);
  result<void> second;
  std::thread runner;
  auto first = rm_->apply("balances", 0, 1, [&](pqxx::transaction_base& txn) {
    deposit("ada", 1)(txn);
    runner = std::thread{[&] {
      second = (*other)->apply("balances", 0, 1, deposit("bob", 1));
    }};
  });
  runner.join();
  ASSERT_TRUE(first) << first.error().to_string();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ec::conflict);
  EXPECT_EQ(balance("ada"), 1);
  EXPECT_EQ(balance("bob"), 0);
}

TEST_F(PostgresReadModel, BadArgumentsAreInvalid) {
  auto bad = [](const result<void>& r) {
    return !r && r.error().code() == ec::invalid_argument;
  };
  auto d = poison(3, "ledger");
  EXPECT_TRUE(bad(rm_->apply("", 0, 1, {})));
  EXPECT_TRUE(bad(rm_->apply(std::string(300, 'x'), 0, 1, {})));
  EXPECT_TRUE(bad(rm_->apply("balances", -1, 1, {})));
  EXPECT_TRUE(bad(rm_->apply("balances", 5, 4, {})));
  EXPECT_TRUE(bad(rm_->apply("balances", 0, 3, {}, &d)));
  EXPECT_TRUE(bad(rm_->redrive(0, {})));
  EXPECT_TRUE(bad(rm_->reset("", {})));
  EXPECT_EQ(stored_checkpoint(), 0);
  EXPECT_TRUE(catalog_->dead_letters()->empty());
}

TEST(PostgresProjections, OpenOnAnUnmigratedSchemaIsInvalidArgument) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto rm = postgres_read_model::open(test::database_url(), db.options());
  ASSERT_FALSE(rm);
  EXPECT_EQ(rm.error().code(), ec::invalid_argument);
  EXPECT_NE(rm.error().message().find("migrate"), std::string::npos);
  auto catalog = postgres_catalog::open(test::database_url(), db.options());
  ASSERT_FALSE(catalog);
  EXPECT_EQ(catalog.error().code(), ec::invalid_argument);
  // Nothing was created on the way.
  EXPECT_EQ(db.query_int("SELECT count(*) FROM pg_tables"
                         " WHERE schemaname = current_schema()"),
            0);
}

TEST(PostgresProjections, TakeRequestGoesToExactlyOneOfTwoCatalogs) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto a = db.open_catalog();
  auto b = db.open_catalog();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->register_projection("balances"));
  for (int round = 0; round < 50; ++round) {
    ASSERT_TRUE(a->request("balances", projection_op::pause));
    std::atomic<int> taken{0};
    auto take = [&](projection_catalog& c) {
      auto r = c.take_request("balances");
      ASSERT_TRUE(r) << r.error().to_string();
      if (*r)
        ++taken;
    };
    std::thread other{[&] { take(*b); }};
    take(*a);
    other.join();
    ASSERT_EQ(taken.load(), 1) << "round " << round;
  }
}

TEST(PostgresProjections, EachRetryRequestGoesToExactlyOneOfTwoCatalogs) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto a = db.open_catalog();
  auto b = db.open_catalog();
  ASSERT_TRUE(a && b);
  std::vector<int64_t> ids;
  for (int64_t position = 1; position <= 3; ++position) {
    auto id = a->add_dead_letter(poison(position));
    ASSERT_TRUE(id) << id.error().to_string();
    ids.push_back(*id);
  }
  for (int round = 0; round < 50; ++round) {
    for (auto id : ids)
      ASSERT_TRUE(a->request_retry(id));
    std::vector<int64_t> got_a, got_b;
    auto take = [](projection_catalog& c, std::vector<int64_t>& got) {
      auto r = c.take_retry_requests("balances");
      ASSERT_TRUE(r) << r.error().to_string();
      got = *r;
    };
    std::thread other{[&] { take(*b, got_b); }};
    take(*a, got_a);
    other.join();
    auto all = got_a;
    all.insert(all.end(), got_b.begin(), got_b.end());
    std::sort(all.begin(), all.end());
    ASSERT_EQ(all, ids) << "round " << round;
  }
}

TEST(PostgresProjections, TablesMatchTheSchemaContract) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  ASSERT_TRUE(db.open());
  pqxx::connection conn{test::database_url()};
  pqxx::read_transaction txn{conn};
  auto columns = [&](const std::string& table) {
    std::vector<std::string> got;
    for (const auto& row : txn.exec_params(
           "SELECT column_name, data_type, is_nullable"
           " FROM information_schema.columns WHERE table_schema = $1"
           " AND table_name = $2 ORDER BY ordinal_position",
           db.name(), table))
      got.push_back(row[0].as<std::string>() + " " + row[1].as<std::string>()
                    + " " + row[2].as<std::string>());
    return got;
  };
  EXPECT_EQ(columns("es_projections"),
            (std::vector<std::string>{
              "name text NO", "state text NO", "checkpoint bigint NO",
              "last_error text NO", "error_position bigint NO",
              "requested text YES",
              "updated_at timestamp with time zone NO",
              "request_id bigint NO",
              "applied_id bigint NO",
              "applied_error text NO"}));
  EXPECT_EQ(columns("es_dead_letters"),
            (std::vector<std::string>{
              "id bigint NO", "projection text NO", "global_position bigint NO",
              "event_id uuid NO", "stream_id text NO", "event_type text NO",
              "error text NO", "recorded_at timestamp with time zone NO",
              "retry text YES"}));
}

// A database from before migration 3 (retry requests) upgrades in place:
// its dead letters stay, unmarked, and can be marked afterwards.
TEST(PostgresProjections, MigrationThreeKeepsOldDeadLettersUnmarked) {
  ES_REQUIRE_DATABASE();
  test::pg_schema db;
  auto catalog = db.open_catalog();
  ASSERT_TRUE(catalog);
  auto id = catalog->add_dead_letter(poison(4));
  ASSERT_TRUE(id) << id.error().to_string();
  catalog.reset();
  db.exec("ALTER TABLE es_dead_letters DROP COLUMN retry");
  db.exec("ALTER TABLE es_projections DROP COLUMN request_id,"
          " DROP COLUMN applied_id, DROP COLUMN applied_error");
  db.exec("DELETE FROM es_schema_migrations WHERE version = 3");
  auto applied = postgres_store::migrate(test::database_url(), db.options(),
                                         false);
  ASSERT_TRUE(applied) << applied.error().to_string();
  ASSERT_EQ(applied->size(), 1u);
  EXPECT_EQ(applied->front().version, 3);
  EXPECT_EQ(applied->front().name,
            "operator request ids, dead letter retry requests");
  catalog = db.open_catalog();
  ASSERT_TRUE(catalog);
  auto found = catalog->find_dead_letter(*id);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->global_position, 4);
  EXPECT_EQ((*found)->retry, retry_state::none);
  ASSERT_TRUE(catalog->request_retry(*id));
  auto taken = catalog->take_retry_requests("balances");
  ASSERT_TRUE(taken);
  EXPECT_EQ(*taken, std::vector<int64_t>{*id});
}
