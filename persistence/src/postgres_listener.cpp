// LISTEN on a connection of its own. libpqxx 6.4 delivers notifications to
// `notification_receiver`s registered with the connection (the receiver
// sends LISTEN with the channel quoted by quote_name); ours append to one
// vector, so notifications of both channels keep their order.
#include "es/persistence/postgres_listener.hpp"

#include <algorithm>
#include <utility>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "postgres_detail.hpp"

namespace es::persistence {

namespace {

using notification = postgres_listener::notification;

class receiver final : public pqxx::notification_receiver {
public:
  receiver(pqxx::connection& c, const std::string& channel,
           std::vector<notification>& out)
    : pqxx::notification_receiver(c, channel), out_(out) {
    // nop
  }

  void operator()(const std::string& payload, int) override {
    out_.push_back(notification{channel(), payload});
  }

private:
  std::vector<notification>& out_;
};

// Throws when libpq says the connection is gone. libpqxx does not always:
// on a closed connection get_notifs() returns 0 and waiting polls no
// socket, which would look like a quiet channel.
void require_open(const pqxx::connection& c) {
  if (!c.is_open())
    throw pqxx::broken_connection{"connection to the server lost"};
}

} // namespace

struct postgres_listener::impl {
  std::string url;
  postgres_options opts;
  std::string events_channel;
  std::string projections_channel;
  std::vector<notification> received;
  std::unique_ptr<pqxx::connection> conn;
  // Registered with *conn: destroyed before it (see drop).
  std::unique_ptr<receiver> events;
  std::unique_ptr<receiver> projections;
  // `interrupt` makes it readable to end a wait early.
  int wakeup = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

  ~impl() {
    drop();
    if (wakeup >= 0)
      close(wakeup);
  }

  // Waits for input on the connection or an interrupt; then lets libpqxx
  // hand the notifications to the receivers.
  void await(int64_t ms) {
    if (conn->get_notifs() > 0)
      return;
    pollfd fds[2] = {{conn->sock(), POLLIN, 0}, {wakeup, POLLIN, 0}};
    if (::poll(fds, wakeup >= 0 ? 2 : 1, static_cast<int>(ms)) > 0) {
      if (fds[1].revents != 0) {
        uint64_t n = 0;
        (void) !read(wakeup, &n, sizeof n);
      }
      if (fds[0].revents != 0)
        conn->get_notifs();
    }
  }

  // Connects, names the channels after the schema and listens. Throws
  // pqxx exceptions.
  result<void> connect() {
    conn = detail::pg_connect(url, opts);
    try {
      // Named by the same expression as the notifying statements use
      // (postgres_append.cpp, postgres_catalog.cpp).
      std::string names[2];
      {
        pqxx::nontransaction txn{*conn};
        auto row = txn.exec_params1(
          "SELECT " + detail::pg_channel_sql("s", "es_events") + ", "
            + detail::pg_channel_sql("s", "es_projections")
            + " FROM (SELECT coalesce(nullif($1, ''), current_schema()) AS s)"
              " x",
          opts.schema);
        names[0] = row[0].as<std::string>(std::string{});
        names[1] = row[1].as<std::string>(std::string{});
      }
      if (names[0].empty()) {
        drop();
        return {ec::invalid_argument,
                "no schema to listen for: the search_path names none that "
                "exists (set postgres_options::schema)"};
      }
      events_channel = std::move(names[0]);
      projections_channel = std::move(names[1]);
      events = std::make_unique<receiver>(*conn, events_channel, received);
      projections = std::make_unique<receiver>(*conn, projections_channel,
                                               received);
      // A receiver swallows a broken connection while sending LISTEN.
      require_open(*conn);
      return {};
    } catch (...) {
      drop();
      throw;
    }
  }

  void drop() noexcept {
    // Disconnect first: a receiver that goes away on a connection that is
    // still there sends UNLISTEN, and on a broken one libpqxx would try to
    // reconnect to do so.
    if (conn)
      conn->disconnect();
    events.reset();
    projections.reset();
    conn.reset();
    received.clear();
  }
};

postgres_listener::postgres_listener(std::unique_ptr<impl> ptr)
  : impl_(std::move(ptr)) {
  // nop
}

postgres_listener::~postgres_listener() {
  // nop
}

result<std::unique_ptr<postgres_listener>>
postgres_listener::open(const std::string& url, postgres_options opts) {
  auto ptr = std::make_unique<impl>();
  ptr->url = url;
  ptr->opts = std::move(opts);
  try {
    if (auto r = ptr->connect(); !r)
      return r.error();
  } catch (const std::exception& ex) {
    bool drop = false;
    return detail::pg_error(ex, drop);
  }
  return std::unique_ptr<postgres_listener>{
    new postgres_listener(std::move(ptr))};
}

const std::string& postgres_listener::events_channel() const {
  return impl_->events_channel;
}

const std::string& postgres_listener::projections_channel() const {
  return impl_->projections_channel;
}

result<std::vector<postgres_listener::notification>>
postgres_listener::wait(std::chrono::milliseconds timeout) {
  auto ms = std::max<int64_t>(timeout.count(), 0);
  try {
    if (!impl_->conn)
      if (auto r = impl_->connect(); !r)
        return r.error();
    require_open(*impl_->conn);
    impl_->await(ms);
    require_open(*impl_->conn);
    return std::exchange(impl_->received, {});
  } catch (const std::exception& ex) {
    // Whatever the failure, start over: the notifications in between are
    // lost anyway, and the caller re-reads the store.
    bool drop = false;
    auto err = detail::pg_error(ex, drop);
    impl_->drop();
    return err;
  }
}

void postgres_listener::interrupt() {
  uint64_t one = 1;
  if (impl_->wakeup >= 0)
    (void) !write(impl_->wakeup, &one, sizeof one);
}

} // namespace es::persistence
