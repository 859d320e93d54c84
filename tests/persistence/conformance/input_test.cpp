// Store conformance: awkward names and text (unicode, SQL- and
// array-looking ids) that must round-trip verbatim, and bad input that
// must fail with invalid_argument and write nothing. The suite is
// described in fixture.hpp.
#include "persistence/conformance/fixture.hpp"

namespace es::persistence::conformance {

// -- awkward names and text ---------------------------------------------------

TEST_P(StoreConformance, AwkwardStreamIdsRoundTripVerbatim) {
  const auto& names = awkward_names();
  for (const auto& name : names)
    append_ok(name, {item(name)}, no_stream());
  for (const auto& name : names) {
    SCOPED_TRACE("stream id: " + name);
    EXPECT_EQ(version_of(name), 1);
    auto events = read(name);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].stream_id, name);
    EXPECT_EQ(events[0].payload["sku"], name);
  }
  auto feed = page(0, 100).events;
  ASSERT_EQ(feed.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i)
    EXPECT_EQ(feed[i].stream_id, names[i]);
}

TEST_P(StoreConformance, AwkwardTypesRoundTripAndFilterVerbatim) {
  const auto& names = awkward_names();
  for (size_t i = 0; i < names.size(); ++i)
    append_ok("s" + std::to_string(i), {typed(names[i], {{"text", names[i]}})},
              no_stream(), names[i]);
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE("type: " + names[i]);
    auto events = read("s" + std::to_string(i));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].stream_type, names[i]);
    EXPECT_EQ(events[0].event_type, names[i]);
    EXPECT_EQ(events[0].payload["text"], names[i]);
    auto position = static_cast<int64_t>(i + 1);
    feed_filter by_stream_type;
    by_stream_type.stream_types = {names[i]};
    EXPECT_EQ(feed_positions(by_stream_type), (std::vector<int64_t>{position}));
    feed_filter by_event_type;
    by_event_type.event_types = {names[i]};
    EXPECT_EQ(feed_positions(by_event_type), (std::vector<int64_t>{position}));
  }
}

TEST_P(StoreConformance, EveryKindOfJsonValueRoundTrips) {
  json payload = {
    {"control", std::string{"\x01\x1f\b\f\n\r\t end"}},
    {"quotes", "\"quoted\" \\ back\\slash {a,b} 'x'"},
    {"unicode", "ü €  🙂"},
    {"numbers", {0, -1, 42, 9223372036854775807LL, 18446744073709551615ULL,
                 0.5, -1.25e-8, 3.141592653589793}},
    {"nested", {{"empty_object", json::object()}, {"empty_array", json::array()},
                {"null", nullptr}, {"yes", true}, {"no", false}}},
  };
  json metadata = {{"correlation_id", "c\"1\\"}, {"list", {1, "two", nullptr}}};
  new_event e;
  e.event_type = "everything";
  e.payload = payload;
  e.metadata = metadata;
  append_ok("json-1", {e}, no_stream());
  auto events = read("json-1");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, payload);
  EXPECT_EQ(events[0].metadata, metadata);
}

TEST_P(StoreConformance, FilterListIsNotParsedAsOneName) {
  append_ok("s1", items(1), any(), "a");
  append_ok("s2", items(1), any(), "b");
  append_ok("s3", items(1), any(), "{a,b}");
  append_ok("s4", items(1), any(), "a,b");
  feed_filter f;
  f.stream_types = {"a", "b"};
  EXPECT_EQ(feed_positions(f), (std::vector<int64_t>{1, 2}));
  f.stream_types = {"a,b"};
  EXPECT_EQ(feed_positions(f), (std::vector<int64_t>{4}));
}

TEST_P(StoreConformance, AwkwardTextInMetadataRoundTrips) {
  json metadata;
  for (size_t i = 0; i < awkward_names().size(); ++i)
    metadata[awkward_names()[i]] = awkward_names()[i];
  append_ok("s", {make_event(item_added{"x", 1}, metadata)});
  auto events = read("s");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].metadata, metadata);
}

TEST_P(StoreConformance, AwkwardNamesInSnapshotsAndCheckpoints) {
  const auto& names = awkward_names();
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE("name: " + names[i]);
    auto version = static_cast<int64_t>(i + 1);
    EXPECT_TRUE(save(snap(names[i], version, 1, {{"name", names[i]}},
                          names[i])));
    ASSERT_TRUE(is_ok(store_->checkpoint(names[i], version)));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE("name: " + names[i]);
    auto loaded = load(names[i]);
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->stream_id, names[i]);
    EXPECT_EQ(loaded->stream_type, names[i]);
    EXPECT_EQ(loaded->version, static_cast<int64_t>(i + 1));
    EXPECT_EQ(loaded->state, json({{"name", names[i]}}));
    auto cp = store_->checkpoint(names[i]);
    ASSERT_TRUE(is_ok(cp));
    EXPECT_EQ(*cp, static_cast<int64_t>(i + 1));
  }
  auto deleted = store_->delete_snapshots("{a,b}");
  ASSERT_TRUE(is_ok(deleted));
  EXPECT_EQ(*deleted, 1u);
  EXPECT_TRUE(load("a").has_value());
}

// -- bad input ----------------------------------------------------------------

TEST_P(StoreConformance, RejectsEmptyStreamId) {
  expect_invalid_append("", "cart", items(1));
}

TEST_P(StoreConformance, RejectsEmptyStreamType) {
  expect_invalid_append("s", "", items(1));
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsEmptyEventList) {
  append_ok("s", items(1));
  expect_invalid_append("s", "cart", {});
  EXPECT_EQ(version_of("s"), 1);
}

TEST_P(StoreConformance, RejectsEmptyEventType) {
  expect_invalid_append("s", "cart", {item(), typed("")});
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsStreamIdLongerThanLimit) {
  auto max = store_->limits().max_name_bytes;
  EXPECT_EQ(max, 256u);
  expect_invalid_append(std::string(max + 1, 'x'), "cart", items(1));
  EXPECT_TRUE(is_ok(append(std::string(max, 'x'), items(1))));
}

TEST_P(StoreConformance, MeasuresNameLimitInBytes) {
  std::string euros;
  for (int i = 0; i < 86; ++i) // 86 characters, 258 bytes
    euros += "€";
  expect_invalid_append(euros, "cart", items(1));
}

TEST_P(StoreConformance, RejectsStreamTypeLongerThanLimit) {
  auto max = store_->limits().max_name_bytes;
  expect_invalid_append("s", std::string(max + 1, 't'), items(1));
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsEventTypeLongerThanLimit) {
  auto max = store_->limits().max_name_bytes;
  expect_invalid_append("s", "cart", {typed(std::string(max + 1, 'e'))});
  EXPECT_TRUE(is_ok(append("s", {typed(std::string(max, 'e'))})));
}

TEST_P(StoreConformance, RejectsTooManyEvents) {
  auto max = store_->limits().max_events_per_append;
  EXPECT_EQ(max, 10'000u);
  expect_invalid_append("s", "cart", items(max + 1));
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, AcceptsMaxEventsPerAppend) {
  auto max = store_->limits().max_events_per_append;
  auto r = append("s", items(max));
  ASSERT_TRUE(is_ok(r));
  EXPECT_EQ(r->version, static_cast<int64_t>(max));
  EXPECT_EQ(r->last_position, static_cast<int64_t>(max));
}

TEST_P(StoreConformance, RejectsOversizedPayload) {
  std::string blob(2 * 1024 * 1024, 'x');
  expect_invalid_append("s", "cart", {with_payload({{"blob", blob}})});
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsOversizedPayloadPlusMetadata) {
  std::string half(600 * 1024, 'x');
  auto e = with_payload({{"blob", half}});
  e.metadata = {{"blob", half}};
  expect_invalid_append("s", "cart", {e});
}

TEST_P(StoreConformance, AcceptsPayloadJustUnderLimit) {
  auto max = store_->limits().max_event_bytes;
  std::string blob(max - 1024, 'x');
  auto r = append("s", {with_payload({{"blob", blob}})});
  ASSERT_TRUE(is_ok(r));
  auto events = read("s");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload["blob"].get<std::string>().size(), blob.size());
}

TEST_P(StoreConformance, RejectsPayloadThatIsNotAnObject) {
  for (auto payload : {json::array(), json(nullptr), json(42), json("text"),
                       json(true)}) {
    SCOPED_TRACE("payload: " + payload.dump());
    expect_invalid_append("s", "cart", {with_payload(payload)});
  }
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsMetadataThatIsNotAnObject) {
  for (auto metadata : {json::array(), json(nullptr), json(42)}) {
    SCOPED_TRACE("metadata: " + metadata.dump());
    auto e = item();
    e.metadata = metadata;
    expect_invalid_append("s", "cart", {e});
  }
}

TEST_P(StoreConformance, RejectsNilEventId) {
  auto e = item();
  e.event_id = uuid{};
  expect_invalid_append("s", "cart", {item(), e});
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsInvalidUtf8InStreamId) {
  for (std::string id : {"\xff", "bad-\xc3\x28", "cut-\xe2\x82",
                         "over-\xc0\xaf", "surrogate-\xed\xa0\x80"}) {
    SCOPED_TRACE("stream id bytes: " + std::to_string(id.size()));
    expect_invalid_append(id, "cart", items(1));
  }
}

TEST_P(StoreConformance, RejectsInvalidUtf8InTypes) {
  expect_invalid_append("s", "cart-\xff", items(1));
  expect_invalid_append("s", "cart", {typed("type-\xff")});
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsInvalidUtf8InPayload) {
  expect_invalid_append("s", "cart", {with_payload({{"text", "bad-\xff"}})});
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsNulByteInStreamId) {
  expect_invalid_append(std::string{"a\0b", 3}, "cart", items(1));
  EXPECT_EQ(version_of("a"), 0);
}

TEST_P(StoreConformance, ChecksEveryByteOfLongText) {
  // The check reads plain ASCII eight bytes at a time: a bad byte anywhere
  // in a long run, or just after it, must still be found.
  for (size_t at = 0; at < 20; ++at) {
    SCOPED_TRACE("bad byte at " + std::to_string(at));
    std::string text(24, 'x');
    text[at] = '\0';
    expect_invalid_append("s", "cart", {with_payload({{"text", text}})});
    text[at] = '\xff';
    expect_invalid_append("s", "cart", {with_payload({{"text", text}})});
  }
  std::string fine = std::string(16, 'x') + "\xc3\xbc" + std::string(9, 'y');
  append_ok("s", {with_payload({{"text", fine}})});
  EXPECT_EQ(read("s").at(0).payload.at("text"), fine);
}

TEST_P(StoreConformance, RejectsNegativeExactExpectedVersion) {
  expect_invalid_append("s", "cart", items(1), exact(-1));
  EXPECT_EQ(version_of("s"), 0);
}

TEST_P(StoreConformance, RejectsDifferentStreamTypeForExistingStream) {
  append_ok("s", items(1), any(), "cart");
  expect_invalid_append("s", "order", items(1));
  EXPECT_EQ(version_of("s"), 1);
  auto events = read("s");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].stream_type, "cart");
}

TEST_P(StoreConformance, RejectsNegativeFromVersion) {
  append_ok("s", items(1));
  EXPECT_TRUE(fails_with(store_->read_stream("s", -1), ec::invalid_argument));
  EXPECT_TRUE(fails_with(
    store_->read_stream("s", -1, unlimited, direction::backward),
    ec::invalid_argument));
}

} // namespace es::persistence::conformance
