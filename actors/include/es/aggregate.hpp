// The domain side of an aggregate: a state and two pure functions, free of
// CAF, SQL and JSON plumbing (as Akka's EventSourcedBehavior or Commanded's
// execute/apply).
//
//   struct account {
//     static constexpr const char* type = "account";   // the stream type
//     struct state { int64_t balance = 0; bool open = false; };
//     using command = std::variant<open_account, deposit, withdraw>;
//     using event = std::variant<account_opened, deposited, withdrawn>;
//     static es::decision<event> execute(const state& s, const command& c);
//     static state apply(state s, const event& e);     // must not fail
//   };
//
//   es::decision<account::event> account::execute(const state& s,
//                                                  const command& c) {
//     if (s.balance < amount) return es::reject("insufficient funds");
//     return withdrawn{amount};                          // or {e1, e2}
//   }
//
// Events and commands are plain structs with nlohmann_json to_json/from_json
// and, for events, a stable `type_name` (see es/persistence/event.hpp).
// Snapshots are optional: give the state to_json/from_json and, when its
// shape changes, bump `static constexpr int32_t state_schema_version`.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace es {

/// A refusal of a command by a business rule.
struct rejection {
  std::string reason;
};

/// Returns a rejection; converts to any `decision<E>`.
inline rejection reject(std::string reason) {
  return rejection{std::move(reason)};
}

/// What `execute` decides: the events to append (possibly none), or a
/// rejection with its reason.
template <class Event>
class decision {
public:
  /// No events: the command changes nothing.
  decision() = default;

  /// One event: an `Event` or anything it converts from (an alternative
  /// of a variant).
  template <class T, class = std::enable_if_t<
                       std::is_constructible_v<Event, T&&>
                       && !std::is_same_v<std::decay_t<T>, decision>>>
  decision(T&& event) {
    events_.emplace_back(std::forward<T>(event));
  }

  decision(std::vector<Event> events) : events_(std::move(events)) {
    // nop
  }

  decision(std::initializer_list<Event> events) : events_(events) {
    // nop
  }

  decision(rejection r) : rejected_(true), reason_(std::move(r.reason)) {
    // nop
  }

  /// Returns true when a business rule refused the command.
  bool rejected() const noexcept {
    return rejected_;
  }

  /// Returns why the command was refused.
  const std::string& reason() const noexcept {
    return reason_;
  }

  /// Returns the events to append, in order.
  const std::vector<Event>& events() const noexcept {
    return events_;
  }

  std::vector<Event>& events() noexcept {
    return events_;
  }

private:
  std::vector<Event> events_;
  bool rejected_ = false;
  std::string reason_;
};

/// When an aggregate saves a snapshot of its state.
class snapshot_policy {
public:
  /// Never: recovery always replays the whole stream.
  static snapshot_policy never() {
    return snapshot_policy{0};
  }

  /// After every `n` events (when the version crosses a multiple of n).
  static snapshot_policy every(int64_t n) {
    return snapshot_policy{n > 0 ? n : 0};
  }

  /// Returns true when a command moving the stream from version `before` to
  /// `after` should be followed by a snapshot.
  bool due(int64_t before, int64_t after) const noexcept {
    return every_ > 0 && before / every_ != after / every_;
  }

  /// Returns n, or 0 for never.
  int64_t interval() const noexcept {
    return every_;
  }

private:
  explicit snapshot_policy(int64_t n) : every_(n) {
    // nop
  }

  int64_t every_;
};

/// Returns `snapshot_policy::every(n)`.
inline snapshot_policy snapshot_every(int64_t n) {
  return snapshot_policy::every(n);
}

/// Returns `snapshot_policy::never()`.
inline snapshot_policy never() {
  return snapshot_policy::never();
}

} // namespace es
