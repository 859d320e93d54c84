// `eventsource dead-letters ...`: list, retry and discard the events
// projections set aside, through the database or a running node
// (sources.hpp). A retry through the database is queued for the node that
// runs the projection; `--wait` follows it.
#include <chrono>
#include <iostream>
#include <thread>

#include "commands.hpp"
#include "sources.hpp"
#include "waiting.hpp"

namespace es::cli {

namespace {

using es::persistence::retry_state;

struct letter_args {
  std::string projection;
  int64_t id = 0;
  wait_args wait;
};

int list_letters(const context& ctx, const std::string& projection) {
  auto src = open_source(ctx);
  if (!src)
    return open_failed(ctx, src.error());
  auto letters = (*src)->dead_letters(projection);
  if (!letters)
    return ctx.fail("cannot list the dead letters", letters.error());
  if (ctx.json) {
    auto arr = json::array();
    for (const auto& d : *letters)
      arr.push_back({{"id", d.id},
                     {"projection", d.projection},
                     {"position", d.global_position},
                     {"event_id", d.event_id.to_string()},
                     {"stream_id", d.stream_id},
                     {"type", d.event_type},
                     {"error", d.error},
                     {"retry", to_string(d.retry)},
                     {"recorded_at", to_iso8601(d.recorded_at)}});
    std::cout << json{{"dead_letters", arr}}.dump() << '\n';
    return exit_ok;
  }
  table t{{"id", "projection", "position", "stream_id", "type", "error",
           "retry", "recorded_at"}};
  for (const auto& d : *letters)
    t.add({std::to_string(d.id), d.projection,
           std::to_string(d.global_position), d.stream_id, d.event_type,
           one_line(d.error),
           d.retry == retry_state::none ? "-" : to_string(d.retry),
           to_iso8601(d.recorded_at)});
  t.print(std::cout);
  return exit_ok;
}

int no_letter(const context& ctx, const std::string& what, int64_t id) {
  return ctx.fail(what, "no dead letter " + std::to_string(id),
                  "list them with 'eventsource dead-letters list'");
}

int discard_letter(const context& ctx, int64_t id) {
  auto src = open_source(ctx);
  if (!src)
    return open_failed(ctx, src.error());
  auto removed = (*src)->discard(id);
  if (!removed)
    return ctx.fail("cannot discard dead letter " + std::to_string(id),
                    removed.error());
  if (!*removed)
    return no_letter(ctx, "dead-letters discard", id);
  std::cout << "discarded dead letter " << id << '\n';
  return exit_ok;
}

// Follows a queued retry of dead letter `id` until a node has run it.
int wait_for_retry(const context& ctx, source& src, int64_t id,
                   std::chrono::seconds limit) {
  auto what = "dead-letters retry " + std::to_string(id);
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    auto letter = src.find_letter(id);
    if (!letter)
      return ctx.fail(what, letter.error());
    if (!*letter) {
      std::cout << "dead letter " << id << ": retried, handled, removed\n";
      return exit_ok;
    }
    const auto& d = **letter;
    if (d.retry == retry_state::none)
      return ctx.fail(what, "it failed again: " + d.error,
                      "it stays a dead letter: fix the cause, then retry or "
                      "discard it");
    auto waited = std::chrono::steady_clock::now() - start;
    if (d.retry == retry_state::requested && waited > std::min(pickup_limit, limit))
      return ctx.fail(what, "no running node has taken the request",
                      "it stays queued: a node that runs '" + d.projection
                        + "' runs it when it starts");
    if (waited > limit)
      return ctx.fail(what, "not done after " + std::to_string(limit.count())
                              + " s (" + to_string(d.retry) + ")",
                      "follow it with 'eventsource dead-letters list'");
    std::this_thread::sleep_for(poll_every);
  }
}

int retry_letter(const context& ctx, const letter_args& a) {
  auto what = "dead-letters retry " + std::to_string(a.id);
  auto src = open_source(ctx, a.wait.limit());
  if (!src)
    return open_failed(ctx, src.error());
  auto queued = (*src)->retry(a.id);
  if (!queued) // e.g. "no dead letter 7", or not run on that node
    return ctx.fail(what, queued.error());
  if (!*queued) {
    std::cout << "dead letter " << a.id << ": retried by node " << ctx.node
              << ", handled, removed\n";
    return exit_ok;
  }
  if (a.wait.enabled())
    return wait_for_retry(ctx, **src, a.id, a.wait.limit());
  std::cout << "requested a retry of dead letter " << a.id
            << "; the node running its projection runs it\n";
  return exit_ok;
}

} // namespace

void add_dead_letter_commands(CLI::App& app, context& ctx, action& run) {
  auto a = std::make_shared<letter_args>();
  auto* d = app.add_subcommand("dead-letters",
                              "List, retry and discard dead letters");
  d->require_subcommand(1);
  auto* dl = d->add_subcommand("list", "List dead letters, oldest first");
  dl->add_option("--projection", a->projection,
                 "Only those of this projection");
  add_json_flag(dl, ctx);
  set_example(dl, "dead-letters list --projection bank_balances");
  dl->callback(
    [&ctx, &run, a] { run = [&ctx, a] { return list_letters(ctx, a->projection); }; });
  auto* dd = d->add_subcommand("discard", "Delete a dead letter");
  dd->add_option("ID", a->id, "The dead letter's id")
    ->required()
    ->check(integer_in(1));
  set_example(dd, "dead-letters discard 17");
  dd->callback(
    [&ctx, &run, a] { run = [&ctx, a] { return discard_letter(ctx, a->id); }; });
  auto* dr = d->add_subcommand(
    "retry", "Run a dead letter through its projection again; removed when "
             "it works");
  dr->add_option("ID", a->id, "The dead letter's id")
    ->required()
    ->check(integer_in(1));
  add_wait_flags(dr, a->wait);
  set_example(dr, "--node 127.0.0.1:4710 dead-letters retry 17");
  dr->callback(
    [&ctx, &run, a] { run = [&ctx, a] { return retry_letter(ctx, *a); }; });
}

} // namespace es::cli
