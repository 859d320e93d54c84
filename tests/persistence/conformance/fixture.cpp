// Store conformance: the suite's single instantiation, one run per store
// kind. The TEST_Ps live in the topic files beside this one (fixture.hpp).
#include <string>

#include <gtest/gtest.h>

#include "persistence/conformance/fixture.hpp"

namespace es::persistence::conformance {
namespace {

std::string store_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

} // namespace

INSTANTIATE_TEST_SUITE_P(Stores, StoreConformance,
                         ::testing::Values("memory", "postgres"), store_name);

} // namespace es::persistence::conformance
