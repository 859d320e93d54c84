// The load generator: a driver actor keeps a fixed number of commands in
// flight (closed loop) and measures each one from send to reply.
#include "load.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <future>
#include <iomanip>
#include <memory>
#include <ostream>
#include <random>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "account.hpp"
#include "es/runtime.hpp"

namespace bank {

namespace {

using steady = std::chrono::steady_clock;

struct task {
  std::string id;
  account::command command;
};

// One phase: `total` commands made by `next(i)`, `in_flight` at a time.
struct phase {
  int64_t total = 0;
  int64_t in_flight = 1;
  std::function<task(int64_t)> next;
};

struct tally {
  int64_t ok = 0;
  int64_t rejected = 0;
  int64_t conflicts = 0;
  int64_t errors = 0;
  int64_t events = 0;
  es::error first_error; ///< Of the errors (not rejected, no conflict).
  std::vector<int64_t> latencies_ns;
  std::vector<std::pair<std::string, int64_t>> acks; ///< Account, version.
  double seconds = 0;
};

struct driver_state {
  es::runtime* rt = nullptr;
  phase job;
  bool keep_acks = false;
  int64_t sent = 0;
  int64_t outstanding = 0;
  steady::time_point start;
  tally out;
  std::shared_ptr<std::promise<tally>> done;

  static inline const char* name = "bank.load_driver";
};

using driver_actor = caf::stateful_actor<driver_state>;

void count_error(tally& t, const caf::error& err) {
  auto e = es::actors::from_caf(err);
  if (e.code() == es::ec::rejected) {
    ++t.rejected;
    return;
  }
  if (e.code() == es::ec::conflict) {
    ++t.conflicts;
    return;
  }
  ++t.errors;
  if (!t.first_error)
    t.first_error = std::move(e);
}

void fill(driver_actor* self);

// Called after every reply: refill the pipeline, or finish and quit (a live
// driver would keep the actor system from shutting down).
void replied(driver_actor* self, steady::time_point sent_at) {
  auto& st = self->state;
  auto now = steady::now();
  st.out.latencies_ns.push_back(
    std::chrono::duration_cast<std::chrono::nanoseconds>(now - sent_at)
      .count());
  --st.outstanding;
  fill(self);
  if (st.outstanding == 0 && st.sent == st.job.total) {
    st.out.seconds = std::chrono::duration<double>(now - st.start).count();
    st.done->set_value(std::move(st.out));
    self->quit();
  }
}

void fill(driver_actor* self) {
  auto& st = self->state;
  while (st.outstanding < st.job.in_flight && st.sent < st.job.total) {
    auto w = st.job.next(st.sent++);
    ++st.outstanding;
    auto sent_at = steady::now();
    st.rt->request<account>(self, w.id, std::move(w.command))
      .then(
        [self, sent_at, id = w.id](es::command_result& r) {
          auto& out = self->state.out;
          ++out.ok;
          out.events += static_cast<int64_t>(r.events.size());
          if (self->state.keep_acks && !r.events.empty())
            out.acks.emplace_back(id, r.version);
          replied(self, sent_at);
        },
        [self, sent_at](caf::error& err) {
          count_error(self->state.out, err);
          replied(self, sent_at);
        });
  }
}

caf::behavior driver(driver_actor* self, es::runtime* rt, phase job,
                     bool keep_acks,
                     std::shared_ptr<std::promise<tally>> done) {
  auto& st = self->state;
  st.rt = rt;
  st.keep_acks = keep_acks;
  st.job = std::move(job);
  st.done = std::move(done);
  st.out.latencies_ns.reserve(static_cast<size_t>(st.job.total));
  st.start = steady::now();
  fill(self);
  return {[](int) {
    // nop: the driver only handles replies
  }};
}

// Runs one phase on the runtime's actor system; blocks until it is done.
tally run_phase(es::runtime& rt, phase job, bool keep_acks = false) {
  if (job.total == 0)
    return {};
  auto done = std::make_shared<std::promise<tally>>();
  auto result = done->get_future();
  rt.system().spawn(driver, &rt, std::move(job), keep_acks, done);
  return result.get();
}

// Nearest-rank percentile of sorted latencies, in milliseconds.
double percentile_ms(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto rank = static_cast<size_t>(std::ceil(p * sorted.size()));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1] / 1e6;
}

// Returns x rounded to `digits` decimals (for a short JSON number).
double rounded(double x, int digits) {
  auto scale = std::pow(10.0, digits);
  return std::round(x * scale) / scale;
}

} // namespace

double load_report::commands_per_second() const {
  return seconds > 0 ? (commands_ok + rejected + conflicts + errors) / seconds
                     : 0;
}

double load_report::events_per_second() const {
  return seconds > 0 ? events / seconds : 0;
}

es::result<load_report> run_load(es::runtime& rt, const load_options& opts) {
  auto open = run_phase(
    rt, {opts.accounts, opts.concurrency, [](int64_t i) {
           auto n = std::to_string(i + 1);
           return task{"acct-" + n, open_account{"owner-" + n}};
         }});
  if (open.first_error)
    return es::error{open.first_error.code(),
                     "opening accounts: " + open.first_error.message()};
  auto rng = std::make_shared<std::mt19937_64>(opts.seed);
  auto next = [rng, n = opts.accounts,
               share = static_cast<double>(opts.withdrawals) / 100](int64_t) {
    std::uniform_int_distribution<int64_t> account_no(1, n);
    std::uniform_int_distribution<int64_t> amount(1, 100);
    auto id = "acct-" + std::to_string(account_no(*rng));
    if (std::bernoulli_distribution{share}(*rng))
      return task{std::move(id), withdraw{amount(*rng)}};
    return task{std::move(id), deposit{amount(*rng)}};
  };
  auto t = run_phase(rt, {opts.commands, opts.concurrency, next},
                     !opts.acks_path.empty());
  if (!opts.acks_path.empty()) {
    std::ofstream acks{opts.acks_path};
    for (const auto& [id, version] : t.acks)
      acks << id << ' ' << version << '\n';
    if (!acks.flush())
      return es::error{es::ec::invalid_argument,
                       "cannot write " + opts.acks_path};
  }
  std::sort(t.latencies_ns.begin(), t.latencies_ns.end());
  load_report r;
  r.commands_ok = t.ok;
  r.rejected = t.rejected;
  r.conflicts = t.conflicts;
  r.errors = t.errors;
  r.events = t.events;
  r.seconds = t.seconds;
  r.already_open = open.rejected;
  r.open_seconds = open.seconds;
  r.p50_ms = percentile_ms(t.latencies_ns, 0.50);
  r.p99_ms = percentile_ms(t.latencies_ns, 0.99);
  if (t.first_error)
    r.first_error = t.first_error.to_string();
  return r;
}

void print_summary(std::ostream& out, const load_options& opts,
                   const load_report& r) {
  out << std::fixed << std::setprecision(0) << "bank load: " << opts.accounts
      << " accounts, " << opts.commands << " commands, " << opts.concurrency
      << " in flight, " << opts.withdrawals << "% withdrawals, seed "
      << opts.seed << ", store " << opts.store_kind
      << '\n'
      << std::setprecision(3) << "  opened:     " << opts.accounts
      << " accounts (" << r.already_open << " already open) in "
      << r.open_seconds << " s\n"
      << "  commands:   " << r.commands_ok << " ok, " << r.rejected
      << " rejected, " << r.conflicts << " conflicts, " << r.errors
      << " errors in " << r.seconds << " s\n"
      << std::setprecision(0) << "  throughput: " << r.commands_per_second()
      << " commands/s, " << r.events_per_second() << " events/s\n"
      << std::setprecision(2) << "  latency:    p50 " << r.p50_ms
      << " ms, p99 " << r.p99_ms << " ms\n";
  if (!r.first_error.empty())
    out << "  first error: " << r.first_error << '\n';
  out << std::defaultfloat;
}

void print_json(std::ostream& out, const load_options& opts,
                const load_report& r, const nlohmann::json& extra) {
  nlohmann::json j{
    {"accounts", opts.accounts},
    {"commands", opts.commands},
    {"concurrency", opts.concurrency},
    {"seed", opts.seed},
    {"withdrawals_percent", opts.withdrawals},
    {"store", opts.store_kind},
    {"commands_ok", r.commands_ok},
    {"rejected", r.rejected},
    {"conflicts", r.conflicts},
    {"errors", r.errors},
    {"events", r.events},
    {"seconds", rounded(r.seconds, 4)},
    {"commands_per_second", rounded(r.commands_per_second(), 1)},
    {"events_per_second", rounded(r.events_per_second(), 1)},
    {"p50_ms", rounded(r.p50_ms, 3)},
    {"p99_ms", rounded(r.p99_ms, 3)},
  };
  j.update(extra);
  out << j.dump() << '\n';
}

} // namespace bank
