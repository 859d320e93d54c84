// An aggregate type behind a small virtual interface, so that the aggregate
// actor is compiled once (in actors/) and user code instantiates only this
// CAF-free template.
//
//   const aggregate_model& m = model_of<account>();
//   auto state = m.initial_state();
//   auto out = m.execute(state.get(), &cmd, metadata);   // events or rejection
//   m.apply_pending(state, out);                         // after the commit
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "es/aggregate.hpp"
#include "es/error.hpp"
#include "es/persistence/event.hpp"
#include "es/persistence/event_registry.hpp"

namespace es::actors {

/// What one `execute` produced, type-erased.
struct execution {
  bool rejected = false;
  std::string reason;
  std::vector<persistence::new_event> events; ///< Encoded, ready to append.
  std::shared_ptr<void> typed;                ///< The typed events.
};

/// The operations the aggregate actor needs from an aggregate type. The
/// state is a `std::shared_ptr<void>` owned by one actor.
class aggregate_model {
public:
  virtual ~aggregate_model() = default;

  /// Returns the stream type, e.g. "account".
  virtual const char* type() const = 0;

  /// Returns a fresh state (no events applied).
  virtual std::shared_ptr<void> initial_state() const = 0;

  /// Runs `execute`; the events carry `metadata`.
  virtual execution execute(const void* state, const void* command,
                            const persistence::json& metadata) const = 0;

  /// Applies the typed events of `done` (after they were committed).
  virtual void apply_pending(void* state, const execution& done) const = 0;

  /// Decodes (upcasting) and applies a stored event. Errors:
  /// `corrupt_event`, naming the position.
  virtual es::error apply_recorded(void* state,
                                   const persistence::recorded_event& e) const
    = 0;

  /// Returns true when the state can be snapshotted (to_json/from_json).
  virtual bool snapshots() const = 0;

  /// Returns the state's schema version (snapshots of others are ignored).
  virtual int32_t state_schema_version() const = 0;

  /// Returns the state as JSON. Precondition: `snapshots()`.
  virtual persistence::json save(const void* state) const = 0;

  /// Returns a state read from JSON, or `corrupt_event`.
  virtual result<std::shared_ptr<void>>
  load(const persistence::json& j) const = 0;

  /// Returns a copy of the state.
  virtual std::shared_ptr<const void> copy(const void* state) const = 0;

  /// Upcasters for this type's events (register before the first command).
  persistence::event_registry& registry() {
    return registry_;
  }

  const persistence::event_registry& registry() const {
    return registry_;
  }

private:
  persistence::event_registry registry_;
};

namespace detail {

template <class T, class = void>
struct has_json : std::false_type {};

template <class T>
struct has_json<
  T, std::void_t<decltype(nlohmann::adl_serializer<T>::to_json(
                   std::declval<persistence::json&>(), std::declval<const T&>())),
                 decltype(nlohmann::adl_serializer<T>::from_json(
                   std::declval<const persistence::json&>(),
                   std::declval<T&>()))>> : std::true_type {};

template <class A, class = void>
struct state_schema {
  static constexpr int32_t value = 1;
};

template <class A>
struct state_schema<A, std::void_t<decltype(A::state_schema_version)>> {
  static constexpr int32_t value = A::state_schema_version;
};

} // namespace detail

/// The model of aggregate type `A` (see es/aggregate.hpp).
template <class A>
class model_impl final : public aggregate_model {
public:
  using state = typename A::state;
  using command = typename A::command;
  using event = typename A::event;

  const char* type() const override {
    return A::type;
  }

  std::shared_ptr<void> initial_state() const override {
    return std::make_shared<state>();
  }

  execution execute(const void* st, const void* cmd,
                    const persistence::json& metadata) const override {
    auto d = A::execute(*static_cast<const state*>(st),
                        *static_cast<const command*>(cmd));
    execution out;
    if (d.rejected()) {
      out.rejected = true;
      out.reason = d.reason();
      return out;
    }
    out.events.reserve(d.events().size());
    for (const auto& e : d.events())
      out.events.push_back(persistence::make_event(e, metadata));
    out.typed = std::make_shared<std::vector<event>>(std::move(d.events()));
    return out;
  }

  void apply_pending(void* st, const execution& done) const override {
    auto& s = *static_cast<state*>(st);
    for (const auto& e : *static_cast<const std::vector<event>*>(done.typed.get()))
      s = A::apply(std::move(s), e);
  }

  es::error apply_recorded(void* st,
                           const persistence::recorded_event& e) const override {
    auto ev = registry().template decode<event>(e);
    if (!ev)
      return ev.error();
    auto& s = *static_cast<state*>(st);
    s = A::apply(std::move(s), *ev);
    return {};
  }

  bool snapshots() const override {
    return detail::has_json<state>::value;
  }

  int32_t state_schema_version() const override {
    return detail::state_schema<A>::value;
  }

  persistence::json save(const void* st) const override {
    if constexpr (detail::has_json<state>::value)
      return persistence::json(*static_cast<const state*>(st));
    else
      return nullptr;
  }

  result<std::shared_ptr<void>>
  load(const persistence::json& j) const override {
    if constexpr (detail::has_json<state>::value) {
      try {
        return std::shared_ptr<void>{std::make_shared<state>(j.get<state>())};
      } catch (const std::exception& ex) {
        return {ec::corrupt_event,
                std::string{"cannot decode snapshot: "} + ex.what()};
      }
    } else {
      return {ec::corrupt_event, "this aggregate has no snapshots"};
    }
  }

  std::shared_ptr<const void> copy(const void* st) const override {
    return std::make_shared<const state>(*static_cast<const state*>(st));
  }
};

/// Returns the one model of aggregate type `A`.
template <class A>
aggregate_model& model_of() {
  static model_impl<A> instance;
  return instance;
}

} // namespace es::actors
