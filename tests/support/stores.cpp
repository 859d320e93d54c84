#include "support/stores.hpp"

#include <atomic>
#include <cstdlib>
#include <unistd.h>

#include <pqxx/pqxx>

#include "es/persistence/memory_store.hpp"

namespace es::test {

std::string database_url() {
  const char* url = std::getenv("ES_DATABASE_URL");
  return url ? url : "";
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string{ci} == "true";
}

namespace {

std::string next_schema_name() {
  static std::atomic<int> counter{0};
  return "es_test_" + std::to_string(::getpid()) + "_"
         + std::to_string(++counter);
}

} // namespace

pg_schema::pg_schema() : name_(next_schema_name()) {
  pqxx::connection conn{database_url()};
  pqxx::work txn{conn};
  txn.exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
  txn.exec("CREATE SCHEMA " + name_);
  txn.commit();
}

pg_schema::~pg_schema() {
  try {
    pqxx::connection conn{database_url()};
    pqxx::work txn{conn};
    txn.exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    txn.commit();
  } catch (const std::exception&) {
    // The server may be down on purpose; the schema is dropped on the next
    // run's clean-up of the throwaway server anyway.
  }
}

std::string pg_schema::url() const {
  auto url = database_url();
  url += url.find('?') == std::string::npos ? '?' : '&';
  return url + "options=-csearch_path%3D" + name_;
}

persistence::postgres_options pg_schema::options() const {
  persistence::postgres_options opts;
  opts.schema = name_;
  return opts;
}

std::unique_ptr<persistence::postgres_store> pg_schema::open() const {
  auto store = persistence::postgres_store::open(database_url(), options());
  if (!store) {
    ADD_FAILURE() << "cannot open postgres_store: "
                  << store.error().to_string();
    return nullptr;
  }
  return std::move(*store);
}

std::unique_ptr<persistence::postgres_catalog>
pg_schema::open_catalog() const {
  if (!open())
    return nullptr;
  auto catalog = persistence::postgres_catalog::open(database_url(), options());
  if (!catalog) {
    ADD_FAILURE() << "cannot open postgres_catalog: "
                  << catalog.error().to_string();
    return nullptr;
  }
  return std::move(*catalog);
}

void pg_schema::exec(const std::string& sql) const {
  pqxx::connection conn{database_url()};
  pqxx::work txn{conn};
  txn.exec("SET LOCAL search_path TO " + name_);
  txn.exec(sql);
  txn.commit();
}

int64_t pg_schema::query_int(const std::string& sql) const {
  pqxx::connection conn{database_url()};
  pqxx::read_transaction txn{conn};
  txn.exec("SET LOCAL search_path TO " + name_);
  return txn.exec1(sql)[0].as<int64_t>(0);
}

std::unique_ptr<persistence::event_store>
make_store(const std::string& kind, std::unique_ptr<pg_schema>& schema_holder) {
  if (kind == "memory")
    return std::make_unique<persistence::memory_store>();
  schema_holder = std::make_unique<pg_schema>();
  return schema_holder->open();
}

std::unique_ptr<persistence::projection_catalog>
make_catalog(const std::string& kind,
             std::unique_ptr<pg_schema>& schema_holder) {
  if (kind == "memory")
    return std::make_unique<persistence::memory_catalog>();
  schema_holder = std::make_unique<pg_schema>();
  return schema_holder->open_catalog();
}

bool can_control_server() {
  return std::getenv("ES_PG_CONTROL") != nullptr;
}

void control_server(const std::string& cmd) {
  auto script = std::getenv("ES_PG_CONTROL");
  ASSERT_NE(script, nullptr);
  auto line = std::string{script} + " " + cmd + " 2>/dev/null";
  ASSERT_EQ(std::system(line.c_str()), 0) << "scripts/pg " << cmd << " failed";
}

} // namespace es::test
