#include "node.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>

#include "es/actors/messages.hpp"
#include "es/projections/manager.hpp"

namespace es::detail {

void add_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::eventsource>();
  // add_message_type<T> also adds std::vector<T>.
  cfg.add_message_type<projections::projection_status>("es.projection_status");
  cfg.add_message_type<persistence::dead_letter>("es.dead_letter");
  cfg.add_message_type<projections::control_msg>("es.control_msg");
  cfg.add_error_category(
    caf::atom("es"),
    [](uint8_t code, caf::atom_value, const caf::message& ctx) {
      auto text = "es::" + to_string(static_cast<ec>(code));
      if (ctx.match_elements<std::string>())
        text += ": " + ctx.get_as<std::string>(0);
      return text;
    });
}

caf::behavior node_admin(caf::event_based_actor* self, caf::actor manager) {
  using namespace projections;
  // The manager answers the original sender, wherever it is.
  auto forward = [self, manager](auto&&... xs) {
    return self->delegate(manager, std::forward<decltype(xs)>(xs)...);
  };
  return {
    [forward](status_atom x) { return forward(x); },
    [forward](const control_msg& x) { return forward(x); },
    [forward](dead_letters_atom x, const std::string& name) {
      return forward(x, name);
    },
    [forward](redrive_atom x, int64_t id) { return forward(x, id); },
    [forward](discard_atom x, int64_t id) { return forward(x, id); },
  };
}

} // namespace es::detail
