// The __dynamic_cast cache (runtime/src/resume_cast.cpp): casts from
// caf::resumable give what libstdc++'s would, on the first call (a miss)
// and on the next ones (hits), for actors of different types and for a
// resumable that is no actor.
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "es/runtime.hpp"

namespace {

struct counter_state {
  int n = 0;
};

// A resumable that is not an actor, with a base before `resumable` so that
// the cast has an offset to get wrong.
struct padding {
  virtual ~padding() = default;
  char bytes[24] = {};
};

struct job : padding, caf::resumable {
  subtype_t subtype() const override {
    return function_object;
  }
  resume_result resume(caf::execution_unit*, size_t) override {
    return done;
  }
  void intrusive_ptr_add_ref_impl() override {
  }
  void intrusive_ptr_release_impl() override {
  }
};

caf::abstract_actor* cast(caf::resumable* r) {
  return dynamic_cast<caf::abstract_actor*>(r);
}

} // namespace

TEST(ResumeCast, TheExecutableCachesCastsFromResumable) {
  // es_runtime's definition, not libstdc++'s, answers this program.
  auto here = dlsym(RTLD_DEFAULT, "__dynamic_cast");
  auto next = dlsym(RTLD_NEXT, "__dynamic_cast");
  ASSERT_NE(here, nullptr);
  EXPECT_NE(here, next);
}

TEST(ResumeCast, CastsFromResumableMatchTheActorsOwnAddress) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  // An argument each: CAF 0.17.6 binds a reference to a null tuple
  // (UBSan) when it spawns a function without arguments.
  auto plain = sys.spawn(
    [](caf::event_based_actor*, int) -> caf::behavior {
      return {[](int) {}};
    },
    0);
  auto stateful = sys.spawn(
    [](caf::stateful_actor<counter_state>* self, int first) -> caf::behavior {
      self->state.n = first;
      return {[self](int x) { self->state.n += x; }};
    },
    0);
  for (const auto& handle : {plain, stateful}) {
    auto* actor = caf::actor_cast<caf::abstract_actor*>(handle);
    auto* as_resumable = dynamic_cast<caf::resumable*>(actor);
    ASSERT_NE(as_resumable, nullptr);
    for (int round = 0; round < 3; ++round)
      EXPECT_EQ(cast(as_resumable), actor) << "round " << round;
  }
  job j;
  for (int round = 0; round < 3; ++round)
    EXPECT_EQ(cast(&j), nullptr) << "round " << round;
  anon_send_exit(plain, caf::exit_reason::user_shutdown);
  anon_send_exit(stateful, caf::exit_reason::user_shutdown);
}
