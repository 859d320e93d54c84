// The bank demo's domain: an account aggregate. Pure C++: no CAF, SQL or
// JSON plumbing beyond the one-line JSON declarations.
//
// Events (type names and fields are a public contract: people query them
// with SQL): account_opened {owner}, deposited {amount}, withdrawn {amount},
// account_closed {}.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "es/aggregate.hpp"

namespace bank {

// -- commands -----------------------------------------------------------------
// A type name and JSON let a command travel to the node that owns its
// account (in a cluster).

struct open_account {
  static constexpr const char* type_name = "open_account";
  std::string owner;
};

struct deposit {
  static constexpr const char* type_name = "deposit";
  int64_t amount = 0;
};

struct withdraw {
  static constexpr const char* type_name = "withdraw";
  int64_t amount = 0;
};

struct close_account {
  static constexpr const char* type_name = "close_account";
};

// -- events -------------------------------------------------------------------

struct account_opened {
  static constexpr const char* type_name = "account_opened";
  std::string owner;
};

struct deposited {
  static constexpr const char* type_name = "deposited";
  int64_t amount = 0;
};

struct withdrawn {
  static constexpr const char* type_name = "withdrawn";
  int64_t amount = 0;
};

struct account_closed {
  static constexpr const char* type_name = "account_closed";
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(open_account, owner)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(deposit, amount)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(withdraw, amount)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(account_opened, owner)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(deposited, amount)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(withdrawn, amount)
// No fields: an empty object.
inline void to_json(nlohmann::json& j, const close_account&) {
  j = nlohmann::json::object();
}
inline void from_json(const nlohmann::json&, close_account&) {
  // nop
}
inline void to_json(nlohmann::json& j, const account_closed&) {
  j = nlohmann::json::object();
}
inline void from_json(const nlohmann::json&, account_closed&) {
  // nop
}

bool operator==(const account_opened& x, const account_opened& y);
bool operator==(const deposited& x, const deposited& y);
bool operator==(const withdrawn& x, const withdrawn& y);
bool operator==(const account_closed& x, const account_closed& y);

// -- the aggregate ------------------------------------------------------------

struct account {
  static constexpr const char* type = "account";

  struct state {
    bool opened = false;
    bool closed = false;
    std::string owner;
    int64_t balance = 0;
  };

  using command = std::variant<open_account, deposit, withdraw, close_account>;
  using event = std::variant<account_opened, deposited, withdrawn,
                             account_closed>;

  /// Decides what a command does: the events, or a rejection.
  static es::decision<event> execute(const state& s, const command& c);

  /// Returns the state after `e`. Never fails.
  static state apply(state s, const event& e);
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(account::state, opened, closed, owner,
                                   balance)

} // namespace bank
