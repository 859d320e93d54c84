// Catalog conformance: dead letters, and bad input to every call.
#include <string>

#include <gtest/gtest.h>

#include "persistence/conformance/catalog_fixture.hpp"

namespace es::persistence::conformance {

TEST_P(CatalogConformance, DeadLetterIsStoredWithAnIdAndTime) {
  auto d = letter("balances", 12, "amount is negative");
  auto id = add(d);
  EXPECT_GE(id, 1);
  auto found = catalog_->find_dead_letter(id);
  ASSERT_TRUE(is_ok(found));
  ASSERT_TRUE(*found);
  const auto& got = **found;
  EXPECT_EQ(got.id, id);
  EXPECT_EQ(got.projection, "balances");
  EXPECT_EQ(got.global_position, 12);
  EXPECT_EQ(got.event_id, d.event_id);
  EXPECT_EQ(got.stream_id, "cart-12");
  EXPECT_EQ(got.event_type, "item_added");
  EXPECT_EQ(got.error, "amount is negative");
  EXPECT_TRUE(near_now(got.recorded_at));
}

TEST_P(CatalogConformance, DeadLetterIdsAreDistinctAndGrow) {
  auto a = add(letter("balances", 5));
  auto b = add(letter("balances", 3));
  auto c = add(letter("ledger", 5));
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST_P(CatalogConformance, SameProjectionAndPositionTwiceKeepsOneRow) {
  auto first = add(letter("balances", 7, "first"));
  auto second = add(letter("balances", 7, "second"));
  EXPECT_EQ(second, first);
  auto all = catalog_->dead_letters();
  ASSERT_TRUE(is_ok(all));
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().error, "first");
  // Another projection's letter for the same event is its own row.
  EXPECT_NE(add(letter("ledger", 7)), first);
}

TEST_P(CatalogConformance, DeadLettersAreListedOldestPositionFirst) {
  for (auto position : {9, 2, 5})
    add(letter("balances", position));
  add(letter("ledger", 4));
  add(letter("ledger", 1));
  EXPECT_EQ(letter_positions("balances"), (std::vector<int64_t>{2, 5, 9}));
  EXPECT_EQ(letter_positions("ledger"), (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(letter_positions(), (std::vector<int64_t>{1, 2, 4, 5, 9}));
  EXPECT_TRUE(letter_positions("unknown").empty());
}

TEST_P(CatalogConformance, DeadLetterLimitCutsTheList) {
  for (int64_t position = 1; position <= 5; ++position)
    add(letter("balances", position));
  EXPECT_EQ(letter_positions("balances", 2), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(letter_positions({}, 1), (std::vector<int64_t>{1}));
  EXPECT_EQ(letter_positions("balances", 10'000).size(), 5u);
}

TEST_P(CatalogConformance, RemoveDeadLetterDeletesItOnce) {
  add(letter("balances", 1));
  auto gone = add(letter("balances", 2));
  auto removed = catalog_->remove_dead_letter(gone);
  ASSERT_TRUE(is_ok(removed));
  EXPECT_TRUE(*removed);
  auto again = catalog_->remove_dead_letter(gone);
  ASSERT_TRUE(is_ok(again));
  EXPECT_FALSE(*again);
  auto found = catalog_->find_dead_letter(gone);
  ASSERT_TRUE(is_ok(found));
  EXPECT_FALSE(*found);
  EXPECT_EQ(letter_positions(), (std::vector<int64_t>{1}));
  // The event can be dead-lettered again once its letter is gone.
  EXPECT_GT(add(letter("balances", 2)), gone);
  EXPECT_EQ(letter_positions(), (std::vector<int64_t>{1, 2}));
}

TEST_P(CatalogConformance, FindOfAnUnknownDeadLetterIsNothing) {
  auto found = catalog_->find_dead_letter(12345);
  ASSERT_TRUE(is_ok(found));
  EXPECT_FALSE(*found);
}

TEST_P(CatalogConformance, DeadLetterErrorWithBrokenUtf8IsStoredCleaned) {
  auto id = add(letter("balances", 1, "bad \xc3 byte"));
  auto found = catalog_->find_dead_letter(id);
  ASSERT_TRUE(is_ok(found));
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->error, "bad ? byte");
}

// -- bad input ----------------------------------------------------------------

TEST_P(CatalogConformance, BadNamesAreInvalidEverywhere) {
  registered("balances");
  const std::string long_name(300, 'x');
  for (const auto& name : {std::string{}, long_name, std::string{"a\0b", 3},
                           std::string{"\xff"}}) {
    SCOPED_TRACE("name of " + std::to_string(name.size()) + " bytes");
    auto bad = ec::invalid_argument;
    EXPECT_TRUE(fails_with(catalog_->register_projection(name), bad));
    EXPECT_TRUE(fails_with(catalog_->find(name), bad));
    EXPECT_TRUE(
      fails_with(catalog_->set_state(name, projection_state::live), bad));
    EXPECT_TRUE(fails_with(catalog_->set_checkpoint(name, 1), bad));
    EXPECT_TRUE(fails_with(catalog_->request(name, projection_op::pause), bad));
    EXPECT_TRUE(fails_with(catalog_->take_request(name), bad));
    EXPECT_TRUE(fails_with(catalog_->add_dead_letter(letter(name, 1)), bad));
    if (!name.empty()) {
      EXPECT_TRUE(fails_with(catalog_->dead_letters(name), bad));
    }
  }
  EXPECT_EQ(names(), std::vector<std::string>{"balances"});
  EXPECT_TRUE(letter_positions().empty());
}

TEST_P(CatalogConformance, InvalidNameMessagesSayWhatIsWrong) {
  auto empty = catalog_->register_projection("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message(), "projection name is empty");
  auto long_name = catalog_->register_projection(std::string(300, 'x'));
  ASSERT_FALSE(long_name);
  EXPECT_NE(long_name.error().message().find("300 bytes"), std::string::npos)
    << long_name.error().message();
  EXPECT_NE(long_name.error().message().find("256"), std::string::npos);
  // Exactly at the limit is fine.
  EXPECT_TRUE(is_ok(catalog_->register_projection(std::string(256, 'x'))));
}

TEST_P(CatalogConformance, NegativeNumbersAreInvalid) {
  registered("balances");
  auto bad = ec::invalid_argument;
  EXPECT_TRUE(fails_with(catalog_->set_checkpoint("balances", -1), bad));
  EXPECT_TRUE(fails_with(
    catalog_->set_state("balances", projection_state::failed, "x", -1), bad));
  EXPECT_EQ(record("balances").checkpoint, 0);
  EXPECT_EQ(record("balances").state, projection_state::starting);
}

TEST_P(CatalogConformance, BadDeadLettersAreInvalid) {
  auto bad = ec::invalid_argument;
  EXPECT_TRUE(fails_with(catalog_->add_dead_letter(letter("balances", 0)), bad));
  EXPECT_TRUE(
    fails_with(catalog_->add_dead_letter(letter("balances", -3)), bad));
  auto no_stream = letter("balances", 1);
  no_stream.stream_id.clear();
  EXPECT_TRUE(fails_with(catalog_->add_dead_letter(no_stream), bad));
  auto no_type = letter("balances", 1);
  no_type.event_type.clear();
  EXPECT_TRUE(fails_with(catalog_->add_dead_letter(no_type), bad));
  EXPECT_TRUE(letter_positions().empty());
}

TEST_P(CatalogConformance, BadLimitsAndIdsAreInvalid) {
  auto bad = ec::invalid_argument;
  EXPECT_TRUE(fails_with(catalog_->dead_letters("balances", 0), bad));
  EXPECT_TRUE(fails_with(catalog_->dead_letters({}, 10'001), bad));
  for (int64_t id : {0, -1}) {
    EXPECT_TRUE(fails_with(catalog_->find_dead_letter(id), bad));
    EXPECT_TRUE(fails_with(catalog_->remove_dead_letter(id), bad));
  }
}

TEST_P(CatalogConformance, OutOfRangeEnumsAreInvalid) {
  registered("balances");
  auto bad = ec::invalid_argument;
  EXPECT_TRUE(fails_with(
    catalog_->set_state("balances", static_cast<projection_state>(99)), bad));
  EXPECT_TRUE(fails_with(
    catalog_->request("balances", static_cast<projection_op>(99)), bad));
  EXPECT_FALSE(record("balances").requested);
}

} // namespace es::persistence::conformance
