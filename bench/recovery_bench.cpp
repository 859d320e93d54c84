// recovery_bench: how fast aggregates recover from PostgreSQL, next to raw
// reads of the same rows.
//
//   build/bin/recovery_bench --db "$(scripts/pg url)" [--long 100000]
//       [--aggregates 100000] [--each 10] [--rounds 5] [--json]
//
// Fills a schema of its own (server-side, fast) with one stream of `long`
// deposits and `aggregates` streams of `each` deposits, then measures in the
// same run, on the same server:
//   replay_long   raw: the long stream's rows, every column, one query
//                 (plain libpqxx, no JSON parsing); runtime: `inspect` of
//                 that account (spawn, read, decode, apply; no snapshot);
//                 the two alternate for `rounds` rounds (a fraction of a
//                 second each), and each reports its median
//   recover_many  raw: keyset pages of 1,000 rows over the many streams;
//                 runtime: `inspect` of every one of them from 16 threads
//                 (each spawns an actor that recovers its stream)
// Targets: replay_long >= 0.5x raw; recover_many: report.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "account.hpp"
#include "es/persistence/postgres_store.hpp"
#include "es/runtime.hpp"
#include "support.hpp"

using bench::clock_type;
using bench::seconds_since;
using es::persistence::json;

namespace {

struct config {
  std::string db;
  int64_t long_events = 100'000;
  int64_t aggregates = 100'000;
  int64_t each = 10;
  int rounds = 5;
  bool json_output = false;
};

const char* schema = "es_bench_recovery";

void fill(const config& cfg) {
  bench::fresh_schema(cfg.db, schema);
  pqxx::connection conn{bench::schema_url(cfg.db, schema)};
  pqxx::work tx{conn};
  // The long stream: positions 1..L, versions 1..L.
  tx.exec_params(
    "INSERT INTO es_events SELECT g, md5('l' || g)::uuid, 'long-1', 'account',"
    " g, 'deposited', 1, jsonb_build_object('amount', g % 100), '{}', now()"
    " FROM generate_series(1, $1::bigint) g",
    cfg.long_events);
  // The many: positions L+1.., round robin over the streams.
  tx.exec_params(
    "INSERT INTO es_events SELECT $1 + g, md5('m' || g)::uuid,"
    " 'acct-' || ((g - 1) % $2), 'account', (g - 1) / $2 + 1, 'deposited', 1,"
    " jsonb_build_object('amount', g % 100), '{}', now()"
    " FROM generate_series(1, $2::bigint * $3) g",
    cfg.long_events, cfg.aggregates, cfg.each);
  tx.exec_params("UPDATE es_head SET position = $1",
                 cfg.long_events + cfg.aggregates * cfg.each);
  tx.commit();
  pqxx::nontransaction nt{conn};
  nt.exec("VACUUM ANALYZE es_events");
}

const char* columns = "global_position, event_id, stream_id, stream_type,"
                      " version, event_type, schema_version, payload,"
                      " metadata, recorded_at";

// Returns events/s of reading the long stream in one query.
double raw_long(const config& cfg) {
  pqxx::connection conn{bench::schema_url(cfg.db, schema)};
  auto start = clock_type::now();
  pqxx::read_transaction tx{conn};
  auto rows = tx.exec(std::string{"SELECT "} + columns
                      + " FROM es_events WHERE stream_id = 'long-1'"
                        " ORDER BY version");
  int64_t bytes = 0;
  for (const auto& row : rows)
    for (const auto& field : row)
      bytes += static_cast<int64_t>(field.size());
  auto secs = seconds_since(start);
  if (static_cast<int64_t>(rows.size()) != cfg.long_events || bytes == 0)
    throw std::runtime_error("raw read of the long stream came up short");
  return static_cast<double>(rows.size()) / secs;
}

// Returns events/s of keyset pages over the many streams' rows.
double raw_many(const config& cfg) {
  pqxx::connection conn{bench::schema_url(cfg.db, schema)};
  conn.prepare("page", std::string{"SELECT "} + columns
                         + " FROM es_events WHERE global_position > $1"
                           " ORDER BY global_position LIMIT 1000");
  auto start = clock_type::now();
  int64_t after = cfg.long_events, n = 0;
  for (;;) {
    pqxx::read_transaction tx{conn};
    auto rows = tx.exec_prepared("page", after);
    if (rows.empty())
      break;
    n += static_cast<int64_t>(rows.size());
    after = rows.back()[0].as<int64_t>();
  }
  return static_cast<double>(n) / seconds_since(start);
}

std::unique_ptr<es::runtime> start_runtime(const config& cfg) {
  es::runtime_options opts;
  opts.store_url = bench::schema_url(cfg.db, schema);
  opts.request_timeout = std::chrono::minutes{5};
  auto rt = es::runtime::start(opts);
  if (!rt)
    throw std::runtime_error(to_string(rt.error()));
  return std::move(*rt);
}

// Returns events/s of recovering the long stream through the runtime.
double runtime_long(const config& cfg) {
  auto rt = start_runtime(cfg);
  auto start = clock_type::now();
  auto view = rt->inspect<bank::account>("long-1");
  auto secs = seconds_since(start);
  if (!view || view->version != cfg.long_events)
    throw std::runtime_error("the long stream did not recover");
  return static_cast<double>(cfg.long_events) / secs;
}

// Returns aggregates/s of recovering the many streams, 16 threads asking.
double runtime_many(const config& cfg) {
  auto rt = start_runtime(cfg);
  std::atomic<int64_t> next{0}, bad{0};
  auto start = clock_type::now();
  std::vector<std::thread> askers;
  for (int t = 0; t < 16; ++t)
    askers.emplace_back([&] {
      for (auto i = next++; i < cfg.aggregates; i = next++) {
        auto view = rt->inspect<bank::account>("acct-" + std::to_string(i));
        if (!view || view->version != cfg.each)
          ++bad;
      }
    });
  for (auto& t : askers)
    t.join();
  auto secs = seconds_since(start);
  if (bad > 0)
    throw std::runtime_error(std::to_string(bad.load())
                             + " aggregates did not recover");
  return static_cast<double>(cfg.aggregates) / secs;
}

config parse(int argc, char** argv) {
  config cfg;
  if (const char* env = std::getenv("ES_DATABASE_URL"))
    cfg.db = env;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--db")
      cfg.db = value();
    else if (arg == "--long")
      cfg.long_events = std::stoll(value());
    else if (arg == "--aggregates")
      cfg.aggregates = std::stoll(value());
    else if (arg == "--each")
      cfg.each = std::stoll(value());
    else if (arg == "--rounds")
      cfg.rounds = std::stoi(value());
    else if (arg == "--json")
      cfg.json_output = true;
    else
      throw std::invalid_argument("unknown option " + arg);
  }
  if (cfg.db.empty() || cfg.long_events <= 0 || cfg.aggregates <= 0
      || cfg.each <= 0 || cfg.rounds <= 0)
    throw std::invalid_argument("need --db (or ES_DATABASE_URL) and positive "
                                "numbers");
  return cfg;
}

} // namespace

int main(int argc, char** argv) {
  config cfg;
  try {
    cfg = parse(argc, argv);
  } catch (const std::exception& ex) {
    std::cerr << "recovery_bench: " << ex.what()
              << "\nusage: recovery_bench --db URL [--long N] [--aggregates N]"
                 " [--each N] [--rounds N] [--json]\n";
    return 2;
  }
  try {
    fill(cfg);
    // One reading of a fraction of a second is at the mercy of a shared
    // host: alternate the two, and compare medians.
    std::vector<double> raws, rts;
    for (int i = 0; i < cfg.rounds; ++i) {
      raws.push_back(raw_long(cfg));
      rts.push_back(runtime_long(cfg));
    }
    auto raw_l = bench::median(raws);
    auto rt_l = bench::median(rts);
    auto raw_m = raw_many(cfg);
    auto rt_m = runtime_many(cfg);
    std::cout << "recovery_bench: one stream of " << cfg.long_events
              << " events (median of " << cfg.rounds << " rounds); "
              << cfg.aggregates << " streams of " << cfg.each
              << "\n  replay_long   raw " << static_cast<long>(raw_l)
              << " events/s, runtime " << static_cast<long>(rt_l)
              << " events/s, ratio " << rt_l / raw_l << " (target >= 0.5)\n"
              << "  recover_many  raw " << static_cast<long>(raw_m)
              << " events/s, runtime " << static_cast<long>(rt_m)
              << " aggregates/s = " << static_cast<long>(rt_m * cfg.each)
              << " events/s, ratio " << rt_m * cfg.each / raw_m << '\n';
    if (cfg.json_output)
      std::cout << json{{"name", "recovery"},
                        {"long_events", cfg.long_events},
                        {"aggregates", cfg.aggregates},
                        {"each", cfg.each},
                        {"long_rounds", cfg.rounds},
                        {"raw_long_each_round", raws},
                        {"long_each_round", rts},
                        {"raw_long_events_per_second", raw_l},
                        {"long_events_per_second", rt_l},
                        {"raw_many_events_per_second", raw_m},
                        {"many_aggregates_per_second", rt_m}}
                     .dump()
                << '\n';
  } catch (const std::exception& ex) {
    std::cerr << "recovery_bench: " << ex.what() << '\n';
    return 1;
  }
  pqxx::connection conn{cfg.db};
  pqxx::work tx{conn};
  tx.exec(std::string{"DROP SCHEMA IF EXISTS "} + schema + " CASCADE");
  tx.commit();
  return 0;
}
