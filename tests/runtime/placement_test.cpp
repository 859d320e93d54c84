// Rendezvous placement: the same owner everywhere, minimal movement when
// members change, an even spread.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "es/placement.hpp"

namespace {

const std::vector<std::string> three{"127.0.0.1:4710", "127.0.0.1:4711",
                                     "127.0.0.1:4712"};

std::string key(int i) {
  return es::placement_key("account", "acct-" + std::to_string(i));
}

} // namespace

TEST(Placement, WeightsAreStableAcrossProcesses) {
  // Fixed values: a change here would move every aggregate of a running
  // cluster whose nodes run different builds.
  EXPECT_EQ(es::placement_weight("127.0.0.1:4710", "account/acct-1"),
            18062880728144491643ULL);
  EXPECT_NE(es::placement_weight("ab", "c"), es::placement_weight("a", "bc"));
  EXPECT_EQ(es::placement_key("account", "acct-1"), "account/acct-1");
  EXPECT_EQ(es::owner_of(key(1), three), es::owner_of(key(1), three));
}

TEST(Placement, TheOrderOfMembersDoesNotMatter) {
  auto reversed = three;
  std::reverse(reversed.begin(), reversed.end());
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(es::owner_of(key(i), three), es::owner_of(key(i), reversed));
}

TEST(Placement, NoMembersNoOwner) {
  EXPECT_EQ(es::owner_of(key(1), {}), "");
  EXPECT_EQ(es::owner_of(key(1), {"only"}), "only");
}

TEST(Placement, ALeavingMemberMovesOnlyItsOwnKeys) {
  std::vector<std::string> two{three[0], three[2]}; // 4711 left
  int moved = 0;
  for (int i = 0; i < 3000; ++i) {
    auto before = es::owner_of(key(i), three);
    auto after = es::owner_of(key(i), two);
    if (before != three[1]) {
      ASSERT_EQ(before, after) << key(i);
    } else {
      ++moved;
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(Placement, AJoiningMemberTakesKeysOnlyForItself) {
  auto four = three;
  four.push_back("127.0.0.1:4713");
  for (int i = 0; i < 3000; ++i) {
    auto before = es::owner_of(key(i), three);
    auto after = es::owner_of(key(i), four);
    if (after != four[3]) {
      ASSERT_EQ(before, after) << key(i);
    }
  }
}

TEST(Placement, KeysSpreadEvenly) {
  std::map<std::string, int> count;
  for (int i = 0; i < 30'000; ++i)
    ++count[es::owner_of(key(i), three)];
  ASSERT_EQ(count.size(), 3u);
  for (const auto& [member, n] : count) // a third is 10,000
    EXPECT_TRUE(n > 9'000 && n < 11'000) << member << ": " << n;
}
