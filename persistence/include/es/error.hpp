// Errors as values: one error code enum and a small result type.
//
//   es::result<int64_t> r = store.stream_version("acct-1");
//   if (!r)
//     std::cerr << r.error().to_string() << '\n';   // "unavailable: ..."
//   else
//     use(*r);
//
// `es::ec` says what the caller should do; the message says what happened.
// The actors layer registers `es::ec` with CAF so that the same codes travel
// inside `caf::error` across actor boundaries.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace es {

/// What went wrong, defined by what the caller should do about it.
enum class ec : uint8_t {
  none = 0,
  /// Someone else wrote first: reload the stream and retry the command.
  conflict,
  /// The database (or a node) cannot be reached: retry the same call later.
  unavailable,
  /// A business rule refused the command: do not retry.
  rejected,
  /// The thing asked for does not exist.
  not_found,
  /// The input is malformed, empty or too large: fix it, do not retry.
  invalid_argument,
  /// A stored event cannot be decoded (unknown type, bad payload).
  corrupt_event,
};

/// Returns the enum name of `code`, e.g. "conflict".
std::string to_string(ec code);

/// An error code with a human-readable message. A default-constructed error
/// means "no error".
class error {
public:
  error() = default;

  error(ec code, std::string message)
    : code_(code), message_(std::move(message)) {
    // nop
  }

  /// Returns the code; `ec::none` when this is not an error.
  ec code() const noexcept {
    return code_;
  }

  /// Returns what happened, e.g. "stream 'acct-1' is at version 3, expected 2".
  const std::string& message() const noexcept {
    return message_;
  }

  /// Returns true when this holds an error.
  explicit operator bool() const noexcept {
    return code_ != ec::none;
  }

  /// Returns "code: message".
  std::string to_string() const;

private:
  ec code_ = ec::none;
  std::string message_;
};

/// Either a value or an error. Check it before dereferencing.
template <class T>
class [[nodiscard]] result {
public:
  result(T value) : value_(std::move(value)) {
    // nop
  }

  result(es::error err) : value_(std::move(err)) {
    // nop
  }

  result(ec code, std::string message)
    : value_(es::error{code, std::move(message)}) {
    // nop
  }

  /// Returns true when this holds a value.
  bool ok() const noexcept {
    return value_.index() == 0;
  }

  explicit operator bool() const noexcept {
    return ok();
  }

  /// Returns the value. Precondition: `ok()`.
  T& value() & {
    return std::get<0>(value_);
  }

  const T& value() const& {
    return std::get<0>(value_);
  }

  T&& value() && {
    return std::get<0>(std::move(value_));
  }

  T& operator*() & {
    return value();
  }

  const T& operator*() const& {
    return value();
  }

  T&& operator*() && {
    return std::move(*this).value();
  }

  T* operator->() {
    return &value();
  }

  const T* operator->() const {
    return &value();
  }

  /// Returns the error. Precondition: `!ok()`.
  const es::error& error() const& {
    return std::get<1>(value_);
  }

private:
  std::variant<T, es::error> value_;
};

/// Success or an error, for calls that return nothing.
template <>
class [[nodiscard]] result<void> {
public:
  result() = default;

  result(es::error err) : error_(std::move(err)) {
    // nop
  }

  result(ec code, std::string message) : error_(code, std::move(message)) {
    // nop
  }

  bool ok() const noexcept {
    return !error_;
  }

  explicit operator bool() const noexcept {
    return ok();
  }

  const es::error& error() const& {
    return error_;
  }

private:
  es::error error_;
};

} // namespace es
