#include "es/error.hpp"

namespace es {

std::string to_string(ec code) {
  switch (code) {
    case ec::none:
      return "none";
    case ec::conflict:
      return "conflict";
    case ec::unavailable:
      return "unavailable";
    case ec::rejected:
      return "rejected";
    case ec::not_found:
      return "not_found";
    case ec::invalid_argument:
      return "invalid_argument";
    case ec::corrupt_event:
      return "corrupt_event";
  }
  return "ec(" + std::to_string(static_cast<int>(code)) + ")";
}

std::string error::to_string() const {
  if (message_.empty())
    return es::to_string(code_);
  return es::to_string(code_) + ": " + message_;
}

} // namespace es
