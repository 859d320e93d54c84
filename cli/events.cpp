// `eventsource events` (the global feed), `streams show`, `streams list`.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "es/persistence/postgres_admin.hpp"
#include "progress.hpp"

namespace es::cli {

namespace {

using namespace es::persistence;

// Events per read of the feed.
constexpr int64_t page_size = 10'000;

struct events_args {
  int64_t from = 0;
  int64_t limit = 100;
  std::vector<std::string> stream_types;
  std::vector<std::string> types;
  bool follow = false;
};

struct stream_args {
  std::string id;
  int64_t from_version = 1;
  std::string type;
  int64_t limit = 100;
};

// Prints feed events one line each, aligned by fixed column widths (a
// table cannot wait for the end of a feed that is followed).
class event_printer {
public:
  explicit event_printer(bool as_json) : json_(as_json) {
    // nop
  }

  void operator()(const recorded_event& e) {
    if (json_) {
      std::cout << event_json(e).dump() << '\n';
      return;
    }
    if (!header_done_) {
      line("position", "recorded_at", "stream_id", "version", "type", "data");
      header_done_ = true;
    }
    line(std::to_string(e.global_position), to_iso8601(e.recorded_at),
         e.stream_id, std::to_string(e.version), e.event_type,
         e.payload.dump());
  }

  void finish() {
    if (!json_ && !header_done_)
      std::cout << "(no events)\n";
    std::cout.flush();
  }

private:
  static void line(const std::string& pos, const std::string& at,
                   const std::string& stream, const std::string& version,
                   const std::string& type, const std::string& data) {
    std::printf("%10s  %-27s  %-20s  %7s  %-20s  %s\n", pos.c_str(),
                at.c_str(), stream.c_str(), version.c_str(), type.c_str(),
                data.c_str());
  }

  bool json_;
  bool header_done_ = false;
};

result<std::unique_ptr<postgres_store>> open(const context& ctx) {
  return postgres_store::open(ctx.url, connect_options());
}

int events(const context& ctx, const events_args& args) {
  auto store = open(ctx);
  if (!store)
    return ctx.fail("cannot open the store", store.error());
  feed_filter filter{args.stream_types, args.types};
  event_printer print{ctx.json};
  auto after = args.from;
  auto remaining = args.limit;
  // A read of more than one page shows its progress (in positions) on a
  // terminal.
  progress bar{"events", progress::on_terminal() && remaining > page_size};
  auto head = bar.enabled() ? (*store)->head_position() : result<int64_t>{0};
  // Positions: with a filter, --limit counts events, not positions.
  auto last = !head ? 0
              : args.stream_types.empty() && args.types.empty()
                  && args.limit < *head - args.from
                ? args.from + args.limit
                : *head;
  while (remaining > 0) {
    auto page = (*store)->read_all(
      after, static_cast<size_t>(std::min<int64_t>(remaining, page_size)),
      filter);
    if (!page) {
      bar.clear();
      return ctx.fail("cannot read the feed after position "
                        + std::to_string(after),
                      page.error());
    }
    bar.clear();
    for (const auto& e : page->events)
      print(e);
    std::fflush(stdout);
    remaining -= static_cast<int64_t>(page->events.size());
    after = page->next_after;
    if (page->at_head)
      break;
    bar.update(after - args.from, last - args.from);
  }
  bar.clear();
  if (!args.follow) {
    print.finish();
    return exit_ok;
  }
  std::fflush(stdout);
  return follow_events(ctx, **store, after, filter,
                       [&](const recorded_event& e) { print(e); });
}

int show_stream(const context& ctx, const stream_args& args) {
  auto store = open(ctx);
  if (!store)
    return ctx.fail("cannot open the store", store.error());
  auto version = (*store)->stream_version(args.id);
  if (!version)
    return ctx.fail("cannot read stream '" + args.id + "'", version.error());
  if (*version == 0)
    return ctx.fail("streams show", "no stream '" + args.id + "'",
                    "list the streams with 'eventsource streams list'");
  auto events = (*store)->read_stream(args.id, args.from_version);
  if (!events)
    return ctx.fail("cannot read stream '" + args.id + "'", events.error());
  if (ctx.json) {
    for (const auto& e : *events)
      std::cout << event_json(e).dump() << '\n';
    return exit_ok;
  }
  table t{{"version", "position", "type", "recorded_at", "payload"}};
  for (const auto& e : *events)
    t.add({std::to_string(e.version), std::to_string(e.global_position),
           e.event_type, to_iso8601(e.recorded_at), e.payload.dump()});
  t.print(std::cout);
  return exit_ok;
}

int list_streams(const context& ctx, const stream_args& args) {
  auto admin = postgres_admin::open(ctx.url, connect_options());
  if (!admin)
    return ctx.fail("cannot open the store", admin.error());
  auto streams = (*admin)->streams(args.type, static_cast<size_t>(args.limit));
  if (!streams)
    return ctx.fail("cannot list the streams", streams.error());
  if (ctx.json) {
    auto list = json::array();
    for (const auto& s : *streams)
      list.push_back({{"stream_id", s.stream_id},
                      {"stream_type", s.stream_type},
                      {"version", s.version},
                      {"last_recorded_at", to_iso8601(s.last_recorded_at)}});
    std::cout << json{{"streams", list}}.dump() << '\n';
    return exit_ok;
  }
  table t{{"stream_id", "type", "version", "last_recorded_at"}};
  for (const auto& s : *streams)
    t.add({s.stream_id, s.stream_type, std::to_string(s.version),
           to_iso8601(s.last_recorded_at)});
  t.print(std::cout);
  return exit_ok;
}

} // namespace

void add_event_commands(CLI::App& app, context& ctx, action& run) {
  auto ea = std::make_shared<events_args>();
  auto* e = app.add_subcommand("events", "Print the global event feed");
  e->add_option("--from", ea->from, "Start after this global position")
    ->capture_default_str()
    ->check(integer_in(0));
  e->add_option("--limit", ea->limit, "Print at most this many events")
    ->capture_default_str()
    ->check(integer_in(1));
  e->add_option("--stream-type", ea->stream_types,
                "Only events of this stream type (repeatable)");
  e->add_option("--type", ea->types, "Only events of this type (repeatable)");
  e->add_flag("--follow", ea->follow,
              "Then print new events as they come, until Ctrl-C");
  add_json_flag(e, ctx);
  set_example(e, "events --from 100 --limit 20 --stream-type account --follow");
  e->callback([&ctx, &run, ea] { run = [&ctx, ea] { return events(ctx, *ea); }; });

  auto sa = std::make_shared<stream_args>();
  auto* streams = app.add_subcommand("streams", "Read streams");
  streams->require_subcommand(1);
  auto* show = streams->add_subcommand("show", "Print the events of a stream");
  show->add_option("ID", sa->id, "The stream id, e.g. acct-1")->required();
  show->add_option("--from-version", sa->from_version,
                   "Start at this version")
    ->capture_default_str()
    ->check(integer_in(1));
  add_json_flag(show, ctx);
  set_example(show, "streams show acct-1 --from-version 2");
  show->callback(
    [&ctx, &run, sa] { run = [&ctx, sa] { return show_stream(ctx, *sa); }; });

  auto* list = streams->add_subcommand("list", "List streams by id");
  list->add_option("--type", sa->type, "Only streams of this type");
  list->add_option("--limit", sa->limit, "List at most this many")
    ->capture_default_str()
    ->check(integer_in(1, 10'000));
  add_json_flag(list, ctx);
  set_example(list, "streams list --type account --limit 20");
  list->callback(
    [&ctx, &run, sa] { run = [&ctx, sa] { return list_streams(ctx, *sa); }; });
}

} // namespace es::cli
