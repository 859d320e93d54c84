// The runtime object: bad options, bad input, shutting down with
// commands in flight (they are answered, never dropped), and both
// scheduler policies.
#include <gtest/gtest.h>

#include <caf/event_based_actor.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>

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

// The threaded runtime on either scheduler policy: many commands in flight
// at once, every one answered and applied once.
TEST(Runtime, BothSchedulerPoliciesAnswerEveryCommandInFlight) {
  constexpr int accounts = 10, per_account = 50;
  for (auto policy :
       {es::scheduler_policy::sharing, es::scheduler_policy::stealing}) {
    es::runtime_options opts;
    opts.scheduler = policy;
    opts.scheduler_threads = 2;
    auto rt = es::runtime::start(opts);
    ASSERT_TRUE(rt) << to_string(rt.error());
    using sharing_scheduler
      = caf::scheduler::coordinator<caf::policy::work_sharing>;
    EXPECT_EQ(dynamic_cast<sharing_scheduler*>(&(*rt)->system().scheduler())
                != nullptr,
              policy == es::scheduler_policy::sharing);
    auto id = [](int i) { return "acct-" + std::to_string(i); };
    for (int i = 0; i < accounts; ++i)
      ASSERT_TRUE((*rt)->execute<account>(id(i), open_account{"ada"}));
    // One actor sends every deposit at once and reports how many of them
    // were answered with success.
    auto client = [](caf::event_based_actor* self, es::runtime* rt,
                     caf::actor parent, int accounts, int per_account) {
      auto answered = std::make_shared<int>(0);
      auto ok = std::make_shared<int>(0);
      int total = accounts * per_account;
      auto record = [=](bool success) {
        *ok += success;
        if (++*answered == total) {
          self->send(parent, *ok);
          self->quit();
        }
      };
      for (int k = 0; k < per_account; ++k)
        for (int i = 0; i < accounts; ++i)
          rt->request<account>(self, "acct-" + std::to_string(i), deposit{1})
            .then([=](es::command_result&) { record(true); },
                  [=](caf::error&) { record(false); });
    };
    caf::scoped_actor self{(*rt)->system()};
    (*rt)->system().spawn(client, rt->get(), caf::actor{self}, accounts,
                          per_account);
    self->receive([&](int ok) { EXPECT_EQ(ok, accounts * per_account); });
    for (int i = 0; i < accounts; ++i) {
      auto view = (*rt)->inspect<account>(id(i));
      ASSERT_TRUE(view) << to_string(view.error());
      EXPECT_EQ(view->version, 1 + per_account);
      EXPECT_EQ(view->state.balance, per_account);
    }
  }
}
