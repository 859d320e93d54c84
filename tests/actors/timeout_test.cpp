// Command timeouts on the threaded runtime: the runtime times commands out
// itself (runtime/src/deadlines.hpp), not with a CAF timer per request. A
// command that takes too long gets `sec::request_timeout`; one that answers
// in time gets its answer and nothing after it.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <variant>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <nlohmann/json.hpp>

#include "es/aggregate.hpp"
#include "es/runtime.hpp"

namespace {

// Opened by the test: `hold` commands wait in `execute` until then.
struct gate_latch {
  std::mutex mtx;
  std::condition_variable cv;
  bool open = true;

  void close() {
    std::lock_guard<std::mutex> guard{mtx};
    open = false;
  }

  void wait() {
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait(guard, [this] { return open; });
  }

  void release() {
    {
      std::lock_guard<std::mutex> guard{mtx};
      open = true;
    }
    cv.notify_all();
  }
};

gate_latch latch;

struct hold {};
struct pass {};

struct passed {
  static constexpr const char* type_name = "passed";
};

void to_json(nlohmann::json& j, const passed&) {
  j = nlohmann::json::object();
}

void from_json(const nlohmann::json&, passed&) {
  // nop
}

// An aggregate whose `hold` command blocks until the latch opens.
struct gate {
  static constexpr const char* type = "gate";
  struct state {
    int64_t passed = 0;
  };
  using command = std::variant<hold, pass>;
  using event = std::variant<passed>;

  static es::decision<event> execute(const state&, const command& c) {
    if (std::holds_alternative<hold>(c))
      latch.wait();
    return passed{};
  }

  static state apply(state s, const event&) {
    ++s.passed;
    return s;
  }
};

// What one caller saw: every reply (a version, or an error).
struct replies {
  std::mutex mtx;
  std::vector<std::variant<int64_t, caf::error>> seen;
  std::promise<void> first;

  void add(std::variant<int64_t, caf::error> x) {
    std::lock_guard<std::mutex> guard{mtx};
    seen.push_back(std::move(x));
    if (seen.size() == 1)
      first.set_value();
  }
};

// Sends one command to gate `id` from an actor of its own and returns that
// actor. It answers an `int` with the same (whatever reached its mailbox
// before has been handled by then).
caf::actor send(es::runtime& rt, std::string id, gate::command cmd,
                std::shared_ptr<replies> out) {
  auto caller = [](caf::event_based_actor* self, es::runtime* rt,
                   std::string id, gate::command cmd,
                   std::shared_ptr<replies> out) -> caf::behavior {
    rt->request<gate>(self, id, cmd)
      .then([out](es::command_result& r) { out->add(r.version); },
            [out](caf::error& err) { out->add(err); });
    return {[](int x) { return x; }};
  };
  return rt.system().spawn(caller, &rt, std::move(id), std::move(cmd),
                           std::move(out));
}

es::runtime_options options() {
  es::runtime_options opts;
  opts.request_timeout = std::chrono::milliseconds{200};
  return opts;
}

} // namespace

TEST(CommandTimeout, ASlowCommandTimesOut) {
  latch.close();
  auto rt = es::runtime::start(options());
  ASSERT_TRUE(rt) << to_string(rt.error());
  auto out = std::make_shared<replies>();
  send(**rt, "g-1", hold{}, out);
  // Bounded only for a broken build: the timeout is 200 ms.
  ASSERT_EQ(out->first.get_future().wait_for(std::chrono::seconds{30}),
            std::future_status::ready);
  latch.release();
  std::lock_guard<std::mutex> guard{out->mtx};
  ASSERT_EQ(out->seen.size(), 1u);
  auto* err = std::get_if<caf::error>(&out->seen.front());
  ASSERT_NE(err, nullptr) << "the command should have timed out";
  EXPECT_EQ(*err, caf::sec::request_timeout);
}

TEST(CommandTimeout, ACommandInTimeGetsItsAnswerAndNothingMore) {
  auto rt = es::runtime::start(options());
  ASSERT_TRUE(rt) << to_string(rt.error());
  auto out = std::make_shared<replies>();
  auto first = send(**rt, "g-2", pass{}, out);
  ASSERT_EQ(out->first.get_future().wait_for(std::chrono::seconds{30}),
            std::future_status::ready);
  // A second command, sent after the first was answered, times out: the
  // first one's deadline (earlier) has passed by then too.
  latch.close();
  auto later = std::make_shared<replies>();
  send(**rt, "g-2", hold{}, later);
  ASSERT_EQ(later->first.get_future().wait_for(std::chrono::seconds{30}),
            std::future_status::ready);
  latch.release();
  // The first caller handled its late timeout before this request.
  caf::scoped_actor self{(*rt)->system()};
  self->request(first, caf::infinite, 7).receive(
    [](int x) { EXPECT_EQ(x, 7); },
    [](caf::error& err) { FAIL() << to_string(err); });
  std::lock_guard<std::mutex> guard{out->mtx};
  ASSERT_EQ(out->seen.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<int64_t>(out->seen.front()));
  EXPECT_EQ(std::get<int64_t>(out->seen.front()), 1);
  std::lock_guard<std::mutex> guard2{later->mtx};
  ASSERT_EQ(later->seen.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<caf::error>(later->seen.front()));
}

TEST(CommandTimeout, NoTimeoutMeansTheCommandWaits) {
  auto opts = options();
  opts.request_timeout = std::chrono::milliseconds{0};
  auto rt = es::runtime::start(opts);
  ASSERT_TRUE(rt) << to_string(rt.error());
  auto out = std::make_shared<replies>();
  send(**rt, "g-3", pass{}, out);
  ASSERT_EQ(out->first.get_future().wait_for(std::chrono::seconds{30}),
            std::future_status::ready);
  std::lock_guard<std::mutex> guard{out->mtx};
  ASSERT_EQ(out->seen.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<int64_t>(out->seen.front()));
}
