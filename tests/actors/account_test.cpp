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

// -- open ---------------------------------------------------------------------

TEST(Account, OpenRequiresAnOwner) {
  auto r = given<account>({}).when(open_account{""});
  EXPECT_FALSE(r.accepted());
  EXPECT_EQ(r.rejection(), "owner is empty");
  EXPECT_TRUE(r.events().empty());
  EXPECT_FALSE(r.state().opened);
}

TEST(Account, OpenSetsOwnerAndZeroBalance) {
  auto r = given<account>({}).when(open_account{"ada"});
  ASSERT_TRUE(r.accepted());
  EXPECT_EQ(r.rejection(), "");
  EXPECT_TRUE(r.state().opened);
  EXPECT_FALSE(r.state().closed);
  EXPECT_EQ(r.state().balance, 0);
}

TEST(Account, ClosedAccountCannotBeOpenedAgain) {
  auto r = given<account>({account_opened{"ada"}, account_closed{}})
             .when(open_account{"ada"});
  EXPECT_EQ(r.rejection(), "account is already open");
  EXPECT_TRUE(r.state().closed);
}

// -- deposit ------------------------------------------------------------------

TEST(Account, DepositAddsToTheBalance) {
  auto r = given<account>({account_opened{"ada"}, deposited{30}})
             .when(deposit{12});
  ASSERT_TRUE(r.accepted());
  EXPECT_EQ(r.events(), (events{deposited{12}}));
  EXPECT_EQ(r.state().balance, 42);
}

TEST(Account, DepositMustBePositive) {
  auto s = given<account>({account_opened{"ada"}, deposited{5}});
  for (int64_t amount : {0, -1, -100}) {
    auto r = s.when(deposit{amount});
    EXPECT_EQ(r.rejection(), "amount must be positive") << amount;
    EXPECT_TRUE(r.events().empty());
    EXPECT_EQ(r.state().balance, 5);
  }
}

TEST(Account, DepositNeedsAnOpenAccount) {
  EXPECT_EQ(given<account>({}).when(deposit{10}).rejection(),
            "account is not open");
  auto closed = given<account>({account_opened{"ada"}, account_closed{}})
                  .when(deposit{10});
  EXPECT_EQ(closed.rejection(), "account is not open");
  EXPECT_EQ(closed.state().balance, 0);
}

// -- withdraw -----------------------------------------------------------------

TEST(Account, WithdrawTheExactBalanceLeavesZero) {
  auto r = given<account>({account_opened{"ada"}, deposited{50}, deposited{25}})
             .when(withdraw{75});
  ASSERT_TRUE(r.accepted());
  EXPECT_EQ(r.events(), (events{withdrawn{75}}));
  EXPECT_EQ(r.state().balance, 0);
}

TEST(Account, WithdrawOneMoreThanTheBalanceIsRejected) {
  auto r = given<account>({account_opened{"ada"}, deposited{75}})
             .when(withdraw{76});
  EXPECT_EQ(r.rejection(), "insufficient funds");
  EXPECT_TRUE(r.events().empty());
  EXPECT_EQ(r.state().balance, 75);
}

TEST(Account, WithdrawMustBePositive) {
  auto s = given<account>({account_opened{"ada"}, deposited{5}});
  EXPECT_EQ(s.when(withdraw{0}).rejection(), "amount must be positive");
  EXPECT_EQ(s.when(withdraw{-5}).rejection(), "amount must be positive");
}

TEST(Account, WithdrawNeedsAnOpenAccount) {
  EXPECT_EQ(given<account>({}).when(withdraw{1}).rejection(),
            "account is not open");
  EXPECT_EQ(given<account>({account_opened{"ada"}, account_closed{}})
              .when(withdraw{1})
              .rejection(),
            "account is not open");
}

// -- close --------------------------------------------------------------------

TEST(Account, ClosesOnlyAtZeroBalance) {
  auto s = given<account>({account_opened{"ada"}, deposited{10}});
  auto no = s.when(close_account{});
  EXPECT_EQ(no.rejection(), "balance is not zero");
  EXPECT_FALSE(no.state().closed);
  auto yes = given<account>({account_opened{"ada"}, deposited{10},
                             withdrawn{10}})
               .when(close_account{});
  ASSERT_TRUE(yes.accepted());
  EXPECT_EQ(yes.events(), (events{account_closed{}}));
  EXPECT_TRUE(yes.state().closed);
  EXPECT_EQ(yes.state().owner, "ada");
}

TEST(Account, ClosesOnce) {
  auto r = given<account>({account_opened{"ada"}, account_closed{}})
             .when(close_account{});
  EXPECT_EQ(r.rejection(), "account is not open");
  EXPECT_TRUE(r.events().empty());
}

TEST(Account, CannotCloseAnAccountThatWasNeverOpened) {
  EXPECT_EQ(given<account>({}).when(close_account{}).rejection(),
            "account is not open");
}

// -- apply --------------------------------------------------------------------

TEST(Account, HistoryBuildsTheState) {
  auto s = given<account>({account_opened{"ada"}, deposited{100},
                           withdrawn{30}, deposited{5}})
             .state();
  EXPECT_TRUE(s.opened);
  EXPECT_FALSE(s.closed);
  EXPECT_EQ(s.owner, "ada");
  EXPECT_EQ(s.balance, 75);
}
