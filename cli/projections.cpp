// `eventsource projections ...`: show projections and send operators'
// requests, through the database or a running node (sources.hpp). `--wait`
// follows a request until its node has finished it, with a progress bar on
// a terminal.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>
#include <unistd.h>

#include "commands.hpp"
#include "progress.hpp"
#include "sources.hpp"
#include "waiting.hpp"

namespace es::cli {

namespace {

struct projection_args {
  std::string name;
  bool yes = false;
  wait_args wait;
};

int no_projection(const context& ctx, const source& src,
                  const std::string& name) {
  return ctx.fail("projections", "no projection '" + name + "' in "
                                   + src.where(),
                  "list them with 'eventsource projections list'");
}

std::string number(int64_t x) {
  return x < 0 ? "?" : std::to_string(x);
}

int list(const context& ctx) {
  auto src = open_source(ctx);
  if (!src)
    return open_failed(ctx, src.error());
  auto views = (*src)->list();
  if (!views)
    return ctx.fail("cannot list the projections", views.error());
  if (ctx.json) {
    auto arr = json::array();
    for (const auto& v : *views)
      arr.push_back(view_json(v));
    std::cout << json{{"projections", arr}}.dump() << '\n';
    return exit_ok;
  }
  table t{{"name", "state", "checkpoint", "head", "lag", "last_error",
           "updated_at"}};
  for (const auto& v : *views) {
    auto err = v.last_error.empty()
                 ? std::string{"-"}
                 : one_line(v.last_error) + " (at "
                     + std::to_string(v.error_position) + ")";
    t.add({v.name, v.standby ? "standby" : to_string(v.state),
           std::to_string(v.checkpoint),
           number(v.head), number(v.lag), err,
           v.updated_at.empty() ? "-" : v.updated_at});
  }
  t.print(std::cout);
  return exit_ok;
}

int show(const context& ctx, const std::string& name) {
  auto src = open_source(ctx);
  if (!src)
    return open_failed(ctx, src.error());
  auto view = (*src)->find(name);
  if (!view)
    return ctx.fail("cannot read projection '" + name + "'", view.error());
  if (!*view)
    return no_projection(ctx, **src, name);
  auto j = view_json(**view);
  if (ctx.json) {
    std::cout << j.dump() << '\n';
    return exit_ok;
  }
  table t{{"field", "value"}, false};
  for (const auto& [key, v] : j.items()) {
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

// Returns true when `op` has had its effect on `v`.
bool reached(projection_op op, const projection_view& v) {
  switch (op) {
    case projection_op::pause:
    case projection_op::reset:
      return v.state == projection_state::paused;
    default:
      return v.state == projection_state::live;
  }
}

// Follows `name` until `op` (ticket `ticket`) has had its effect; draws the
// catch-up on a terminal.
int wait_for(const context& ctx, source& src, const std::string& name,
             projection_op op, int64_t ticket, std::chrono::seconds limit) {
  std::string what = std::string{to_string(op)} + " " + name;
  progress bar{what, progress::on_terminal()};
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    auto view = src.find(name);
    if (!view || !*view) {
      bar.clear();
      return view ? no_projection(ctx, src, name)
                  : ctx.fail("cannot read projection '" + name + "'",
                             view.error());
    }
    const auto& v = **view;
    auto waited = std::chrono::steady_clock::now() - start;
    if (v.request_id > ticket && v.applied_id != ticket) {
      bar.clear();
      return ctx.fail(what, "another request replaced it (request "
                              + std::to_string(v.request_id) + ")",
                      "see 'eventsource projections show " + name + "'");
    }
    if (v.applied_id >= ticket) {
      if (!v.applied_error.empty()) {
        bar.clear();
        return ctx.fail(what, "the node could not apply it: "
                                + v.applied_error);
      }
      if (v.state == projection_state::failed) {
        bar.clear();
        return ctx.fail(what, "the projection failed at position "
                                + std::to_string(v.error_position) + ": "
                                + v.last_error,
                        "see 'eventsource projections show " + name + "'");
      }
      if (reached(op, v)) {
        bar.update(v.checkpoint, v.head);
        bar.finish();
        std::cout << what << ": done (state " << to_string(v.state)
                  << ", checkpoint " << v.checkpoint << ")\n";
        return exit_ok;
      }
      if (v.state == projection_state::catching_up)
        bar.update(v.checkpoint, v.head);
    } else if (v.requested && waited > std::min(pickup_limit, limit)) {
      bar.clear();
      return ctx.fail(what, "no running node has taken the request",
                      "it stays queued: a node that runs '" + name
                        + "' applies it when it starts");
    }
    if (waited > limit) {
      bar.clear();
      return ctx.fail(what, "not done after "
                              + std::to_string(limit.count())
                              + " s (state " + to_string(v.state) + ")",
                      "follow it with 'eventsource projections show " + name
                        + "'; if its node stopped meanwhile, request it "
                          "again");
    }
    std::this_thread::sleep_for(poll_every);
  }
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
  auto src = open_source(ctx, a.wait.limit());
  if (!src)
    return open_failed(ctx, src.error());
  auto view = (*src)->find(a.name);
  if (!view)
    return ctx.fail("cannot read projection '" + a.name + "'", view.error());
  if (!*view)
    return no_projection(ctx, **src, a.name);
  if (destructive && !a.yes && !confirmed(what, a.name))
    return ctx.fail("projections " + what + " " + a.name,
                    "not confirmed, nothing requested",
                    "type the name exactly, or pass --yes");
  auto ticket = (*src)->request(a.name, op);
  if (!ticket)
    return ctx.fail("cannot request " + what + " of " + a.name,
                    ticket.error());
  if (a.wait.enabled())
    return wait_for(ctx, **src, a.name, op, *ticket, a.wait.limit());
  if (ctx.node.empty())
    std::cout << "requested " << what << " of " << a.name
              << "; a running node applies it\n";
  else
    std::cout << what << " of " << a.name << ": applied by node " << ctx.node
              << '\n';
  return exit_ok;
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
    auto* c = p->add_subcommand(name, "Ask the running node(s) to " + name
                                        + " a projection");
    c->add_option("NAME", a->name, "The projection")->required();
    if (op == projection_op::reset || op == projection_op::rebuild)
      c->add_flag("--yes", a->yes, "Do not ask for confirmation");
    add_wait_flags(c, a->wait);
    set_example(c, "projections " + name + " bank_balances"
                     + (c->get_option_no_throw("--yes") ? " --yes" : ""));
    c->callback([&ctx, &run, a, op] {
      run = [&ctx, a, op] { return control(ctx, op, *a); };
    });
  }
}

} // namespace es::cli
