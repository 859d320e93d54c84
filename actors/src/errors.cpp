#include "es/actors/errors.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace es::actors {

caf::error make_error(ec code, std::string message) {
  return caf::make_error(code, std::move(message));
}

caf::error to_caf(const es::error& err) {
  return make_error(err.code(), err.message());
}

es::error from_caf(const caf::error& err) {
  if (!err)
    return {};
  std::string message;
  const auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    message = ctx.get_as<std::string>(0);
  if (err.category() == caf::atom("es"))
    return {static_cast<ec>(err.code()), std::move(message)};
  if (err.category() == caf::atom("system"))
    return {ec::unavailable,
            to_string(static_cast<caf::sec>(err.code()))
              + (message.empty() ? "" : ": " + message)};
  return {ec::unavailable, "error code " + std::to_string(err.code())};
}

} // namespace es::actors
