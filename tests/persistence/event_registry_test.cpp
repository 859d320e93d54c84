// make_event and event_registry: typed events become new events, recorded
// events decode back into a variant, old payloads are lifted by upcasters and
// anything undecodable is a corrupt_event that names where it is stored.
#include "es/persistence/event_registry.hpp"

#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "es/persistence/event.hpp"

namespace es::persistence {
namespace {

struct opened {
  static constexpr const char* type_name = "test_opened";
  std::string owner;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(opened, owner)

// Schema history: v1 {"amount": whole euros}; v2 adds "currency";
// v3 stores "cents" instead of "amount".
struct deposited {
  static constexpr const char* type_name = "test_deposited";
  static constexpr int32_t schema_version = 3;
  int64_t cents = 0;
  std::string currency;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(deposited, cents, currency)

struct closed {
  static constexpr const char* type_name = "test_closed";
  std::string reason;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(closed, reason)

// A type that cannot name itself; its traits are specialized below.
struct legacy_note {
  std::string text;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(legacy_note, text)

using account_event = std::variant<opened, deposited, closed>;

constexpr int64_t position = 987654;
const char* stream = "acct-7";

recorded_event recorded(std::string event_type, int32_t schema_version,
                        json payload) {
  recorded_event e;
  e.global_position = position;
  e.event_id = uuid::v7();
  e.stream_id = stream;
  e.stream_type = "account";
  e.version = 3;
  e.event_type = std::move(event_type);
  e.schema_version = schema_version;
  e.payload = std::move(payload);
  e.metadata = json::object();
  return e;
}

// Returns a registry with the steps 1->2 and 2->3 of `test_deposited`; each
// step records its name in `calls` when it runs.
event_registry deposited_upcasters(std::vector<std::string>& calls) {
  event_registry registry;
  registry.upcast("test_deposited", 1, [&calls](json p) {
    calls.emplace_back("1->2");
    p["currency"] = "EUR";
    return p;
  });
  registry.upcast("test_deposited", 2, [&calls](json p) {
    calls.emplace_back("2->3");
    if (!p.contains("currency"))
      throw std::logic_error("step 2->3 ran before step 1->2");
    p["cents"] = p.at("amount").get<int64_t>() * 100;
    p.erase("amount");
    return p;
  });
  return registry;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Checks that `r` is a corrupt_event naming the position and the stream.
template <class T>
::testing::AssertionResult is_corrupt(const result<T>& r) {
  if (r)
    return ::testing::AssertionFailure() << "decoded, expected corrupt_event";
  const auto& err = r.error();
  if (err.code() != ec::corrupt_event)
    return ::testing::AssertionFailure()
           << "got " << err.to_string() << ", expected corrupt_event";
  if (!contains(err.message(), std::to_string(position)))
    return ::testing::AssertionFailure()
           << "message does not name position " << position << ": "
           << err.message();
  if (!contains(err.message(), stream))
    return ::testing::AssertionFailure()
           << "message does not name stream " << stream << ": "
           << err.message();
  return ::testing::AssertionSuccess();
}

template <class T>
std::string describe(const result<T>& r) {
  return r ? std::string{"ok"} : r.error().to_string();
}

} // namespace

template <>
struct event_traits<legacy_note> {
  static constexpr const char* type_name = "legacy_note";
  static constexpr int32_t schema_version = 4;
};

namespace {

// -- make_event ---------------------------------------------------------------

TEST(EventRegistry, MakeEventUsesTypeNameAndDefaultSchemaVersion) {
  auto e = make_event(opened{"ada"});
  EXPECT_EQ(e.event_type, "test_opened");
  EXPECT_EQ(e.schema_version, 1);
}

TEST(EventRegistry, MakeEventUsesSchemaVersionFromTraits) {
  auto e = make_event(deposited{1200, "EUR"});
  EXPECT_EQ(e.event_type, "test_deposited");
  EXPECT_EQ(e.schema_version, 3);
}

TEST(EventRegistry, MakeEventHonoursSpecializedTraits) {
  auto e = make_event(legacy_note{"hi"});
  EXPECT_EQ(e.event_type, "legacy_note");
  EXPECT_EQ(e.schema_version, 4);
  EXPECT_EQ(e.payload, json::parse(R"({"text": "hi"})"));
}

TEST(EventRegistry, MakeEventEncodesPayload) {
  auto e = make_event(deposited{1200, "EUR"});
  EXPECT_EQ(e.payload, json::parse(R"({"cents": 1200, "currency": "EUR"})"));
}

TEST(EventRegistry, MakeEventCarriesMetadata) {
  auto meta
    = json::parse(R"({"correlation_id": "c-1", "causation_id": "k-2"})");
  auto e = make_event(opened{"ada"}, meta);
  EXPECT_EQ(e.metadata, meta);
}

TEST(EventRegistry, MakeEventDefaultsToEmptyMetadataObject) {
  auto e = make_event(opened{"ada"});
  EXPECT_TRUE(e.metadata.is_object());
  EXPECT_TRUE(e.metadata.empty());
}

TEST(EventRegistry, MakeEventGivesEachEventAFreshId) {
  auto first = make_event(opened{"ada"});
  auto second = make_event(opened{"ada"});
  EXPECT_FALSE(first.event_id.nil());
  EXPECT_NE(first.event_id, second.event_id);
}

TEST(EventRegistry, MakeEventFromVariantUsesHeldAlternative) {
  account_event ev = deposited{500, "SEK"};
  auto meta = json::parse(R"({"correlation_id": "c-9"})");
  auto e = make_event(ev, meta);
  EXPECT_EQ(e.event_type, "test_deposited");
  EXPECT_EQ(e.schema_version, 3);
  EXPECT_EQ(e.payload, json::parse(R"({"cents": 500, "currency": "SEK"})"));
  EXPECT_EQ(e.metadata, meta);
}

TEST(EventRegistry, MakeEventFromVariantWithDefaultSchemaVersion) {
  account_event ev = closed{"moved away"};
  auto e = make_event(ev);
  EXPECT_EQ(e.event_type, "test_closed");
  EXPECT_EQ(e.schema_version, 1);
  EXPECT_EQ(e.payload, json::parse(R"({"reason": "moved away"})"));
}

// -- decode -------------------------------------------------------------------

TEST(EventRegistry, DecodesIntoTheNamedAlternative) {
  event_registry registry;
  auto r = registry.decode<account_event>(
    recorded("test_closed", 1, json::parse(R"({"reason": "fraud"})")));
  ASSERT_TRUE(r) << describe(r);
  ASSERT_TRUE(std::holds_alternative<closed>(*r)) << "index " << r->index();
  EXPECT_EQ(std::get<closed>(*r).reason, "fraud");
}

TEST(EventRegistry, DecodesFirstAlternative) {
  event_registry registry;
  auto r = registry.decode<account_event>(
    recorded("test_opened", 1, json::parse(R"({"owner": "ada"})")));
  ASSERT_TRUE(r) << describe(r);
  ASSERT_TRUE(std::holds_alternative<opened>(*r)) << "index " << r->index();
  EXPECT_EQ(std::get<opened>(*r).owner, "ada");
}

TEST(EventRegistry, DecodesCurrentVersionWithoutRunningUpcasters) {
  std::vector<std::string> calls;
  auto registry = deposited_upcasters(calls);
  auto r = registry.decode<account_event>(recorded(
    "test_deposited", 3, json::parse(R"({"cents": 5, "currency": "SEK"})")));
  ASSERT_TRUE(r) << describe(r);
  ASSERT_TRUE(std::holds_alternative<deposited>(*r));
  EXPECT_EQ(std::get<deposited>(*r).cents, 5);
  EXPECT_EQ(std::get<deposited>(*r).currency, "SEK");
  EXPECT_TRUE(calls.empty());
}

TEST(EventRegistry, DecodeLiftsVersionOneThroughBothStepsInOrder) {
  std::vector<std::string> calls;
  auto registry = deposited_upcasters(calls);
  auto r = registry.decode<account_event>(
    recorded("test_deposited", 1, json::parse(R"({"amount": 12})")));
  ASSERT_TRUE(r) << describe(r);
  ASSERT_TRUE(std::holds_alternative<deposited>(*r));
  EXPECT_EQ(std::get<deposited>(*r).cents, 1200);
  EXPECT_EQ(std::get<deposited>(*r).currency, "EUR");
  EXPECT_EQ(calls, (std::vector<std::string>{"1->2", "2->3"}));
}

TEST(EventRegistry, DecodeLiftsVersionTwoThroughOneStep) {
  std::vector<std::string> calls;
  auto registry = deposited_upcasters(calls);
  auto r = registry.decode<account_event>(recorded(
    "test_deposited", 2, json::parse(R"({"amount": 7, "currency": "USD"})")));
  ASSERT_TRUE(r) << describe(r);
  ASSERT_TRUE(std::holds_alternative<deposited>(*r));
  EXPECT_EQ(std::get<deposited>(*r).cents, 700);
  EXPECT_EQ(std::get<deposited>(*r).currency, "USD");
  EXPECT_EQ(calls, (std::vector<std::string>{"2->3"}));
}

TEST(EventRegistry, DecodeLeavesOtherTypesAlone) {
  std::vector<std::string> calls;
  auto registry = deposited_upcasters(calls);
  auto r = registry.decode<account_event>(
    recorded("test_opened", 1, json::parse(R"({"owner": "bob"})")));
  ASSERT_TRUE(r) << describe(r);
  EXPECT_EQ(std::get<opened>(*r).owner, "bob");
  EXPECT_TRUE(calls.empty());
}

TEST(EventRegistry, UnknownTypeIsCorruptEventNamingPosition) {
  event_registry registry;
  auto r = registry.decode<account_event>(
    recorded("test_renamed", 1, json::parse(R"({"owner": "ada"})")));
  EXPECT_TRUE(is_corrupt(r));
}

TEST(EventRegistry, UndecodablePayloadIsCorruptEventNamingPosition) {
  event_registry registry;
  auto payload = json::parse(R"({"cents": "lots", "currency": "EUR"})");
  auto r = registry.decode<account_event>(
    recorded("test_deposited", 3, payload));
  EXPECT_TRUE(is_corrupt(r));
}

TEST(EventRegistry, PayloadMissingAFieldIsCorruptEvent) {
  event_registry registry;
  auto r = registry.decode<account_event>(
    recorded("test_opened", 1, json::object()));
  EXPECT_TRUE(is_corrupt(r));
}

TEST(EventRegistry, PayloadOfWrongJsonKindIsCorruptEvent) {
  event_registry registry;
  auto r = registry.decode<account_event>(
    recorded("test_opened", 1, json::parse("[1, 2]")));
  EXPECT_TRUE(is_corrupt(r));
}

TEST(EventRegistry, NewerSchemaVersionIsCorruptEvent) {
  std::vector<std::string> calls;
  auto registry = deposited_upcasters(calls);
  auto r = registry.decode<account_event>(recorded(
    "test_deposited", 4, json::parse(R"({"cents": 5, "currency": "SEK"})")));
  EXPECT_TRUE(is_corrupt(r));
  EXPECT_TRUE(calls.empty());
}

TEST(EventRegistry, MissingUpcasterStepIsCorruptEvent) {
  event_registry registry;
  registry.upcast("test_deposited", 2, [](json p) {
    p["cents"] = p.at("amount").get<int64_t>() * 100;
    return p;
  });
  auto r = registry.decode<account_event>(
    recorded("test_deposited", 1, json::parse(R"({"amount": 12})")));
  EXPECT_TRUE(is_corrupt(r));
}

TEST(EventRegistry, OldPayloadWithoutAnyUpcasterIsCorruptEvent) {
  event_registry registry;
  auto r = registry.decode<account_event>(recorded(
    "test_deposited", 2, json::parse(R"({"amount": 7, "currency": "USD"})")));
  EXPECT_TRUE(is_corrupt(r));
}

TEST(EventRegistry, ThrowingUpcasterStepIsCorruptEvent) {
  event_registry registry;
  registry.upcast("test_deposited", 1, [](json) -> json {
    throw std::runtime_error("boom");
  });
  registry.upcast("test_deposited", 2, [](json p) { return p; });
  auto r = registry.decode<account_event>(
    recorded("test_deposited", 1, json::parse(R"({"amount": 12})")));
  EXPECT_TRUE(is_corrupt(r));
}

TEST(EventRegistry, UpcasterProducingUndecodablePayloadIsCorruptEvent) {
  event_registry registry;
  registry.upcast("test_deposited", 2, [](json p) {
    p["cents"] = "not a number";
    return p;
  });
  auto r = registry.decode<account_event>(recorded(
    "test_deposited", 2, json::parse(R"({"amount": 7, "currency": "USD"})")));
  EXPECT_TRUE(is_corrupt(r));
}

TEST(EventRegistry, CorruptNamesPositionStreamAndReason) {
  auto e = recorded("test_opened", 1, json::object());
  auto err = event_registry::corrupt(e, "the reason");
  EXPECT_EQ(err.code(), ec::corrupt_event);
  EXPECT_TRUE(contains(err.message(), std::to_string(position)))
    << err.message();
  EXPECT_TRUE(contains(err.message(), stream)) << err.message();
  EXPECT_TRUE(contains(err.message(), "the reason")) << err.message();
}

// -- lift and upcast ----------------------------------------------------------

TEST(EventRegistry, LiftRunsStepsInOrder) {
  std::vector<std::string> calls;
  auto registry = deposited_upcasters(calls);
  auto r
    = registry.lift("test_deposited", 1, 3, json::parse(R"({"amount": 2})"));
  ASSERT_TRUE(r) << describe(r);
  EXPECT_EQ(*r, json::parse(R"({"cents": 200, "currency": "EUR"})"));
  EXPECT_EQ(calls, (std::vector<std::string>{"1->2", "2->3"}));
}

TEST(EventRegistry, LiftToSameVersionReturnsPayloadUnchanged) {
  event_registry registry;
  auto payload = json::parse(R"({"amount": 2})");
  auto r = registry.lift("test_deposited", 2, 2, payload);
  ASSERT_TRUE(r) << describe(r);
  EXPECT_EQ(*r, payload);
}

TEST(EventRegistry, LiftFromNewerVersionIsCorruptEvent) {
  std::vector<std::string> calls;
  auto registry = deposited_upcasters(calls);
  auto r = registry.lift("test_deposited", 3, 2, json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ec::corrupt_event);
  EXPECT_TRUE(calls.empty());
}

TEST(EventRegistry, LiftWithMissingStepIsCorruptEvent) {
  event_registry registry;
  registry.upcast("test_deposited", 1, [](json p) { return p; });
  auto r = registry.lift("test_deposited", 1, 3, json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ec::corrupt_event);
}

TEST(EventRegistry, LiftCatchesThrowingStep) {
  event_registry registry;
  registry.upcast("test_deposited", 1, [](json) -> json {
    throw std::runtime_error("boom");
  });
  result<json> r{json::object()};
  EXPECT_NO_THROW(r = registry.lift("test_deposited", 1, 2, json::object()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ec::corrupt_event);
}

TEST(EventRegistry, LiftUsesOnlyStepsOfTheGivenType) {
  event_registry registry;
  registry.upcast("test_deposited", 1, [](json p) { return p; });
  auto r = registry.lift("test_opened", 1, 2, json::object());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ec::corrupt_event);
}

TEST(EventRegistry, RegisteringSameStepTwiceThrows) {
  event_registry registry;
  registry.upcast("test_deposited", 1, [](json p) { return p; });
  EXPECT_THROW(registry.upcast("test_deposited", 1, [](json p) { return p; }),
               std::invalid_argument);
}

TEST(EventRegistry, RegisteringStepBelowVersionOneThrows) {
  event_registry registry;
  EXPECT_THROW(registry.upcast("test_deposited", 0, [](json p) { return p; }),
               std::invalid_argument);
  EXPECT_THROW(registry.upcast("test_deposited", -1, [](json p) { return p; }),
               std::invalid_argument);
}

TEST(EventRegistry, SameStepForDifferentTypesIsAllowed) {
  event_registry registry;
  registry.upcast("test_deposited", 1, [](json p) { return p; });
  EXPECT_NO_THROW(registry.upcast("test_opened", 1, [](json p) { return p; }));
  EXPECT_NO_THROW(
    registry.upcast("test_deposited", 2, [](json p) { return p; }));
}

} // namespace
} // namespace es::persistence
