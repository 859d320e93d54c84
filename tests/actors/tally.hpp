// A tiny aggregate for tests where the account domain is not enough: one
// command appends several events, another appends none. No snapshots.
//
//   rt->execute<es::test::tally>("t-1", es::test::add{3}); // versions 1..3
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "es/aggregate.hpp"

namespace es::test {

/// Appends `n` events `ticked{1..n}` (continuing the count).
struct add {
  int64_t n = 0;
};

/// Changes nothing: no events.
struct noop {};

struct ticked {
  static constexpr const char* type_name = "ticked";
  int64_t seq = 0;
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ticked, seq)

struct tally {
  static constexpr const char* type = "tally";

  struct state {
    int64_t ticks = 0;
  };

  using command = std::variant<add, noop>;
  using event = std::variant<ticked>;

  static decision<event> execute(const state& s, const command& c) {
    if (std::holds_alternative<noop>(c))
      return {};
    auto n = std::get<add>(c).n;
    if (n <= 0)
      return reject("n must be positive");
    std::vector<event> out;
    for (int64_t i = 1; i <= n; ++i)
      out.emplace_back(ticked{s.ticks + i});
    return out;
  }

  static state apply(state s, const event& e) {
    s.ticks = std::get<ticked>(e).seq;
    return s;
  }
};

} // namespace es::test
