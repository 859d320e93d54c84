// projection_bench: catch-up speed of projections next to raw reads.
//
//   build/bin/projection_bench --db "$(scripts/pg url)" [--events 1000000]
//       [--streams 10000] [--batch 1000] [--json]
//
// Fills a schema of its own with `events` deposits (server-side, fast),
// then measures in the same run, on the same server:
//   raw_read      keyset pages of 1,000 rows of es_events, every column
//                 fetched (plain libpqxx, no JSON parsing)
//   raw_insert    100-row multi-row INSERT transactions (plain libpqxx)
//   memory        an in-memory projection catching up from 0 (a runtime)
//   postgres      a PostgreSQL read model (per-stream counts, one upsert
//                 statement per batch) catching up from 0, exactly once
// Targets: memory >= 0.5x raw_read; postgres >= 30,000 events/s.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include <pqxx/pqxx>

#include "es/runtime.hpp"
#include "support.hpp"

using bench::clock_type;
using bench::seconds_since;
using es::persistence::json;

namespace {

struct config {
  std::string db;
  int64_t events = 1'000'000;
  int streams = 10'000;
  size_t batch = 1000;
  bool json_output = false;
};

const char* schema = "es_bench_projections";

void fill(const config& cfg) {
  bench::fresh_schema(cfg.db, schema);
  pqxx::connection c2{bench::schema_url(cfg.db, schema)};
  pqxx::work fill{c2};
  fill.exec_params(
    "INSERT INTO es_events SELECT g, md5(g::text)::uuid,"
    " 'acct-' || ((g - 1) % $2), 'account', (g - 1) / $2 + 1, 'deposited', 1,"
    " jsonb_build_object('amount', g % 100), '{}', now()"
    " FROM generate_series(1, $1::bigint) g",
    cfg.events, cfg.streams);
  fill.exec_params("UPDATE es_head SET position = $1", cfg.events);
  fill.exec("CREATE TABLE bench_counts (stream_id text PRIMARY KEY,"
            " n bigint NOT NULL, total bigint NOT NULL)");
  fill.exec("CREATE TABLE bench_raw (id bigint, stream_id text, total bigint)");
  fill.commit();
  pqxx::nontransaction nt{c2};
  nt.exec("VACUUM ANALYZE es_events");
}

double raw_read(const config& cfg) {
  pqxx::connection conn{bench::schema_url(cfg.db, schema)};
  conn.prepare("page",
               "SELECT global_position, event_id, stream_id, stream_type,"
               " version, event_type, schema_version, payload, metadata,"
               " recorded_at FROM es_events WHERE global_position > $1"
               " ORDER BY global_position LIMIT 1000");
  auto start = clock_type::now();
  int64_t after = 0, bytes = 0;
  for (;;) {
    pqxx::read_transaction tx{conn};
    auto rows = tx.exec_prepared("page", after);
    if (rows.empty())
      break;
    for (const auto& row : rows)
      for (const auto& field : row)
        bytes += static_cast<int64_t>(field.size());
    after = rows.back()[0].as<int64_t>();
  }
  auto rate = static_cast<double>(after) / seconds_since(start);
  return bytes > 0 ? rate : 0;
}

double raw_insert(const config& cfg) {
  pqxx::connection conn{bench::schema_url(cfg.db, schema)};
  std::string sql = "INSERT INTO bench_raw VALUES ";
  for (int i = 0; i < 100; ++i)
    sql += (i ? ",($" : "($") + std::to_string(3 * i + 1) + ",$"
           + std::to_string(3 * i + 2) + ",$" + std::to_string(3 * i + 3)
           + ")";
  conn.prepare("insert", sql);
  int64_t n = std::min<int64_t>(cfg.events, 100'000);
  auto start = clock_type::now();
  for (int64_t i = 0; i < n; i += 100) {
    std::vector<std::string> params;
    for (int64_t k = i; k < i + 100; ++k) {
      params.push_back(std::to_string(k));
      params.push_back("acct-" + std::to_string(k % cfg.streams));
      params.push_back(std::to_string(k));
    }
    pqxx::work tx{conn};
    tx.exec_prepared("insert", pqxx::prepare::make_dynamic_params(params));
    tx.commit();
  }
  return static_cast<double>(n) / seconds_since(start);
}

// Waits until projection `name` of `rt` reached `head`; returns events/s.
double catch_up(es::runtime& rt, es::projections::projection p, int64_t head) {
  auto name = p.name();
  auto start = clock_type::now();
  if (auto r = rt.add_projection(std::move(p)); !r)
    throw std::runtime_error(to_string(r.error()));
  for (;;) {
    auto all = rt.projections();
    if (!all)
      throw std::runtime_error(to_string(all.error()));
    for (auto& s : *all) {
      if (s.name != name)
        continue;
      if (s.state == es::persistence::projection_state::failed)
        throw std::runtime_error(name + " failed: " + s.last_error);
      if (s.checkpoint >= head)
        return static_cast<double>(head) / seconds_since(start);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
}

// Text of a PostgreSQL array literal of `items` (quoted, escaped).
std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& x : items) {
    if (out.size() > 1)
      out += ',';
    out += '"';
    for (char ch : x) {
      if (ch == '"' || ch == '\\')
        out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

es::projections::projection counts_model(size_t batch) {
  es::projections::projection_options opts;
  opts.batch_size = batch;
  return es::projections::projection::postgres(
    "bench_counts",
    [](pqxx::transaction_base& tx, const es::projections::event_refs& events) {
      std::map<std::string, std::pair<int64_t, int64_t>> sums;
      for (const es::persistence::recorded_event& e : events) {
        auto& s = sums[e.stream_id];
        s.first += 1;
        s.second += e.payload.at("amount").get<int64_t>();
      }
      std::vector<std::string> ids, ns, totals;
      for (auto& [id, s] : sums) {
        ids.push_back(id);
        ns.push_back(std::to_string(s.first));
        totals.push_back(std::to_string(s.second));
      }
      tx.exec_params("INSERT INTO bench_counts SELECT * FROM"
                     " unnest($1::text[], $2::bigint[], $3::bigint[])"
                     " ON CONFLICT (stream_id) DO UPDATE SET"
                     " n = bench_counts.n + excluded.n,"
                     " total = bench_counts.total + excluded.total",
                     array_literal(ids), array_literal(ns),
                     array_literal(totals));
    },
    opts);
}

config parse(int argc, char** argv) {
  config cfg;
  if (auto url = std::getenv("ES_DATABASE_URL"))
    cfg.db = url;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "projection_bench: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (arg == "--db")
        cfg.db = next();
      else if (arg == "--events")
        cfg.events = std::stoll(next());
      else if (arg == "--streams")
        cfg.streams = std::stoi(next());
      else if (arg == "--batch")
        cfg.batch = std::stoul(next());
      else if (arg == "--json")
        cfg.json_output = true;
      else
        throw std::invalid_argument(arg);
    } catch (const std::exception&) {
      std::cerr << "usage: projection_bench [--db URL] [--events N]"
                   " [--streams N] [--batch N] [--json]\n";
      std::exit(2);
    }
  }
  if (cfg.db.empty() || cfg.events <= 0 || cfg.streams <= 0 || cfg.batch == 0) {
    std::cerr << "projection_bench: need --db (or ES_DATABASE_URL) and"
                 " positive numbers\n";
    std::exit(2);
  }
  return cfg;
}

} // namespace

int main(int argc, char** argv) {
  auto cfg = parse(argc, argv);
  double read = 0, insert = 0, memory = 0, postgres = 0;
  try {
    fill(cfg);
    read = raw_read(cfg);
    insert = raw_insert(cfg);
    es::runtime_options opts;
    opts.store_url = bench::schema_url(cfg.db, schema);
    auto rt = es::runtime::start(opts);
    if (!rt)
      throw std::runtime_error(to_string(rt.error()));
    auto handled = std::make_shared<int64_t>(0);
    memory = catch_up(**rt,
                      es::projections::projection::in_memory(
                        "bench_memory",
                        [handled](const es::persistence::recorded_event& e) {
                          *handled += e.payload.at("amount").get<int64_t>();
                        }),
                      cfg.events);
    postgres = catch_up(**rt, counts_model(cfg.batch), cfg.events);
    pqxx::connection conn{bench::schema_url(cfg.db, schema)};
    pqxx::read_transaction tx{conn};
    auto n = tx.exec1("SELECT sum(n) FROM bench_counts")[0].as<int64_t>();
    if (n != cfg.events)
      throw std::runtime_error("the read model counted " + std::to_string(n)
                               + " events, not "
                               + std::to_string(cfg.events));
  } catch (const std::exception& ex) {
    std::cerr << "projection_bench: " << ex.what() << '\n';
    return 1;
  }
  std::cout.setf(std::ios::fixed);
  std::cout.precision(0);
  std::cout << "projection_bench: catch-up over " << cfg.events
            << " events in " << cfg.streams << " streams\n"
            << "  raw keyset read (libpqxx)        " << read << " events/s\n"
            << "  raw 100-row INSERT (libpqxx)     " << insert
            << " events/s\n"
            << "  in-memory projection             " << memory
            << " events/s\n"
            << "  PostgreSQL read model (batch " << cfg.batch << ") "
            << postgres << " events/s (target >= 30000)\n";
  std::cout.precision(2);
  std::cout << "  ratio memory / raw read          " << memory / read
            << "  (target >= 0.5)\n"
            << "  ratio read model / raw INSERT    " << postgres / insert
            << '\n';
  if (cfg.json_output)
    std::cout << json{{"name", "projection_catchup"},
                      {"events", cfg.events},
                      {"raw_read_events_per_second", read},
                      {"raw_insert_events_per_second", insert},
                      {"memory_events_per_second", memory},
                      {"postgres_events_per_second", postgres},
                      {"ratio_memory_to_raw_read", memory / read},
                      {"ratio_postgres_to_raw_insert", postgres / insert}}
                   .dump()
              << '\n';
  return 0;
}
