// es::ec inside caf::error: the same codes travel across actor boundaries.
//
//   caf::error err = es::actors::to_caf(es::error{es::ec::conflict, "..."});
//   es::error back = es::actors::from_caf(err);    // code and message
#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include "es/error.hpp"

CAF_ERROR_CODE_ENUM(es::ec, "es")

namespace es::actors {

/// Returns `err` as a caf::error of category "es" with the message as
/// context.
caf::error to_caf(const es::error& err);

/// Returns a caf::error of category "es".
caf::error make_error(ec code, std::string message);

/// Returns the es::error inside `err`; CAF's own errors (a dead actor, a
/// timeout) become `unavailable` with CAF's description.
es::error from_caf(const caf::error& err);

} // namespace es::actors
