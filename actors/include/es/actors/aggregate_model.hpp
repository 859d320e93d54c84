// An aggregate type behind a small virtual interface, so that the aggregate
// actor is compiled once (in actors/) and user code instantiates only this
// CAF-free template.
//
//   const aggregate_model& m = model_of<account>();
//   auto state = m.initial_state();
//   auto out = m.execute(state.get(), &cmd, metadata);   // events or rejection
//   m.apply_pending(state, out);                         // after the commit
//   auto wire = m.encode_command(&cmd);   // for another node: {"type", "data"}
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <cstring>
#include <type_traits>
#include <utility>
#include <variant>
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

  /// Runs `execute`; the events carry `metadata` (moved into the last).
  virtual execution execute(const void* state, const void* command,
                            persistence::json metadata) const = 0;

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

  /// Returns the command as JSON, to send it to another node: for a
  /// variant `{"type": <the alternative's type_name>, "data": ...}`. Errors:
  /// `invalid_argument` when the command types cannot cross nodes (each
  /// needs to_json/from_json and, in a variant, a `type_name`).
  virtual result<persistence::json> encode_command(const void* command) const
    = 0;

  /// Returns a command read from `encode_command`'s JSON. Errors:
  /// `invalid_argument` (unknown type, bad data, no codec).
  virtual result<std::shared_ptr<const void>>
  decode_command(const persistence::json& j) const = 0;

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

template <class T, class = void>
struct has_type_name : std::false_type {};

template <class T>
struct has_type_name<T, std::void_t<decltype(T::type_name)>>
  : std::true_type {};

// How a command crosses nodes: a struct as its JSON; a variant as the
// alternative's type_name and JSON.
template <class C>
struct command_codec {
  static constexpr bool enabled = has_json<C>::value;

  static persistence::json encode(const C& c) {
    return persistence::json(c);
  }

  static C decode(const persistence::json& j) {
    return j.get<C>();
  }
};

template <class... Cs>
struct command_codec<std::variant<Cs...>> {
  using variant = std::variant<Cs...>;

  static constexpr bool enabled
    = ((has_json<Cs>::value && has_type_name<Cs>::value) && ...);

  static persistence::json encode(const variant& c) {
    return std::visit(
      [](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        return persistence::json{{"type", T::type_name},
                                 {"data", persistence::json(x)}};
      },
      c);
  }

  static variant decode(const persistence::json& j) {
    auto name = j.at("type").get<std::string>();
    std::optional<variant> out;
    ((!out && name == Cs::type_name
        ? (out.emplace(std::in_place_type<Cs>, j.at("data").get<Cs>()), true)
        : false),
     ...);
    if (!out)
      throw std::invalid_argument("unknown command type '" + name + "'");
    return std::move(*out);
  }
};

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
                    persistence::json metadata) const override {
    auto d = A::execute(*static_cast<const state*>(st),
                        *static_cast<const command*>(cmd));
    execution out;
    if (d.rejected()) {
      out.rejected = true;
      out.reason = d.reason();
      return out;
    }
    auto n = d.events().size();
    out.events.reserve(n);
    for (size_t i = 0; i < n; ++i)
      out.events.push_back(persistence::make_event(
        d.events()[i], i + 1 < n ? metadata : std::move(metadata)));
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

  result<persistence::json> encode_command(const void* cmd) const override {
    using codec = detail::command_codec<command>;
    if constexpr (codec::enabled)
      return codec::encode(*static_cast<const command*>(cmd));
    else
      return no_codec();
  }

  result<std::shared_ptr<const void>>
  decode_command(const persistence::json& j) const override {
    using codec = detail::command_codec<command>;
    if constexpr (codec::enabled) {
      try {
        return std::shared_ptr<const void>{
          std::make_shared<const command>(codec::decode(j))};
      } catch (const std::exception& ex) {
        return {ec::invalid_argument, std::string{"cannot decode a '"}
                                        + A::type + "' command: " + ex.what()};
      }
    } else {
      return no_codec();
    }
  }

private:
  static es::error no_codec() {
    return {ec::invalid_argument,
            std::string{"'"} + A::type
              + "' commands cannot cross nodes: give each command type "
                "to_json/from_json and, in a variant, a type_name"};
  }
};

/// Returns the one model of aggregate type `A`.
template <class A>
aggregate_model& model_of() {
  static model_impl<A> instance;
  return instance;
}

} // namespace es::actors
