// The account aggregate, given/when/then: no actors, no store.
#include <gtest/gtest.h>

#include "account.hpp"
#include "es/testing/given_when_then.hpp"

using namespace bank;
using es::testing::given;
using events = std::vector<account::event>;

TEST(Account, OpensOnce) {
  auto r = given<account>({}).when(open_account{"ada"});
  ASSERT_TRUE(r.accepted());
  EXPECT_EQ(r.events(), (events{account_opened{"ada"}}));
  EXPECT_EQ(r.state().owner, "ada");
  auto again = given<account>({account_opened{"ada"}}).when(open_account{"bob"});
  EXPECT_EQ(again.rejection(), "account is already open");
  EXPECT_TRUE(again.events().empty());
}

TEST(Account, WithdrawIsRejectedWhenFundsAreInsufficient) {
  auto r = given<account>({account_opened{"ada"}, deposited{50}})
             .when(withdraw{80});
  EXPECT_EQ(r.rejection(), "insufficient funds");
  EXPECT_EQ(r.state().balance, 50);
}
