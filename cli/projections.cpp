// `eventsource projections ...` and `eventsource dead-letters ...`: read and
// write the projection catalog; running nodes apply the requests.
#include <algorithm>
#include <iostream>
#include <unistd.h>

#include "commands.hpp"
#include "es/persistence/postgres_catalog.hpp"

namespace es::cli {

using namespace es::persistence;

namespace {

struct projection_args {
  std::string name;
  bool yes = false;
  int64_t id = 0;
};

// The catalog and the store's head, which every projection command needs.
struct session {
  std::unique_ptr<postgres_catalog> catalog;
  int64_t head = 0;
};

int open_session(const context& ctx, session& s) {
  auto catalog = postgres_catalog::open(ctx.url, connect_options());
  if (!catalog)
    return ctx.fail("cannot open the projection catalog", catalog.error());
  auto store = postgres_store::open(ctx.url, connect_options());
  if (!store)
    return ctx.fail("cannot open the store", store.error());
  auto head = (*store)->head_position();
  if (!head)
    return ctx.fail("cannot read the head position", head.error());
  s.catalog = std::move(*catalog);
  s.head = *head;
  return exit_ok;
}

json record_json(const projection_record& r, int64_t head) {
  return {{"name", r.name},
          {"state", to_string(r.state)},
          {"checkpoint", r.checkpoint},
          {"head", head},
          {"lag", std::max<int64_t>(0, head - r.checkpoint)},
          {"last_error", r.last_error},
          {"error_position", r.error_position},
          {"requested", r.requested ? json(to_string(*r.requested)) : json()},
          {"updated_at", to_iso8601(r.updated_at)}};
}

int no_projection(const context& ctx, const std::string& name) {
  return ctx.fail("projections", "no projection '" + name + "'",
                  "list them with 'eventsource projections list'");
}

int list(const context& ctx) {
  session s;
  if (auto rc = open_session(ctx, s))
    return rc;
  auto records = s.catalog->list();
  if (!records)
    return ctx.fail("cannot list the projections", records.error());
  if (ctx.json) {
    auto arr = json::array();
    for (const auto& r : *records)
      arr.push_back(record_json(r, s.head));
    std::cout << json{{"head", s.head}, {"projections", arr}}.dump() << '\n';
    return exit_ok;
  }
  table t{{"name", "state", "checkpoint", "head", "lag", "last_error",
           "updated_at"}};
  for (const auto& r : *records) {
    auto err = r.last_error.empty()
                 ? std::string{"-"}
                 : one_line(r.last_error) + " (at "
                     + std::to_string(r.error_position) + ")";
    t.add({r.name, to_string(r.state), std::to_string(r.checkpoint),
           std::to_string(s.head),
           std::to_string(std::max<int64_t>(0, s.head - r.checkpoint)), err,
           to_iso8601(r.updated_at)});
  }
  t.print(std::cout);
  return exit_ok;
}

int show(const context& ctx, const std::string& name) {
  session s;
  if (auto rc = open_session(ctx, s))
    return rc;
  auto rec = s.catalog->find(name);
  if (!rec)
    return ctx.fail("cannot read projection '" + name + "'", rec.error());
  if (!*rec)
    return no_projection(ctx, name);
  auto j = record_json(**rec, s.head);
  if (ctx.json) {
    std::cout << j.dump() << '\n';
    return exit_ok;
  }
  table t{{"field", "value"}, false};
  for (const auto& key : {"name", "state", "checkpoint", "head", "lag",
                          "last_error", "error_position", "requested",
                          "updated_at"}) {
    const auto& v = j[key];
    auto text = v.is_string() ? v.get<std::string>() : v.dump();
    t.add({key, v.is_null() || text.empty() ? "-" : one_line(text)});
  }
  t.print(std::cout);
  return exit_ok;
}

bool confirmed(const std::string& op, const std::string& name) {
  std::cerr << op << " clears the read model of '" << name
            << "'. Type the projection name to confirm: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == name;
}

int control(const context& ctx, projection_op op, const projection_args& a) {
  std::string what = to_string(op);
  bool destructive = op == projection_op::reset || op == projection_op::rebuild;
  if (destructive && !a.yes && !isatty(STDIN_FILENO)) {
    std::cerr << "eventsource: projections " << what << " " << a.name
              << ": needs confirmation and stdin is not a terminal; pass "
                 "--yes to confirm\n";
    return exit_usage;
  }
  session s;
  if (auto rc = open_session(ctx, s))
    return rc;
  auto rec = s.catalog->find(a.name);
  if (!rec)
    return ctx.fail("cannot read projection '" + a.name + "'", rec.error());
  if (!*rec)
    return no_projection(ctx, a.name);
  if (destructive && !a.yes && !confirmed(what, a.name))
    return ctx.fail("projections " + what + " " + a.name,
                    "not confirmed, nothing requested",
                    "type the name exactly, or pass --yes");
  if (auto r = s.catalog->request(a.name, op); !r)
    return ctx.fail("cannot request " + what + " of " + a.name, r.error());
  auto now = s.catalog->find(a.name);
  auto state = now && *now ? to_string((*now)->state) : "unknown";
  std::cout << "requested " << what << " of " << a.name
            << "; a running node applies it (state now: " << state << ")\n";
  return exit_ok;
}

int list_letters(const context& ctx, const std::string& projection) {
  auto catalog = postgres_catalog::open(ctx.url, connect_options());
  if (!catalog)
    return ctx.fail("cannot open the projection catalog", catalog.error());
  auto letters = (*catalog)->dead_letters(projection, 10'000);
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
                     {"recorded_at", to_iso8601(d.recorded_at)}});
    std::cout << json{{"dead_letters", arr}}.dump() << '\n';
    return exit_ok;
  }
  table t{{"id", "projection", "position", "stream_id", "type", "error",
           "recorded_at"}};
  for (const auto& d : *letters)
    t.add({std::to_string(d.id), d.projection,
           std::to_string(d.global_position), d.stream_id, d.event_type,
           one_line(d.error), to_iso8601(d.recorded_at)});
  t.print(std::cout);
  return exit_ok;
}

int discard_letter(const context& ctx, int64_t id) {
  auto catalog = postgres_catalog::open(ctx.url, connect_options());
  if (!catalog)
    return ctx.fail("cannot open the projection catalog", catalog.error());
  auto removed = (*catalog)->remove_dead_letter(id);
  if (!removed)
    return ctx.fail("cannot discard dead letter " + std::to_string(id),
                    removed.error());
  if (!*removed)
    return ctx.fail("dead-letters discard", "no dead letter "
                                              + std::to_string(id),
                    "list them with 'eventsource dead-letters list'");
  std::cout << "discarded dead letter " << id << '\n';
  return exit_ok;
}

int retry_letter(const context& ctx, int64_t id) {
  return ctx.fail("dead-letters retry " + std::to_string(id),
                  "a redrive needs the projection's handler, so it runs "
                  "inside the node that owns the projection",
                  "call es::runtime::redrive(" + std::to_string(id)
                    + ") there, or fix the cause and rebuild the projection");
}

} // namespace

void add_projection_commands(CLI::App& app, context& ctx, action& run) {
  auto a = std::make_shared<projection_args>();
  auto* p = app.add_subcommand("projections", "Show and control projections");
  p->require_subcommand(1);
  auto* l = p->add_subcommand("list", "List projections with state and lag");
  add_json_flag(l, ctx);
  set_example(l, "projections list --json");
  l->callback([&ctx, &run] { run = [&ctx] { return list(ctx); }; });
  auto* s = p->add_subcommand("show", "Show one projection");
  s->add_option("NAME", a->name, "The projection")->required();
  add_json_flag(s, ctx);
  set_example(s, "projections show bank_balances");
  s->callback([&ctx, &run, a] { run = [&ctx, a] { return show(ctx, a->name); }; });
  for (auto op : {projection_op::pause, projection_op::resume,
                  projection_op::reset, projection_op::rebuild,
                  projection_op::retry}) {
    std::string name = to_string(op);
    auto* c = p->add_subcommand(name, "Ask the running nodes to " + name
                                        + " a projection");
    c->add_option("NAME", a->name, "The projection")->required();
    if (op == projection_op::reset || op == projection_op::rebuild)
      c->add_flag("--yes", a->yes, "Do not ask for confirmation");
    set_example(c, "projections " + name + " bank_balances"
                     + (c->get_option_no_throw("--yes") ? " --yes" : ""));
    c->callback([&ctx, &run, a, op] {
      run = [&ctx, a, op] { return control(ctx, op, *a); };
    });
  }

  auto* d = app.add_subcommand("dead-letters", "Inspect dead letters");
  d->require_subcommand(1);
  auto* dl = d->add_subcommand("list", "List dead letters, oldest first");
  dl->add_option("--projection", a->name, "Only those of this projection");
  add_json_flag(dl, ctx);
  set_example(dl, "dead-letters list --projection bank_balances");
  dl->callback(
    [&ctx, &run, a] { run = [&ctx, a] { return list_letters(ctx, a->name); }; });
  auto* dd = d->add_subcommand("discard", "Delete a dead letter");
  dd->add_option("ID", a->id, "The dead letter's id")
    ->required()
    ->check(integer_in(1));
  set_example(dd, "dead-letters discard 17");
  dd->callback(
    [&ctx, &run, a] { run = [&ctx, a] { return discard_letter(ctx, a->id); }; });
  auto* dr = d->add_subcommand(
    "retry", "Not here: a redrive runs in the node that owns the projection");
  dr->add_option("ID", a->id, "The dead letter's id")
    ->required()
    ->check(integer_in(1));
  set_example(dr, "dead-letters retry 17");
  dr->callback(
    [&ctx, &run, a] { run = [&ctx, a] { return retry_letter(ctx, a->id); }; });
}

} // namespace es::cli
