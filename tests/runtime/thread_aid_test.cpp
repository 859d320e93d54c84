// The thread_local actor id (runtime/src/thread_aid.cpp): this program's
// definition answers CAF's logger, and the scheduler still tells every
// running actor its own id, per thread.
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/logger.hpp>
#include <caf/scoped_actor.hpp>

#include "es/runtime.hpp"

namespace {

// caf::logger::thread_local_aid(unsigned long)
constexpr const char* setter = "_ZN3caf6logger16thread_local_aidEm";

caf::actor_id running_aid() {
  auto* log = caf::logger::current_logger();
  return log ? log->thread_local_aid() : caf::actor_id{0};
}

} // namespace

TEST(ThreadAid, TheExecutableDefinesTheLoggersActorId) {
  auto here = dlsym(RTLD_DEFAULT, setter);
  auto next = dlsym(RTLD_NEXT, setter);
  ASSERT_NE(here, nullptr);
  ASSERT_NE(next, nullptr); // libcaf_core's, which this one replaces
  EXPECT_NE(here, next);
}

TEST(ThreadAid, EveryRunningActorSeesItsOwnId) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  // An argument each: CAF 0.17.6 binds a reference to a null tuple
  // (UBSan) when it spawns a function without arguments.
  auto reporter = [](caf::event_based_actor* self, int) -> caf::behavior {
    return {[self](int) {
      return caf::make_message(self->id(), running_aid());
    }};
  };
  std::vector<caf::actor> actors;
  for (int i = 0; i < 4; ++i)
    actors.push_back(sys.spawn(reporter, 0));
  caf::scoped_actor caller{sys};
  for (int round = 0; round < 3; ++round)
    for (const auto& a : actors)
      caller->request(a, caf::infinite, round)
        .receive(
          [&](caf::actor_id own, caf::actor_id seen) {
            EXPECT_EQ(seen, own) << "round " << round;
          },
          [&](caf::error& err) { FAIL() << sys.render(err); });
}

TEST(ThreadAid, EachThreadKeepsItsOwnIdAndGetsThePreviousBack) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto& log = sys.logger();
  auto before = log.thread_local_aid(41);
  EXPECT_EQ(log.thread_local_aid(), 41u);
  caf::actor_id other_before = 99, other_set = 0;
  std::thread other{[&] {
    other_before = log.thread_local_aid();
    log.thread_local_aid(7);
    other_set = log.thread_local_aid();
  }};
  other.join();
  EXPECT_EQ(other_before, 0u); // a new thread starts without an actor
  EXPECT_EQ(other_set, 7u);
  EXPECT_EQ(log.thread_local_aid(), 41u); // untouched by the other thread
  EXPECT_EQ(log.thread_local_aid(before), 41u);
  EXPECT_EQ(log.thread_local_aid(), before);
}
