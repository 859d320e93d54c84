// Which node owns an aggregate: rendezvous (highest-random-weight) hashing
// over the live members. Every node computes the same owner from the same
// member list, whatever its order, and a change of membership moves only
// the keys of the member that joined or left. No CAF inside.
//
//   std::vector<std::string> members{"127.0.0.1:4710", "127.0.0.1:4711"};
//   auto owner = es::owner_of(es::placement_key("account", "acct-7"), members);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace es {

/// Returns the key of aggregate `id` of type `type` ("type/id").
std::string placement_key(std::string_view type, std::string_view id);

/// Returns the weight of `key` on `member`: a 64-bit hash of both, the same
/// in every process and on every platform.
uint64_t placement_weight(std::string_view member, std::string_view key);

/// Returns the member with the highest weight for `key` (ties: the smaller
/// name); empty when `members` is empty.
std::string owner_of(std::string_view key,
                     const std::vector<std::string>& members);

} // namespace es
