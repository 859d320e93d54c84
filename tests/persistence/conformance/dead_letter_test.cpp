// Catalog conformance: dead letters, their retry requests, and bad input to
// every call.
#include <string>
#include <vector>

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
  EXPECT_EQ(got.retry, retry_state::none);
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

// -- retry requests -----------------------------------------------------------

TEST_P(CatalogConformance, RequestRetryMarksAndReturnsTheLetter) {
  auto d = letter("balances", 12, "amount is negative");
  auto id = add(d);
  auto other = add(letter("balances", 13));
  auto marked = catalog_->request_retry(id);
  ASSERT_TRUE(is_ok(marked));
  EXPECT_EQ(marked->id, id);
  EXPECT_EQ(marked->projection, "balances");
  EXPECT_EQ(marked->global_position, 12);
  EXPECT_EQ(marked->event_id, d.event_id);
  EXPECT_EQ(marked->error, "amount is negative");
  EXPECT_TRUE(marked->retry == retry_state::requested);
  auto found = catalog_->find_dead_letter(id);
  ASSERT_TRUE(is_ok(found));
  ASSERT_TRUE(*found);
  EXPECT_TRUE((*found)->retry == retry_state::requested);
  auto all = catalog_->dead_letters("balances");
  ASSERT_TRUE(is_ok(all));
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, id);
  EXPECT_TRUE((*all)[0].retry == retry_state::requested);
  EXPECT_EQ((*all)[1].id, other);
  EXPECT_FALSE((*all)[1].retry == retry_state::requested);
}

TEST_P(CatalogConformance, TakeRetryRequestsReturnsIdsInPositionOrderOnce) {
  auto at9 = add(letter("balances", 9));
  auto at2 = add(letter("balances", 2));
  auto at5 = add(letter("balances", 5));
  add(letter("balances", 7)); // not requested
  for (auto id : {at9, at5, at2})
    ASSERT_TRUE(is_ok(catalog_->request_retry(id)));
  EXPECT_EQ(taken_retries("balances"), (std::vector<int64_t>{at2, at5, at9}));
  EXPECT_TRUE(taken_retries("balances").empty());
  // The letters stay, running (the one never requested: none).
  auto all = catalog_->dead_letters("balances");
  ASSERT_TRUE(is_ok(all));
  ASSERT_EQ(all->size(), 4u);
  for (const auto& d : *all)
    EXPECT_EQ(d.retry, d.global_position == 7 ? retry_state::none
                                              : retry_state::running)
      << "position " << d.global_position;
  // A new request after the take is taken again.
  ASSERT_TRUE(is_ok(catalog_->request_retry(at5)));
  EXPECT_EQ(taken_retries("balances"), std::vector<int64_t>{at5});
}

TEST_P(CatalogConformance, TakeRetryRequestsReturnsOnlyThatProjectionsIds) {
  auto mine = add(letter("balances", 3));
  auto theirs = add(letter("ledger", 3));
  ASSERT_TRUE(is_ok(catalog_->request_retry(theirs)));
  ASSERT_TRUE(is_ok(catalog_->request_retry(mine)));
  EXPECT_TRUE(taken_retries("unknown").empty());
  EXPECT_EQ(taken_retries("balances"), std::vector<int64_t>{mine});
  auto found = catalog_->find_dead_letter(theirs);
  ASSERT_TRUE(is_ok(found));
  ASSERT_TRUE(*found);
  EXPECT_TRUE((*found)->retry == retry_state::requested);
  EXPECT_EQ(taken_retries("ledger"), std::vector<int64_t>{theirs});
}

TEST_P(CatalogConformance, RetryOfAnUnknownDeadLetterIsNotFound) {
  auto id = add(letter("balances", 1));
  EXPECT_TRUE(fails_with(catalog_->request_retry(id + 1000), ec::not_found));
  EXPECT_TRUE(fails_with(catalog_->request_retry(0), ec::invalid_argument));
  EXPECT_TRUE(taken_retries("balances").empty());
}

TEST_P(CatalogConformance, RequestingARetryTwiceIsOneRequest) {
  auto id = add(letter("balances", 4));
  ASSERT_TRUE(is_ok(catalog_->request_retry(id)));
  auto again = catalog_->request_retry(id);
  ASSERT_TRUE(is_ok(again));
  EXPECT_TRUE(again->retry == retry_state::requested);
  EXPECT_EQ(taken_retries("balances"), std::vector<int64_t>{id});
  EXPECT_TRUE(taken_retries("balances").empty());
}

TEST_P(CatalogConformance, AFailedRetryKeepsTheLetterWithItsNewError) {
  auto id = add(letter("balances", 4));
  ASSERT_TRUE(is_ok(catalog_->request_retry(id)));
  EXPECT_EQ(taken_retries("balances"), std::vector<int64_t>{id});
  ASSERT_TRUE(is_ok(catalog_->retry_failed(id, "still broken")));
  auto found = catalog_->find_dead_letter(id);
  ASSERT_TRUE(is_ok(found) && *found);
  EXPECT_EQ((*found)->retry, retry_state::none);
  EXPECT_EQ((*found)->error, "still broken");
  EXPECT_TRUE(taken_retries("balances").empty());
  // A running retry given back (the node could not run it) is requested.
  ASSERT_TRUE(is_ok(catalog_->request_retry(id)));
  EXPECT_EQ(taken_retries("balances"), std::vector<int64_t>{id});
  auto back = catalog_->request_retry(id);
  ASSERT_TRUE(is_ok(back));
  EXPECT_EQ(back->retry, retry_state::requested);
  EXPECT_TRUE(fails_with(catalog_->retry_failed(id + 1000, "x"), ec::not_found));
  EXPECT_TRUE(fails_with(catalog_->retry_failed(0, "x"), ec::invalid_argument));
}

TEST_P(CatalogConformance, RemovedDeadLetterIsNotTakenForARetry) {
  auto kept = add(letter("balances", 1));
  auto gone = add(letter("balances", 2));
  ASSERT_TRUE(is_ok(catalog_->request_retry(kept)));
  ASSERT_TRUE(is_ok(catalog_->request_retry(gone)));
  auto removed = catalog_->remove_dead_letter(gone);
  ASSERT_TRUE(is_ok(removed));
  EXPECT_TRUE(*removed);
  EXPECT_EQ(taken_retries("balances"), std::vector<int64_t>{kept});
  // Dead-lettered again, the event's new letter is not marked.
  add(letter("balances", 2));
  EXPECT_TRUE(taken_retries("balances").empty());
}

TEST_P(CatalogConformance, AddedDeadLetterIsNeverMarkedForARetry) {
  auto d = letter("balances", 6);
  d.retry = retry_state::requested;
  auto id = add(d);
  auto found = catalog_->find_dead_letter(id);
  ASSERT_TRUE(is_ok(found));
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->retry, retry_state::none);
  EXPECT_TRUE(taken_retries("balances").empty());
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
    EXPECT_TRUE(fails_with(catalog_->take_retry_requests(name), bad));
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
    EXPECT_TRUE(fails_with(catalog_->request_retry(id), bad));
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
