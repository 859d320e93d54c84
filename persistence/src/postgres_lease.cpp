#include "es/persistence/postgres_lease.hpp"

#include "postgres_detail.hpp"

namespace es::persistence {

namespace {

// The first key of every lease's two-key advisory lock ("es"), so that
// other users of advisory locks in the database do not collide with us.
constexpr int lease_class = 0x6573;

void prepare(pqxx::connection& c) {
  c.prepare("lease_try",
            "SELECT pg_try_advisory_lock($1, hashtext(current_schema()"
            " || '.' || $2))");
  c.prepare("lease_release",
            "SELECT pg_advisory_unlock($1, hashtext(current_schema()"
            " || '.' || $2))");
}

} // namespace

struct postgres_lease::impl {
  std::string url;
  postgres_options opts;
  std::unique_ptr<pqxx::connection> conn;
  std::set<std::string, std::less<>> held;

  // Runs `f` on the connection (connecting first). A lost connection drops
  // every lease: its locks died with it.
  template <class T, class F>
  result<T> run(F&& f) {
    try {
      if (!conn) {
        auto c = detail::pg_connect(url, opts);
        prepare(*c);
        conn = std::move(c);
      }
      return f(*conn);
    } catch (const std::exception& ex) {
      bool drop = false;
      auto err = detail::pg_error(ex, drop);
      if (drop) {
        conn.reset();
        held.clear();
      }
      return err;
    }
  }
};

postgres_lease::postgres_lease(std::unique_ptr<impl> ptr)
  : impl_(std::move(ptr)) {
  // nop
}

postgres_lease::~postgres_lease() {
  // nop: closing the connection releases the locks
}

result<std::unique_ptr<postgres_lease>>
postgres_lease::open(const std::string& url, postgres_options opts) {
  auto im = std::make_unique<impl>();
  im->url = url;
  im->opts = std::move(opts);
  auto connected = im->run<void>([](pqxx::connection&) { return result<void>{}; });
  if (!connected)
    return connected.error();
  return std::unique_ptr<postgres_lease>{new postgres_lease(std::move(im))};
}

result<bool> postgres_lease::try_acquire(std::string_view name) {
  if (name.empty())
    return es::error{ec::invalid_argument, "lease name is empty"};
  auto& im = *impl_;
  if (im.held.count(name) > 0) {
    auto alive = check(); // held, unless the connection went meanwhile
    if (!alive)
      return alive.error();
    return true;
  }
  return im.run<bool>([&](pqxx::connection& c) {
    pqxx::nontransaction txn{c};
    auto got = txn.exec_prepared1("lease_try", lease_class, std::string{name})[0]
                 .as<bool>();
    if (got)
      im.held.emplace(name);
    return got;
  });
}

result<void> postgres_lease::release(std::string_view name) {
  auto& im = *impl_;
  auto i = im.held.find(name);
  if (i == im.held.end())
    return {};
  return im.run<void>([&](pqxx::connection& c) {
    pqxx::nontransaction txn{c};
    txn.exec_prepared1("lease_release", lease_class, std::string{name});
    im.held.erase(i);
    return result<void>{};
  });
}

result<void> postgres_lease::check() {
  return impl_->run<void>([](pqxx::connection& c) {
    pqxx::nontransaction txn{c};
    txn.exec("SELECT 1");
    return result<void>{};
  });
}

const std::set<std::string, std::less<>>& postgres_lease::held() const {
  return impl_->held;
}

} // namespace es::persistence
