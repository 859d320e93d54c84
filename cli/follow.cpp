// `eventsource events --follow`: waits on NOTIFY (postgres_listener) and
// reads the feed from the last position, until SIGINT or SIGTERM.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>

#include "commands.hpp"
#include "es/persistence/postgres_listener.hpp"

namespace es::cli {

namespace {

using namespace es::persistence;

std::atomic<bool> stop_requested{false};

extern "C" void on_signal(int) {
  stop_requested = true;
}

void install_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// The listener's wait returns at least this often, to see the flag: a
// signal handler may not call listener->interrupt().
constexpr auto wait_step = std::chrono::milliseconds{200};

// Without a notification the feed is read anyway this often (a NOTIFY can
// be lost when the listener's connection drops).
constexpr auto poll_every = std::chrono::seconds{5};

} // namespace

int follow_events(const context& ctx, event_store& store, int64_t after,
                  const feed_filter& filter,
                  const std::function<void(const recorded_event&)>& print) {
  install_handlers();
  auto listener = postgres_listener::open(ctx.url, connect_options());
  if (!listener)
    return ctx.fail("cannot listen for new events", listener.error());
  // Events appended before LISTEN took effect: read once more now.
  bool read_now = true;
  auto last_read = std::chrono::steady_clock::now();
  while (!stop_requested) {
    if (read_now || std::chrono::steady_clock::now() - last_read > poll_every) {
      for (bool more = true; more && !stop_requested;) {
        auto page = store.read_all(after, 1000, filter);
        if (!page)
          return ctx.fail("cannot read the feed after position "
                            + std::to_string(after),
                          page.error());
        for (const auto& e : page->events)
          print(e);
        std::fflush(stdout);
        after = page->next_after;
        more = !page->at_head;
      }
      last_read = std::chrono::steady_clock::now();
    }
    auto n = (*listener)->wait(wait_step);
    read_now = !n; // connection lost: something may have been missed
    if (n)
      for (const auto& x : *n)
        read_now |= x.channel == (*listener)->events_channel();
  }
  return exit_ok;
}

} // namespace es::cli
