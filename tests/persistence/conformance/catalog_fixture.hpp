// The projection catalog conformance suite: `CatalogConformance`, a
// value-parameterized GoogleTest suite that every projection_catalog must
// pass, instantiated (in catalog_test.cpp) for "memory" and, with
// $ES_DATABASE_URL, "postgres". Each test gets a fresh, empty catalog
// through the `projection_catalog` interface only.
//
// Tests: catalog_test.cpp (records, requests), dead_letter_test.cpp (dead
// letters, their retry requests, bad input). To add a catalog: teach
// es::test::make_catalog (tests/support/stores.cpp) its kind name and add
// it to the instantiation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "es/persistence/projection_catalog.hpp"
#include "persistence/conformance/fixture.hpp"
#include "support/stores.hpp"

namespace es::persistence::conformance {

class CatalogConformance : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    if (GetParam() == "postgres")
      ES_REQUIRE_DATABASE();
    catalog_ = es::test::make_catalog(GetParam(), schema_);
    ASSERT_NE(catalog_, nullptr);
  }

  /// Registers `name` and fails the test on error.
  projection_record registered(const std::string& name) {
    auto r = catalog_->register_projection(name);
    if (!r) {
      ADD_FAILURE() << "register '" << name << "': " << r.error().to_string();
      return {};
    }
    return *r;
  }

  /// Returns the record of `name`, failing the test when there is none.
  projection_record record(const std::string& name) {
    auto r = catalog_->find(name);
    if (!r || !*r) {
      ADD_FAILURE() << "find '" << name << "': "
                    << (r ? "not registered" : r.error().to_string());
      return {};
    }
    return **r;
  }

  /// Returns the names `list()` returns, in order.
  std::vector<std::string> names() {
    std::vector<std::string> out;
    auto r = catalog_->list();
    if (!r) {
      ADD_FAILURE() << "list: " << r.error().to_string();
      return out;
    }
    for (const auto& rec : *r)
      out.push_back(rec.name);
    return out;
  }

  /// Returns a dead letter of `projection` for the event at `position`.
  static dead_letter letter(const std::string& projection, int64_t position,
                            std::string error = "boom") {
    recorded_event e;
    e.global_position = position;
    e.event_id = uuid::v7();
    e.stream_id = "cart-" + std::to_string(position);
    e.stream_type = "cart";
    e.event_type = "item_added";
    return make_dead_letter(projection, e, std::move(error));
  }

  /// Records `d` and returns its id (0 on failure, which fails the test).
  int64_t add(const dead_letter& d) {
    auto r = catalog_->add_dead_letter(d);
    if (!r) {
      ADD_FAILURE() << "add_dead_letter: " << r.error().to_string();
      return 0;
    }
    return *r;
  }

  /// Returns the global positions of `dead_letters(projection, limit)`.
  std::vector<int64_t> letter_positions(const std::string& projection = {},
                                        size_t limit = 1000) {
    std::vector<int64_t> out;
    auto r = catalog_->dead_letters(projection, limit);
    if (!r) {
      ADD_FAILURE() << "dead_letters: " << r.error().to_string();
      return out;
    }
    for (const auto& d : *r)
      out.push_back(d.global_position);
    return out;
  }

  /// Returns the ids `take_retry_requests(projection)` returns.
  std::vector<int64_t> taken_retries(const std::string& projection) {
    auto r = catalog_->take_retry_requests(projection);
    if (!r) {
      ADD_FAILURE() << "take_retry_requests: " << r.error().to_string();
      return {};
    }
    return *r;
  }

  // Declared first so that the catalog closes before its schema is dropped.
  std::unique_ptr<es::test::pg_schema> schema_;
  std::unique_ptr<projection_catalog> catalog_;
};

} // namespace es::persistence::conformance
