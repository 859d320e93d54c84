// store_bench: append throughput of postgres_store next to raw libpqxx.
//
//   build/bin/store_bench --db "$(scripts/pg url)" [--events 100000]
//       [--streams 10000] [--batch 100] [--rounds 5] [--json]
//       [--only insert|copy|store]   (one of them alone, for profiling)
//
// Measures, in the same run and on the same server, the same rows (all nine
// columns the store writes, into the same table definition):
//   raw_insert  as multi-row INSERT transactions (prepared, plain libpqxx)
//   raw_copy    as COPY transactions (plain libpqxx)
//   store       single-event appends through append_batch, `batch` per call
// and prints events/s and the store's ratio to raw_insert (target >= 1.0).
// Each round runs the three back to back on fresh tables; the headline ratio
// is the median of the rounds' ratios (this machine is noisy), the rates
// are the best round of each.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "es/persistence/postgres_store.hpp"

using namespace es::persistence;
using clock_type = std::chrono::steady_clock;

namespace {

struct config {
  std::string db;
  int events = 100'000;
  int streams = 10'000;
  int batch = 100;
  int rounds = 5;
  bool json_output = false;
  std::string only; // "insert", "copy" or "store": that one alone (profiling)
};

// One row as the raw baselines write it.
struct row {
  std::string position, event_id, stream_id, version, payload;
};

std::vector<row> make_rows(const config& cfg) {
  std::vector<row> rows;
  rows.reserve(cfg.events);
  for (int i = 0; i < cfg.events; ++i)
    rows.push_back({std::to_string(i + 1), uuid::v7().to_string(),
                    "acct-" + std::to_string(i % cfg.streams),
                    std::to_string(i / cfg.streams + 1),
                    json{{"amount", i}}.dump()});
  return rows;
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

void reset_schema(pqxx::connection& conn, const std::string& schema) {
  pqxx::work txn{conn};
  txn.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  txn.exec("CREATE SCHEMA " + schema);
  txn.exec("SET LOCAL search_path TO " + schema);
  txn.exec(
    "CREATE TABLE es_events (global_position bigint PRIMARY KEY,"
    " event_id uuid NOT NULL UNIQUE, stream_id text NOT NULL,"
    " stream_type text NOT NULL, version bigint NOT NULL,"
    " event_type text NOT NULL, schema_version int NOT NULL DEFAULT 1,"
    " payload jsonb NOT NULL, metadata jsonb NOT NULL DEFAULT '{}',"
    " recorded_at timestamptz NOT NULL DEFAULT now(),"
    " UNIQUE (stream_id, version))");
  txn.commit();
}

void drop_schema(pqxx::connection& conn, const std::string& schema) {
  pqxx::work txn{conn};
  txn.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  txn.commit();
}

// Returns events/s for multi-row INSERTs of `cfg.batch` rows per transaction.
double raw_insert(const config& cfg, const std::vector<row>& rows) {
  pqxx::connection conn{cfg.db};
  reset_schema(conn, "es_bench_raw");
  conn.prepare("path", "SET search_path TO es_bench_raw");
  { pqxx::nontransaction t{conn}; t.exec_prepared("path"); }
  std::string sql = "INSERT INTO es_events (global_position, event_id,"
                    " stream_id, stream_type, version, event_type,"
                    " schema_version, payload, metadata) VALUES ";
  for (int i = 0; i < cfg.batch; ++i) {
    sql += i ? ",(" : "(";
    for (int k = 1; k <= 9; ++k)
      sql += "$" + std::to_string(i * 9 + k) + (k < 9 ? "," : ")");
  }
  conn.prepare("insert", sql);
  const std::string account = "account", deposited = "deposited", one = "1",
                    empty = "{}";
  auto start = clock_type::now();
  std::vector<std::string> params;
  for (size_t i = 0; i < rows.size(); i += cfg.batch) {
    params.clear();
    for (size_t k = i; k < i + cfg.batch; ++k)
      for (auto* field : {&rows[k].position, &rows[k].event_id,
                          &rows[k].stream_id, &account, &rows[k].version,
                          &deposited, &one, &rows[k].payload, &empty})
        params.push_back(*field);
    pqxx::work txn{conn};
    txn.exec_prepared("insert", pqxx::prepare::make_dynamic_params(params));
    txn.commit();
  }
  auto rate = rows.size() / seconds_since(start);
  drop_schema(conn, "es_bench_raw");
  return rate;
}

// Returns events/s for COPY of `cfg.batch` rows per transaction.
double raw_copy(const config& cfg, const std::vector<row>& rows) {
  pqxx::connection conn{cfg.db};
  reset_schema(conn, "es_bench_raw");
  { pqxx::nontransaction t{conn}; t.exec("SET search_path TO es_bench_raw"); }
  std::vector<std::string> columns{"global_position", "event_id", "stream_id",
                                   "stream_type", "version", "event_type",
                                   "schema_version", "payload", "metadata"};
  auto start = clock_type::now();
  for (size_t i = 0; i < rows.size(); i += cfg.batch) {
    pqxx::work txn{conn};
    pqxx::stream_to copy{txn, "es_events", columns};
    for (size_t k = i; k < i + cfg.batch; ++k)
      copy << std::make_tuple(rows[k].position, rows[k].event_id,
                              rows[k].stream_id, "account", rows[k].version,
                              "deposited", 1, rows[k].payload, "{}");
    copy.complete();
    txn.commit();
  }
  auto rate = rows.size() / seconds_since(start);
  drop_schema(conn, "es_bench_raw");
  return rate;
}

// Returns events/s for single-event appends through append_batch.
double store_append(const config& cfg) {
  postgres_options opts;
  opts.schema = "es_bench_store";
  {
    pqxx::connection conn{cfg.db};
    drop_schema(conn, opts.schema);
  }
  auto store = postgres_store::open(cfg.db, opts);
  if (!store) {
    std::cerr << "store_bench: " << store.error().to_string() << '\n';
    std::exit(1);
  }
  std::vector<std::vector<append_request>> batches;
  for (int i = 0; i < cfg.events; i += cfg.batch) {
    std::vector<append_request> batch;
    for (int k = i; k < i + cfg.batch; ++k) {
      int64_t version = k / cfg.streams;
      batch.push_back({"acct-" + std::to_string(k % cfg.streams), "account",
                       expected_version::exact(version),
                       {new_event{uuid::v7(), "deposited", 1,
                                  json{{"amount", k}}, json::object()}}});
    }
    batches.push_back(std::move(batch));
  }
  auto start = clock_type::now();
  for (const auto& batch : batches)
    for (const auto& r : (*store)->append_batch(batch))
      if (!r) {
        std::cerr << "store_bench: append failed: " << r.error().to_string()
                  << '\n';
        std::exit(1);
      }
  auto rate = cfg.events / seconds_since(start);
  pqxx::connection conn{cfg.db};
  drop_schema(conn, opts.schema);
  return rate;
}

config parse(int argc, char** argv) {
  config cfg;
  if (auto url = std::getenv("ES_DATABASE_URL"))
    cfg.db = url;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "store_bench: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--db")
      cfg.db = next();
    else if (arg == "--events")
      cfg.events = std::stoi(next());
    else if (arg == "--streams")
      cfg.streams = std::stoi(next());
    else if (arg == "--batch")
      cfg.batch = std::stoi(next());
    else if (arg == "--rounds")
      cfg.rounds = std::stoi(next());
    else if (arg == "--json")
      cfg.json_output = true;
    else if (arg == "--only")
      cfg.only = next();
    else {
      std::cerr << "usage: store_bench [--db URL] [--events N] [--streams N]"
                   " [--batch N] [--rounds N] [--json]\n"
                   "       [--only insert|copy|store]\n";
      std::exit(2);
    }
  }
  if (cfg.db.empty() || cfg.events <= 0 || cfg.streams <= 0 || cfg.batch <= 0
      || cfg.rounds <= 0 || cfg.events % cfg.batch != 0
      || !(cfg.only.empty() || cfg.only == "insert" || cfg.only == "copy"
           || cfg.only == "store")) {
    std::cerr << "store_bench: need --db (or ES_DATABASE_URL), positive"
                 " numbers, --events a multiple of --batch, and --only one"
                 " of insert, copy, store\n";
    std::exit(2);
  }
  return cfg;
}

} // namespace

int main(int argc, char** argv) {
  auto cfg = parse(argc, argv);
  auto rows = make_rows(cfg);
  double insert = 0, copy = 0, store = 0;
  std::vector<double> ratios; // store / insert, per round
  try {
    if (!cfg.only.empty()) {
      auto rate = cfg.only == "insert" ? raw_insert(cfg, rows)
                  : cfg.only == "copy" ? raw_copy(cfg, rows)
                                       : store_append(cfg);
      std::cout << cfg.only << ": " << static_cast<int>(rate)
                << " events/s\n";
      return 0;
    }
    // Interleave the rounds so that a noisy moment hurts all three alike.
    for (int r = 0; r < cfg.rounds; ++r) {
      auto i = raw_insert(cfg, rows);
      auto s = store_append(cfg);
      auto c = raw_copy(cfg, rows);
      std::cerr << "round " << r + 1 << ": insert " << static_cast<int>(i)
                << ", store " << static_cast<int>(s) << ", copy "
                << static_cast<int>(c) << " events/s\n";
      ratios.push_back(s / i);
      insert = std::max(insert, i);
      store = std::max(store, s);
      copy = std::max(copy, c);
    }
  } catch (const std::exception& ex) {
    std::cerr << "store_bench: " << ex.what() << '\n';
    return 1;
  }
  std::cout.setf(std::ios::fixed);
  std::cout.precision(0);
  std::cout << "store_bench: " << cfg.events << " single-event appends to "
            << cfg.streams << " streams, " << cfg.batch
            << " per transaction, best of " << cfg.rounds << " rounds\n"
            << "  raw multi-row INSERT (libpqxx)  " << insert << " events/s\n"
            << "  raw COPY (libpqxx)              " << copy << " events/s\n"
            << "  postgres_store::append_batch    " << store << " events/s\n";
  std::sort(ratios.begin(), ratios.end());
  auto median = ratios[ratios.size() / 2];
  std::cout.precision(2);
  std::cout << "  ratio store / raw INSERT        " << median
            << "  (median of the rounds' ratios; target >= 1.0)\n"
            << "  ratio of best rates             " << store / insert
            << " (INSERT), " << store / copy << " (COPY)\n";
  if (cfg.json_output)
    std::cout << json{{"name", "store_append"},
                      {"events", cfg.events},
                      {"streams", cfg.streams},
                      {"batch", cfg.batch},
                      {"raw_insert_events_per_second", insert},
                      {"raw_copy_events_per_second", copy},
                      {"events_per_second", store},
                      {"ratio_to_raw_insert", median}}
                   .dump()
              << '\n';
  return 0;
}
