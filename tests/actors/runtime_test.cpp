// The runtime object: bad options, bad input, and shutting down with
// commands in flight (they are answered, never dropped).
#include <gtest/gtest.h>

#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "account.hpp"
#include "actors/deterministic_runtime.hpp"
#include "actors/fixture.hpp"
#include "es/runtime.hpp"

using namespace bank;
using es::ec;
using es::test::code_of;

namespace {

std::unique_ptr<es::runtime> start(es::runtime_options opts = {}) {
  return es::test::start_runtime(std::move(opts));
}

caf::scheduler::test_coordinator& sched(es::runtime& rt) {
  return es::test::scheduler_of(rt);
}

// Replies as numbers: the version, or minus the es error code.
using reply_log = std::vector<int64_t>;

// Spawns an actor that sends `deposit{1..n}` to acct-1 when it starts and
// quits after the n-th reply.
void spawn_client(es::runtime& rt, int n, std::shared_ptr<reply_log> log) {
  // Arguments instead of captures: CAF 0.17.6 dereferences a null tuple
  // pointer (UBSan) when spawning a function without arguments.
  auto client = [](caf::event_based_actor* self, es::runtime* rt, int n,
                   std::shared_ptr<reply_log> log) {
    auto record = [self, n, log](int64_t x) {
      log->push_back(x);
      if (static_cast<int>(log->size()) == n)
        self->quit();
    };
    for (int i = 1; i <= n; ++i)
      rt->request<account>(self, "acct-1", deposit{i})
        .then([=](es::command_result& r) { record(r.version); },
              [=](caf::error& e) {
                record(-static_cast<int64_t>(code_of(e)));
              });
  };
  rt.system().spawn(client, &rt, n, std::move(log));
}

} // namespace

TEST(Runtime, StartRejectsBadOptions) {
  es::runtime_options no_readers;
  no_readers.readers = 0;
  es::runtime_options no_batch;
  no_batch.max_batch = 0;
  es::runtime_options bad_url;
  bad_url.store_url = "mysql://localhost/es";
  for (auto* opts : {&no_readers, &no_batch, &bad_url}) {
    opts->deterministic = true;
    auto rt = es::runtime::start(*opts);
    ASSERT_FALSE(rt);
    EXPECT_EQ(code_of(rt.error()), ec::invalid_argument)
      << to_string(rt.error());
  }
}

TEST(Runtime, OversizedEventFailsWithInvalidArgumentAndChangesNothing) {
  auto rt = start();
  auto r = rt->execute<account>("acct-1",
                                open_account{std::string(2 << 20, 'x')});
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), ec::invalid_argument);
  EXPECT_EQ(rt->inspect<account>("acct-1")->version, 0);
  EXPECT_TRUE(rt->read_stream("acct-1")->empty());
  auto ok = rt->execute<account>("acct-1", open_account{"ada"});
  ASSERT_TRUE(ok) << to_string(ok.error());
  EXPECT_EQ(ok->version, 1);
}

TEST(Runtime, InvalidUtf8FailsWithInvalidArgumentAndTheJournalLives) {
  auto rt = start();
  auto r = rt->execute<account>("acct-1", open_account{"\xff\xfe"});
  ASSERT_FALSE(r);
  EXPECT_EQ(code_of(r.error()), ec::invalid_argument) << to_string(r.error());
  auto ok = rt->execute<account>("acct-1", open_account{"ada"});
  ASSERT_TRUE(ok) << to_string(ok.error());
  EXPECT_EQ(ok->version, 1);
}

TEST(Runtime, DestructionAnswersCommandsInFlight) {
  auto log = std::make_shared<reply_log>();
  {
    auto rt = start();
    ASSERT_TRUE(rt->execute<account>("acct-1", open_account{"ada"}));
    spawn_client(*rt, 3, log);
    // Start the client only: its commands wait in acct-1's mailbox.
    ASSERT_EQ(sched(*rt).jobs.size(), 1u);
    sched(*rt).run_once();
    EXPECT_TRUE(log->empty());
  }
  EXPECT_EQ(*log, (reply_log{2, 3, 4}));
}

TEST(Runtime, CommandsAfterShutdownBeganAreRefusedAsUnavailable) {
  auto log = std::make_shared<reply_log>();
  {
    auto rt = start();
    ASSERT_TRUE(rt->execute<account>("acct-1", open_account{"ada"}));
    spawn_client(*rt, 2, log); // starts only inside ~runtime
  }
  auto unavailable = -static_cast<int64_t>(ec::unavailable);
  EXPECT_EQ(*log, (reply_log{unavailable, unavailable}));
}
