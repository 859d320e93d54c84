#include "es/persistence/projection_catalog.hpp"

#include "validate.hpp"

namespace es::persistence {

namespace {

constexpr size_t max_page = 10'000;

constexpr const char* state_names[] = {"starting", "catching_up", "live",
                                       "paused", "failed"};

constexpr const char* op_names[] = {"pause", "resume", "reset", "rebuild",
                                    "retry"};

constexpr const char* retry_names[] = {"none", "requested", "running"};

template <class Enum, size_t N>
std::optional<Enum> parse_name(const char* const (&names)[N],
                               std::string_view s) {
  for (size_t i = 0; i < N; ++i)
    if (s == names[i])
      return static_cast<Enum>(i);
  return std::nullopt;
}

template <class Enum, size_t N>
bool known(Enum x, const char* const (&)[N]) {
  return static_cast<size_t>(x) < N;
}

es::error invalid(std::string message) {
  return {ec::invalid_argument, std::move(message)};
}

es::error check_id(int64_t id) {
  if (id < 1)
    return invalid("dead letter id must be >= 1, got " + std::to_string(id));
  return {};
}

} // namespace

const char* to_string(projection_state s) {
  return known(s, state_names) ? state_names[static_cast<size_t>(s)] : "?";
}

std::optional<projection_state> parse_projection_state(std::string_view s) {
  return parse_name<projection_state>(state_names, s);
}

const char* to_string(retry_state s) {
  return known(s, retry_names) ? retry_names[static_cast<size_t>(s)] : "?";
}

const char* to_string(projection_op op) {
  return known(op, op_names) ? op_names[static_cast<size_t>(op)] : "?";
}

std::optional<projection_op> parse_projection_op(std::string_view s) {
  return parse_name<projection_op>(op_names, s);
}

dead_letter make_dead_letter(std::string projection, const recorded_event& e,
                             std::string error) {
  dead_letter d;
  d.projection = std::move(projection);
  d.global_position = e.global_position;
  d.event_id = e.event_id;
  d.stream_id = e.stream_id;
  d.event_type = e.event_type;
  d.error = std::move(error);
  return d;
}

projection_catalog::~projection_catalog() {
  // nop
}

result<projection_record>
projection_catalog::register_projection(std::string_view name) {
  if (auto err = detail::check_projection_name(name))
    return err;
  return do_register(name);
}

result<std::optional<projection_record>>
projection_catalog::find(std::string_view name) {
  if (auto err = detail::check_projection_name(name))
    return err;
  return do_find(name);
}

result<std::vector<projection_record>> projection_catalog::list() {
  return do_list();
}

result<void> projection_catalog::set_state(std::string_view name,
                                           projection_state state,
                                           std::string last_error,
                                           int64_t error_position) {
  if (auto err = detail::check_projection_name(name))
    return err;
  if (!known(state, state_names))
    return invalid("unknown projection state "
                   + std::to_string(static_cast<int>(state)));
  if (error_position < 0)
    return invalid("error position must be >= 0, got "
                   + std::to_string(error_position));
  // An error message is stored as it came, except for bytes PostgreSQL's
  // text type refuses: losing the message would hide why it stopped.
  return do_set_state(name, state, detail::clean_text(last_error),
                      error_position);
}

result<void> projection_catalog::set_checkpoint(std::string_view name,
                                                int64_t position) {
  if (auto err = detail::check_projection_name(name))
    return err;
  if (position < 0)
    return invalid("checkpoint must be >= 0, got " + std::to_string(position));
  return do_set_checkpoint(name, position);
}

result<int64_t> projection_catalog::request(std::string_view name,
                                            projection_op op) {
  if (auto err = detail::check_projection_name(name))
    return err;
  if (!known(op, op_names))
    return invalid("unknown projection request "
                   + std::to_string(static_cast<int>(op)));
  return do_request(name, op);
}

result<std::optional<projection_request>>
projection_catalog::take_request(std::string_view name) {
  if (auto err = detail::check_projection_name(name))
    return err;
  return do_take_request(name);
}

result<void> projection_catalog::set_applied(std::string_view name, int64_t id,
                                             std::string error) {
  if (auto err = detail::check_projection_name(name))
    return err;
  if (id < 1)
    return invalid("request id must be >= 1, got " + std::to_string(id));
  return do_set_applied(name, id, detail::clean_text(error));
}

result<int64_t> projection_catalog::add_dead_letter(const dead_letter& d) {
  if (auto err = detail::check_dead_letter(d))
    return err;
  auto clean = d;
  clean.error = detail::clean_text(d.error);
  return do_add_dead_letter(clean);
}

result<std::vector<dead_letter>>
projection_catalog::dead_letters(std::string_view projection, size_t limit) {
  if (!projection.empty())
    if (auto err = detail::check_projection_name(projection))
      return err;
  if (limit == 0 || limit > max_page)
    return invalid("dead letter limit must be 1.." + std::to_string(max_page)
                   + ", got " + std::to_string(limit));
  return do_dead_letters(projection, limit);
}

result<std::optional<dead_letter>>
projection_catalog::find_dead_letter(int64_t id) {
  if (auto err = check_id(id))
    return err;
  return do_find_dead_letter(id);
}

result<bool> projection_catalog::remove_dead_letter(int64_t id) {
  if (auto err = check_id(id))
    return err;
  return do_remove_dead_letter(id);
}

result<dead_letter> projection_catalog::request_retry(int64_t id) {
  if (auto err = check_id(id))
    return err;
  return do_request_retry(id);
}

result<std::vector<int64_t>>
projection_catalog::take_retry_requests(std::string_view projection) {
  if (auto err = detail::check_projection_name(projection))
    return err;
  return do_take_retry_requests(projection);
}

result<void> projection_catalog::retry_failed(int64_t id, std::string error) {
  if (auto err = check_id(id))
    return err;
  return do_retry_failed(id, detail::clean_text(error));
}

} // namespace es::persistence
