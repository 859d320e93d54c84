// The bank demo's projections: `bank_balances` (PostgreSQL) and
// `bank_totals` (in memory).
#include "projections.hpp"

#include <algorithm>
#include <map>
#include <ostream>
#include <type_traits>
#include <variant>
#include <vector>

#include <pqxx/pqxx>

#include "es/runtime.hpp"

namespace bank {

namespace {

using es::projections::decoded;
using es::projections::projection;

// An account's net change within one batch.
struct change {
  int64_t balance = 0;
  int64_t version = 0;
};

int64_t amount_of(const account::event& e) {
  return std::visit(
    [](const auto& ev) -> int64_t {
      using T = std::decay_t<decltype(ev)>;
      if constexpr (std::is_same_v<T, deposited>)
        return ev.amount;
      else if constexpr (std::is_same_v<T, withdrawn>)
        return -ev.amount;
      else
        return 0;
    },
    e);
}

// Appends `s` as a double-quoted element of a PostgreSQL array literal:
// inside the quotes only `"` and `\` need a backslash. Account ids come from
// users; the literal travels as a parameter, so this is all it takes.
void append_quoted(std::string& out, const std::string& s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  out += '"';
}

// The three array literals of one upsert: ids, balance changes, versions.
struct upsert_arrays {
  std::string ids = "{";
  std::string balances = "{";
  std::string versions = "{";

  void add(const std::string& id, const change& c) {
    if (ids.size() > 1) {
      ids += ',';
      balances += ',';
      versions += ',';
    }
    append_quoted(ids, id);
    balances += std::to_string(c.balance);
    versions += std::to_string(c.version);
  }

  void close() {
    ids += '}';
    balances += '}';
    versions += '}';
  }
};

// One statement per batch; the batch is folded per account first, so no
// row is upserted twice in one statement (PostgreSQL refuses that).
constexpr const char* upsert_sql
  = "INSERT INTO bank_balances (account_id, balance, version)"
    " SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])"
    " ON CONFLICT (account_id) DO UPDATE"
    " SET balance = bank_balances.balance + excluded.balance,"
    " version = greatest(bank_balances.version, excluded.version)";

void apply_batch(pqxx::transaction_base& tx,
                 const std::vector<decoded<account>>& batch) {
  // Ordered by id: the upsert locks its rows in a stable order.
  std::map<std::string, change> by_account;
  for (const auto& d : batch) {
    auto& c = by_account[d.record.stream_id]; // account_opened: balance 0
    c.balance += amount_of(d.event);
    c.version = std::max(c.version, d.record.version);
  }
  if (by_account.empty())
    return;
  upsert_arrays arrays;
  for (const auto& [id, c] : by_account)
    arrays.add(id, c);
  arrays.close();
  tx.exec_params(upsert_sql, arrays.ids, arrays.balances, arrays.versions);
}

} // namespace

void create_read_model(pqxx::transaction_base& tx) {
  if (tx.exec1("SELECT to_regclass('bank_balances') IS NOT NULL")[0].as<bool>())
    return;
  // Two programs starting at once: one creates, the other waits and skips
  // (quietly: no "already exists" notice on stderr).
  tx.exec("SELECT pg_advisory_xact_lock(hashtext('bank_balances:create'))");
  tx.exec("SET LOCAL client_min_messages = warning");
  tx.exec("CREATE TABLE IF NOT EXISTS bank_balances ("
          " account_id text PRIMARY KEY,"
          " balance bigint NOT NULL,"
          " version bigint NOT NULL)");
}

es::result<void> create_read_model(const std::string& url) {
  try {
    pqxx::connection conn{url};
    pqxx::work tx{conn};
    create_read_model(tx);
    tx.commit();
    return {};
  } catch (const std::exception& ex) {
    return {es::ec::unavailable,
            std::string{"creating bank_balances: "} + ex.what()};
  }
}

projection balances_projection() {
  return projection::postgres_of<account>(balances_name, apply_batch)
    .on_reset([](pqxx::transaction_base& tx) {
      tx.exec("TRUNCATE bank_balances");
    });
}

std::ostream& operator<<(std::ostream& out, const totals_figures& f) {
  return out << "opened " << f.opened << ", closed "
             << f.closed << ", deposits " << f.deposits << " (sum "
             << f.deposited << "), withdrawals " << f.withdrawals << " (sum "
             << f.withdrawn << ")";
}

nlohmann::json totals_json(const totals_figures& f) {
  return {{"opened", f.opened},           {"closed", f.closed},
          {"deposits", f.deposits},       {"deposited", f.deposited},
          {"withdrawals", f.withdrawals}, {"withdrawn", f.withdrawn}};
}

void totals::add(const account::event& e) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::visit(
    [this](const auto& ev) {
      using T = std::decay_t<decltype(ev)>;
      if constexpr (std::is_same_v<T, account_opened>) {
        ++figures_.opened;
      } else if constexpr (std::is_same_v<T, deposited>) {
        ++figures_.deposits;
        figures_.deposited += ev.amount;
      } else if constexpr (std::is_same_v<T, withdrawn>) {
        ++figures_.withdrawals;
        figures_.withdrawn += ev.amount;
      } else {
        ++figures_.closed;
      }
    },
    e);
}

void totals::clear() {
  std::lock_guard<std::mutex> guard{mtx_};
  figures_ = totals_figures{};
}

totals_figures totals::figures() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return figures_;
}

projection totals_projection(std::shared_ptr<totals> out) {
  auto count = [out](const account::event& e,
                      const es::persistence::recorded_event&) { out->add(e); };
  return projection::in_memory_of<account>(totals_name, count)
    .on_reset([out] { out->clear(); });
}

es::error add_projections(es::runtime& rt, const std::string& url,
                          bool postgres, std::shared_ptr<totals> out) {
  if (postgres) {
    if (auto made = create_read_model(url); !made)
      return made.error();
    if (auto added = rt.add_projection(balances_projection()); !added)
      return es::actors::from_caf(added.error());
  }
  if (auto added = rt.add_projection(totals_projection(std::move(out)));
      !added)
    return es::actors::from_caf(added.error());
  return {};
}

} // namespace bank
