// Catalog conformance: records, states, checkpoints and operator requests;
// also the suite's single instantiation (catalog_fixture.hpp).
#include <string>

#include <gtest/gtest.h>

#include "persistence/conformance/catalog_fixture.hpp"

namespace es::persistence::conformance {
namespace {

std::string catalog_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

} // namespace

INSTANTIATE_TEST_SUITE_P(Catalogs, CatalogConformance,
                         ::testing::Values("memory", "postgres"),
                         catalog_name);

TEST_P(CatalogConformance, RegisterCreatesAStartingRecordAtCheckpointZero) {
  auto rec = registered("balances");
  EXPECT_EQ(rec.name, "balances");
  EXPECT_EQ(rec.state, projection_state::starting);
  EXPECT_EQ(rec.checkpoint, 0);
  EXPECT_EQ(rec.last_error, "");
  EXPECT_EQ(rec.error_position, 0);
  EXPECT_FALSE(rec.requested);
  EXPECT_TRUE(near_now(rec.updated_at));
}

TEST_P(CatalogConformance, RegisterAgainKeepsTheStoredRecord) {
  registered("balances");
  ASSERT_TRUE(is_ok(catalog_->set_checkpoint("balances", 42)));
  ASSERT_TRUE(is_ok(catalog_->set_state("balances", projection_state::live)));
  auto again = registered("balances");
  EXPECT_EQ(again.checkpoint, 42);
  EXPECT_EQ(again.state, projection_state::live);
  EXPECT_EQ(names(), std::vector<std::string>{"balances"});
}

TEST_P(CatalogConformance, FindOfAnUnknownNameIsNothing) {
  registered("balances");
  auto r = catalog_->find("ledger");
  ASSERT_TRUE(is_ok(r));
  EXPECT_FALSE(*r);
}

TEST_P(CatalogConformance, ListIsOrderedByNameBytes) {
  EXPECT_TRUE(names().empty());
  for (auto name : {"b", "a", "c", "B", "a2"})
    registered(name);
  EXPECT_EQ(names(), (std::vector<std::string>{"B", "a", "a2", "b", "c"}));
}

TEST_P(CatalogConformance, AwkwardNamesRoundTrip) {
  for (const auto& name : awkward_names())
    registered(name);
  for (const auto& name : awkward_names())
    EXPECT_EQ(record(name).name, name);
  EXPECT_EQ(names().size(), awkward_names().size());
}

TEST_P(CatalogConformance, SetStateStoresStateAndErrorButNotTheCheckpoint) {
  registered("balances");
  ASSERT_TRUE(is_ok(catalog_->set_checkpoint("balances", 7)));
  ASSERT_TRUE(is_ok(catalog_->set_state("balances", projection_state::failed,
                                        "division by zero", 8)));
  auto rec = record("balances");
  EXPECT_EQ(rec.state, projection_state::failed);
  EXPECT_EQ(rec.last_error, "division by zero");
  EXPECT_EQ(rec.error_position, 8);
  EXPECT_EQ(rec.checkpoint, 7);
  // Leaving `failed` clears the error when the caller passes none.
  ASSERT_TRUE(is_ok(catalog_->set_state("balances", projection_state::live)));
  rec = record("balances");
  EXPECT_EQ(rec.state, projection_state::live);
  EXPECT_EQ(rec.last_error, "");
  EXPECT_EQ(rec.error_position, 0);
}

TEST_P(CatalogConformance, ErrorTextWithBrokenUtf8IsStoredCleaned) {
  registered("balances");
  const char raw[] = "bad \xff byte \0 here";
  std::string error{raw, sizeof raw - 1};
  ASSERT_TRUE(is_ok(catalog_->set_state("balances", projection_state::failed,
                                        error, 3)));
  EXPECT_EQ(record("balances").last_error, "bad ? byte ? here");
}

TEST_P(CatalogConformance, SetCheckpointStoresAlsoALowerOne) {
  registered("balances");
  ASSERT_TRUE(is_ok(catalog_->set_checkpoint("balances", 100)));
  EXPECT_EQ(record("balances").checkpoint, 100);
  ASSERT_TRUE(is_ok(catalog_->set_checkpoint("balances", 0)));
  EXPECT_EQ(record("balances").checkpoint, 0);
}

TEST_P(CatalogConformance, UnregisteredNamesAreNotFound) {
  registered("balances");
  auto state = catalog_->set_state("ledger", projection_state::live);
  auto checkpoint = catalog_->set_checkpoint("ledger", 1);
  auto request = catalog_->request("ledger", projection_op::pause);
  EXPECT_TRUE(fails_with(request, ec::not_found));
  for (const auto* r : {&state, &checkpoint}) {
    EXPECT_TRUE(fails_with(*r, ec::not_found));
    if (!*r) {
      EXPECT_NE(r->error().message().find("'ledger'"), std::string::npos)
        << r->error().message();
    }
  }
  EXPECT_EQ(names(), std::vector<std::string>{"balances"});
}

TEST_P(CatalogConformance, RequestIsQueuedOnTheRecord) {
  registered("balances");
  ASSERT_TRUE(is_ok(catalog_->request("balances", projection_op::rebuild)));
  EXPECT_EQ(record("balances").requested, projection_op::rebuild);
}

TEST_P(CatalogConformance, NewerRequestReplacesAnOlderOne) {
  registered("balances");
  ASSERT_TRUE(is_ok(catalog_->request("balances", projection_op::pause)));
  ASSERT_TRUE(is_ok(catalog_->request("balances", projection_op::resume)));
  auto taken = catalog_->take_request("balances");
  ASSERT_TRUE(is_ok(taken));
  ASSERT_TRUE(*taken);
  EXPECT_EQ((*taken)->op, projection_op::resume);
  EXPECT_EQ((*taken)->id, 2);
}

TEST_P(CatalogConformance, RequestsAreNumberedAndTakenWithTheirId) {
  registered("balances");
  registered("ledger");
  auto first = catalog_->request("balances", projection_op::pause);
  ASSERT_TRUE(is_ok(first));
  EXPECT_EQ(*first, 1);
  auto taken = catalog_->take_request("balances");
  ASSERT_TRUE(is_ok(taken) && *taken);
  EXPECT_EQ((*taken)->id, 1);
  auto second = catalog_->request("balances", projection_op::resume);
  ASSERT_TRUE(is_ok(second));
  EXPECT_EQ(*second, 2);
  EXPECT_EQ(record("balances").request_id, 2);
  // Each projection counts its own.
  auto other = catalog_->request("ledger", projection_op::pause);
  ASSERT_TRUE(is_ok(other));
  EXPECT_EQ(*other, 1);
}

TEST_P(CatalogConformance, SetAppliedRecordsTheNewestFinishedRequest) {
  registered("balances");
  EXPECT_EQ(record("balances").applied_id, 0);
  ASSERT_TRUE(is_ok(catalog_->set_applied("balances", 2, "reset hook: boom")));
  EXPECT_EQ(record("balances").applied_id, 2);
  EXPECT_EQ(record("balances").applied_error, "reset hook: boom");
  // An older one (finished late) changes nothing.
  ASSERT_TRUE(is_ok(catalog_->set_applied("balances", 1)));
  EXPECT_EQ(record("balances").applied_id, 2);
  EXPECT_EQ(record("balances").applied_error, "reset hook: boom");
  ASSERT_TRUE(is_ok(catalog_->set_applied("balances", 3)));
  EXPECT_EQ(record("balances").applied_id, 3);
  EXPECT_EQ(record("balances").applied_error, "");
}

TEST_P(CatalogConformance, SetAppliedRejectsBadInput) {
  registered("balances");
  EXPECT_TRUE(fails_with(catalog_->set_applied("balances", 0),
                         ec::invalid_argument));
  EXPECT_TRUE(fails_with(catalog_->set_applied("ledger", 1), ec::not_found));
  EXPECT_TRUE(fails_with(catalog_->set_applied("", 1), ec::invalid_argument));
}

TEST_P(CatalogConformance, TakeRequestReturnsItOnceThenNothing) {
  registered("balances");
  registered("ledger");
  ASSERT_TRUE(is_ok(catalog_->request("balances", projection_op::retry)));
  ASSERT_TRUE(is_ok(catalog_->request("ledger", projection_op::reset)));
  auto first = catalog_->take_request("balances");
  ASSERT_TRUE(is_ok(first) && *first);
  EXPECT_EQ((*first)->op, projection_op::retry);
  auto second = catalog_->take_request("balances");
  ASSERT_TRUE(is_ok(second));
  EXPECT_FALSE(*second);
  EXPECT_FALSE(record("balances").requested);
  // Other projections keep theirs.
  EXPECT_EQ(record("ledger").requested, projection_op::reset);
}

TEST_P(CatalogConformance, TakeRequestOfAnUnknownNameIsNothing) {
  auto r = catalog_->take_request("ledger");
  ASSERT_TRUE(is_ok(r));
  EXPECT_FALSE(*r);
}

TEST_P(CatalogConformance, EveryStateAndRequestRoundTrips) {
  registered("balances");
  for (auto s : {projection_state::starting, projection_state::catching_up,
                 projection_state::live, projection_state::paused,
                 projection_state::failed}) {
    ASSERT_TRUE(is_ok(catalog_->set_state("balances", s)));
    EXPECT_EQ(record("balances").state, s) << to_string(s);
  }
  for (auto op : {projection_op::pause, projection_op::resume,
                  projection_op::reset, projection_op::rebuild,
                  projection_op::retry}) {
    ASSERT_TRUE(is_ok(catalog_->request("balances", op)));
    EXPECT_EQ(record("balances").requested, op) << to_string(op);
  }
}

// -- not store-specific -------------------------------------------------------

TEST(ProjectionCatalog, StateAndOpNamesRoundTrip) {
  for (auto s : {projection_state::starting, projection_state::catching_up,
                 projection_state::live, projection_state::paused,
                 projection_state::failed})
    EXPECT_EQ(parse_projection_state(to_string(s)), s);
  for (auto op : {projection_op::pause, projection_op::resume,
                  projection_op::reset, projection_op::rebuild,
                  projection_op::retry})
    EXPECT_EQ(parse_projection_op(to_string(op)), op);
  EXPECT_STREQ(to_string(projection_state::catching_up), "catching_up");
  EXPECT_STREQ(to_string(projection_op::rebuild), "rebuild");
  EXPECT_FALSE(parse_projection_state("Live"));
  EXPECT_FALSE(parse_projection_op(""));
}

TEST(ProjectionCatalog, MakeDeadLetterDescribesTheEvent) {
  recorded_event e;
  e.global_position = 17;
  e.event_id = uuid::v7();
  e.stream_id = "acct-1";
  e.event_type = "deposited";
  auto d = make_dead_letter("balances", e, "bad amount");
  EXPECT_EQ(d.id, 0);
  EXPECT_EQ(d.projection, "balances");
  EXPECT_EQ(d.global_position, 17);
  EXPECT_EQ(d.event_id, e.event_id);
  EXPECT_EQ(d.stream_id, "acct-1");
  EXPECT_EQ(d.event_type, "deposited");
  EXPECT_EQ(d.error, "bad amount");
}

TEST(ProjectionCatalog, OpenCatalogByUrl) {
  auto memory = open_catalog("memory:");
  ASSERT_TRUE(memory);
  EXPECT_TRUE(is_ok((*memory)->register_projection("balances")));
  auto unknown = open_catalog("mysql://localhost/db");
  EXPECT_TRUE(fails_with(unknown, ec::invalid_argument));
  auto closed = open_catalog("postgresql://es@127.0.0.1:1/es");
  EXPECT_TRUE(fails_with(closed, ec::unavailable));
}

} // namespace es::persistence::conformance
