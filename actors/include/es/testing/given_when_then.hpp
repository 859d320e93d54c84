// Tests an aggregate's execute/apply without actors or stores, in the
// given/when/then style of Commanded's `assert_events`.
//
//   auto r = es::testing::given<account>({account_opened{"ada"},
//                                         deposited{100}})
//              .when(withdraw{30});
//   EXPECT_TRUE(r.accepted());
//   EXPECT_EQ(r.events(), std::vector<account::event>{withdrawn{30}});
//   EXPECT_EQ(r.state().balance, 70);                  // state after apply
//
//   auto no = es::testing::given<account>({}).when(withdraw{1});
//   EXPECT_EQ(no.rejection(), "account is not open");
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "es/aggregate.hpp"

namespace es::testing {

/// The outcome of one command: the decision and the state after applying
/// its events.
template <class A>
class outcome {
public:
  using state_type = typename A::state;
  using event_type = typename A::event;

  outcome(decision<event_type> d, state_type s)
    : decision_(std::move(d)), state_(std::move(s)) {
    // nop
  }

  /// Returns true unless the command was rejected.
  bool accepted() const {
    return !decision_.rejected();
  }

  /// Returns the reason of a rejection, or "" when accepted.
  const std::string& rejection() const {
    return decision_.reason();
  }

  /// Returns the events the command produced.
  const std::vector<event_type>& events() const {
    return decision_.events();
  }

  /// Returns the state after applying the events (unchanged if rejected).
  const state_type& state() const {
    return state_;
  }

private:
  decision<event_type> decision_;
  state_type state_;
};

/// An aggregate's state built from past events.
template <class A>
class scenario {
public:
  using state_type = typename A::state;
  using event_type = typename A::event;

  explicit scenario(state_type s) : state_(std::move(s)) {
    // nop
  }

  /// Executes `cmd` against the state; applies the events it produced.
  outcome<A> when(const typename A::command& cmd) const {
    auto d = A::execute(state_, cmd);
    auto s = state_;
    if (!d.rejected())
      for (const auto& e : d.events())
        s = A::apply(std::move(s), e);
    return outcome<A>{std::move(d), std::move(s)};
  }

  /// Returns the state the past events produced.
  const state_type& state() const {
    return state_;
  }

private:
  state_type state_;
};

/// Starts a scenario: the aggregate has seen `history`, in order.
template <class A>
scenario<A> given(const std::vector<typename A::event>& history) {
  typename A::state s{};
  for (const auto& e : history)
    s = A::apply(std::move(s), e);
  return scenario<A>{std::move(s)};
}

} // namespace es::testing
