// Event entries (docs/format.md, "Event entry"): round trips of every combination of optional
// parts, size validation, truncation and corruption. Parsing always runs on a heap buffer of
// exactly the bytes given, so that an out-of-bounds read fails under AddressSanitizer.
#include "engine/format/event_entry.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/crypto/aes_gcm.h"
#include "engine/testing/exact_buffer.h"
#include "engine/util/coding.h"
#include "es/result.h"

namespace es {
namespace {

constexpr std::int64_t kPosition = 42;
constexpr std::uint64_t kSalt = 0x9e3779b97f4a7c15ull;

using testing::ExactBuffer;

// The entry of `event` at `position`, encoded into a buffer of exactly EventEntrySize bytes.
std::string Encode(const Event& event, std::int64_t position = kPosition,
                   std::uint64_t salt = kSalt) {
  std::size_t size = 0;
  Status s = EventEntrySize(event, &size);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  ExactBuffer buffer(std::string(size, '\xAA'));
  EncodeEventEntry(event, position, salt, buffer.data());
  REQUIRE(DecodeFixed<std::uint32_t>(buffer.data()) == size);
  return std::string(buffer.data(), size);
}

// Parses `bytes` (all of it available); the status, and on success the length and view.
struct Parsed {
  Status status;
  std::size_t length = 0;
  EventView view;
};
Parsed Parse(ExactBuffer& buffer) {
  Parsed parsed;
  parsed.status = ParseEventEntry(buffer.data(), buffer.size(), &parsed.view, &parsed.length);
  return parsed;
}

// Encodes, parses and verifies the check; returns the decoded event.
Event RoundTrip(const Event& event) {
  std::string bytes = Encode(event);
  ExactBuffer buffer(bytes);
  Parsed parsed = Parse(buffer);
  REQUIRE_MESSAGE(parsed.status.ok(), parsed.status.ToString());
  CHECK(parsed.length == bytes.size());
  CHECK(EventEntryCheckMatches(buffer.data(), parsed.length, kPosition, kSalt));
  // The view points into the buffer and agrees with the event field by field.
  const EventView& view = parsed.view;
  CHECK(view.type == event.type);
  CHECK(view.data == event.data);
  CHECK(view.has_stream == event.stream.has_value());
  if (event.stream) {
    CHECK(view.stream_id == event.stream->id);
    CHECK(view.version == event.stream->version);
  } else {
    CHECK(view.stream_id.empty());
  }
  CHECK((view.uuid != nullptr) == event.uuid.has_value());
  if (event.uuid && view.uuid != nullptr) {
    CHECK(std::memcmp(view.uuid, event.uuid->data(), 16) == 0);
  }
  CHECK(view.metadata.empty() == event.metadata.empty());
  CHECK(view.tag_count == event.tags.size());
  std::vector<std::string> tags;
  bool tags_inside = true;
  view.ForEachTag([&](std::string_view tag) {
    tags_inside = tags_inside && tag.data() >= buffer.data() &&
                  tag.data() + tag.size() <= buffer.data() + buffer.size();
    tags.emplace_back(tag);
  });
  CHECK(tags_inside);
  CHECK(tags == event.tags);
  return ToEvent(view);
}

Uuid TestUuid() {
  Uuid uuid;
  for (std::size_t i = 0; i < uuid.size(); ++i) uuid[i] = static_cast<std::uint8_t>(0xF0 + i);
  return uuid;
}

Event MinimalEvent() {
  Event event;
  event.type = "T";
  return event;
}

// An event with every optional part.
Event FullEvent() {
  Event event;
  event.type = "OrderPlaced";
  event.data = std::string("pay\0load\xff", 9);
  event.tags = {"customer:7", "order:1", "customer:7", ""};
  event.stream = StreamVersion{"order-1", -3};
  event.uuid = TestUuid();
  event.metadata = {{"", ""}, {"a", "1"}, {"key", ""}, {"z", std::string("\0v", 2)}};
  return event;
}

TEST_CASE("EventEntry: round trip of every combination of optional parts") {
  const std::vector<std::vector<std::string>> tag_sets = {
      {},
      {"a"},
      {"b", "a", "c"},               // caller's order, not sorted
      {"dup", "x", "dup", "dup"},    // duplicates survive
      {"", std::string("t\0g", 3)},  // empty and binary tags
  };
  const std::vector<Metadata> metadatas = {
      {},
      {{"", ""}},
      {{"", "value"}, {"key", ""}},
      {{"a", "1"}, {"b", std::string("\0\0", 2)}, {"c", std::string(300, 'm')}},
  };
  const std::vector<std::string> datas = {"", "x", std::string("\0\x01\0\xff\0", 5),
                                          std::string(1000, '\0')};
  for (int with_stream = 0; with_stream < 2; ++with_stream) {
    for (int with_uuid = 0; with_uuid < 2; ++with_uuid) {
      for (const Metadata& metadata : metadatas) {
        for (const auto& tags : tag_sets) {
          for (const std::string& data : datas) {
            Event event = MinimalEvent();
            event.data = data;
            event.tags = tags;
            if (with_stream) event.stream = StreamVersion{"s-1", 7};
            if (with_uuid) event.uuid = TestUuid();
            event.metadata = metadata;
            CAPTURE(with_stream);
            CAPTURE(with_uuid);
            CAPTURE(metadata.size());
            CAPTURE(tags.size());
            CAPTURE(data.size());
            CHECK(RoundTrip(event) == event);
          }
        }
      }
    }
  }
}

TEST_CASE("EventEntry: compressed data is stored in place of the data, and flagged") {
  const Event event = FullEvent();
  const std::string compressed = "zstd frame stand-in";
  std::size_t size = 0;
  REQUIRE(EventEntrySize(event, &size, &compressed).ok());
  std::size_t plain_size = 0;
  REQUIRE(EventEntrySize(event, &plain_size).ok());
  CHECK(size == plain_size - event.data.size() + compressed.size());
  ExactBuffer buffer(std::string(size, '\xAA'));
  EncodeEventEntry(event, kPosition, kSalt, buffer.data(), &compressed);
  Parsed parsed = Parse(buffer);
  REQUIRE_MESSAGE(parsed.status.ok(), parsed.status.ToString());
  CHECK(parsed.length == size);
  CHECK(parsed.view.data_compressed);
  CHECK(parsed.view.data == compressed);
  CHECK(EventEntryCheckMatches(buffer.data(), size, kPosition, kSalt));
  Event stored = ToEvent(parsed.view);
  CHECK(stored.data == compressed);  // decompressing is the reader's step
  stored.data = event.data;
  CHECK(stored == event);

  ExactBuffer plain(Encode(event));
  CHECK_FALSE(Parse(plain).view.data_compressed);
}

TEST_CASE("EventEntry: round trip of extreme values") {
  SUBCASE("stream versions") {
    for (std::int64_t version : {std::numeric_limits<std::int64_t>::min(), std::int64_t{-1},
                                 std::int64_t{0}, std::numeric_limits<std::int64_t>::max()}) {
      Event event = FullEvent();
      event.stream->version = version;
      CHECK(RoundTrip(event) == event);
    }
  }
  SUBCASE("65535-byte type, tag and stream id") {
    Event event = FullEvent();
    event.type = std::string(kMaxShortString, 'T');
    event.tags = {std::string(kMaxShortString, 'g'), "short", std::string(kMaxShortString, 'h')};
    event.stream = StreamVersion{std::string(kMaxShortString, 's'), 1};
    CHECK(RoundTrip(event) == event);
  }
  SUBCASE("65535 tags") {
    Event event = MinimalEvent();
    event.tags.assign(std::numeric_limits<std::uint16_t>::max(), "");
    event.tags.back() = "last";
    CHECK(RoundTrip(event) == event);
  }
  SUBCASE("a uuid of zeros is still present") {
    Event event = MinimalEvent();
    event.uuid = Uuid{};
    CHECK(RoundTrip(event) == event);
  }
}

TEST_CASE("EventEntry: the encoded layout follows docs/format.md") {
  Event event;
  event.type = "Ty";
  event.data = "DATA";
  event.tags = {"t1", "t22"};
  event.stream = StreamVersion{"sid", 9};
  std::string bytes = Encode(event);
  REQUIRE(bytes.size() == 20 + 8 + (2 + 2) + (2 + 3) + 2 + 3 + 4);
  CHECK(DecodeFixed<std::uint16_t>(bytes.data() + 8) == 1);   // flags: has stream
  CHECK(DecodeFixed<std::uint16_t>(bytes.data() + 10) == 2);  // tag count
  CHECK(DecodeFixed<std::uint16_t>(bytes.data() + 12) == 2);  // type length
  CHECK(DecodeFixed<std::uint16_t>(bytes.data() + 14) == 3);  // stream id length
  CHECK(DecodeFixed<std::uint32_t>(bytes.data() + 16) == 4);  // data length
  CHECK(DecodeFixed<std::int64_t>(bytes.data() + 20) == 9);   // stream version
  CHECK(bytes.substr(28) == std::string("\x02\x00t1\x03\x00t22TysidDATA", 18));
}

TEST_CASE("EventEntrySize: rejects invalid events") {
  auto size_status = [](const Event& event) {
    std::size_t size = 0;
    return EventEntrySize(event, &size);
  };
  const std::string too_long(kMaxShortString + 1, 'x');
  Event valid = FullEvent();
  REQUIRE(size_status(valid).ok());

  Event event = valid;
  event.type.clear();
  CHECK(size_status(event).IsInvalidArgument());

  event = valid;
  event.stream->id.clear();
  CHECK(size_status(event).IsInvalidArgument());

  event = valid;
  event.type = too_long;
  CHECK(size_status(event).IsInvalidArgument());

  event = valid;
  event.tags.push_back(too_long);
  CHECK(size_status(event).IsInvalidArgument());

  event = valid;
  event.stream->id = too_long;
  CHECK(size_status(event).IsInvalidArgument());

  event = valid;
  event.tags.assign(std::size_t{std::numeric_limits<std::uint16_t>::max()} + 1, "");
  CHECK(size_status(event).IsInvalidArgument());
  event.tags.pop_back();
  CHECK(size_status(event).ok());
}

TEST_CASE("EventEntrySize: matches the bytes EncodeEventEntry writes") {
  Event event = FullEvent();
  std::size_t size = 0;
  REQUIRE(EventEntrySize(event, &size).ok());
  // The encoder writes exactly `size` bytes: an ExactBuffer overflow would trip ASan.
  ExactBuffer buffer(std::string(size, '\0'));
  EncodeEventEntry(event, kPosition, kSalt, buffer.data());
  CHECK(DecodeFixed<std::uint32_t>(buffer.data()) == size);
}

// Every prefix of `bytes` must fail to parse: as given (the length word then exceeds what is
// available) and with its length word rewritten to the prefix length (so that the fields
// themselves overrun).
void CheckEveryTruncationFails(const std::string& bytes) {
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    ExactBuffer prefix(std::string_view(bytes).substr(0, n));
    Parsed parsed = Parse(prefix);
    CHECK(parsed.status.IsCorruption());
    if (n >= 4) {
      EncodeFixed<std::uint32_t>(prefix.data(), static_cast<std::uint32_t>(n));
      parsed = Parse(prefix);
      CHECK(parsed.status.IsCorruption());
    }
  }
}

TEST_CASE("ParseEventEntry: every truncation is Corruption") {
  SUBCASE("full entry") { CheckEveryTruncationFails(Encode(FullEvent())); }
  SUBCASE("minimal entry") { CheckEveryTruncationFails(Encode(MinimalEvent())); }
  SUBCASE("entry ending in empty data") {
    Event event = FullEvent();
    event.data.clear();
    CheckEveryTruncationFails(Encode(event));
  }
}

TEST_CASE("ParseEventEntry: malformed fields are Corruption") {
  const std::string good = Encode(FullEvent());
  auto parse_with = [&](std::size_t offset, std::uint16_t value) {
    std::string bytes = good;
    EncodeFixed<std::uint16_t>(bytes.data() + offset, value);
    ExactBuffer buffer(bytes);
    return Parse(buffer).status;
  };
  CHECK(parse_with(8, 0x20 | 0x7).IsCorruption());  // an unknown flag bit
  CHECK(parse_with(12, 0).IsCorruption());          // empty type
  CHECK(parse_with(8, 0x6).IsCorruption());         // stream length without the stream flag

  Event no_stream = FullEvent();
  no_stream.stream.reset();
  std::string bytes = Encode(no_stream);
  EncodeFixed<std::uint16_t>(bytes.data() + 14, 1);  // a stream id length without the flag
  ExactBuffer buffer(bytes);
  CHECK(Parse(buffer).status.IsCorruption());

  // An entry followed by more bytes parses to its own length.
  ExactBuffer longer(good + "trailing");
  Parsed parsed = Parse(longer);
  REQUIRE(parsed.status.ok());
  CHECK(parsed.length == good.size());
}

// Found by fuzz/frame_decoder: an entry whose metadata the writer could not have made decoded
// into another map than its bytes hold (pairs sorted, duplicates and the empty block dropped).
TEST_CASE(
    "ParseEventEntry: metadata that is empty or not in strictly ascending key order is "
    "Corruption") {
  Event event = MinimalEvent();
  event.metadata = {{"a", "1"}, {"b", "2"}};
  const std::string good = Encode(event);
  // The fixed part, the block length and the pair count, then pair 1: key length, key 'a'.
  const std::size_t first_key = 20 + 4 + 4 + 4;
  const std::size_t second_key = first_key + 1 + 4 + 1 + 4;
  REQUIRE(good[first_key] == 'a');
  REQUIRE(good[second_key] == 'b');
  auto parse_with_keys = [&](char first, char second) {
    std::string bytes = good;
    bytes[first_key] = first;
    bytes[second_key] = second;
    ExactBuffer buffer(bytes);
    return Parse(buffer).status;
  };
  CHECK(parse_with_keys('a', 'b').ok());
  CHECK(parse_with_keys('c', 'b').IsCorruption());  // descending
  CHECK(parse_with_keys('b', 'b').IsCorruption());  // a repeated key

  // The metadata flag with a block of no pairs: fixed part, block length 4, count 0, type "T".
  std::string empty(20 + 8 + 1, '\0');
  EncodeFixed<std::uint32_t>(empty.data(), static_cast<std::uint32_t>(empty.size()));
  EncodeFixed<std::uint16_t>(empty.data() + 8, 0x4);  // has metadata
  EncodeFixed<std::uint16_t>(empty.data() + 12, 1);   // type length
  EncodeFixed<std::uint32_t>(empty.data() + 20, 4);   // block length: the count alone
  empty[28] = 'T';
  ExactBuffer buffer(empty);
  CHECK(Parse(buffer).status.IsCorruption());
}

TEST_CASE("ParseEventEntry: any flipped byte fails the parse or the check") {
  for (const Event& event : {FullEvent(), MinimalEvent()}) {
    const std::string good = Encode(event);
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (unsigned mask : {0x01u, 0x80u, 0xFFu}) {
        CAPTURE(i);
        CAPTURE(mask);
        std::string bytes = good;
        bytes[i] = static_cast<char>(bytes[i] ^ mask);
        ExactBuffer buffer(bytes);
        Parsed parsed = Parse(buffer);
        if (parsed.status.ok()) {
          CHECK_FALSE(EventEntryCheckMatches(buffer.data(), parsed.length, kPosition, kSalt));
        } else {
          CHECK(parsed.status.IsCorruption());
        }
      }
    }
  }
}

// An encrypted entry of FullEvent() at kPosition under `key`, in a frame with `frame_header`.
std::string EncodeEncrypted(const Event& event, const AesGcm& key,
                            const std::string& frame_header) {
  std::size_t size = 0;
  REQUIRE(EventEntrySize(event, &size, nullptr, /*encrypted=*/true).ok());
  ExactBuffer buffer(std::string(size, '\xAA'));
  REQUIRE(
      EncodeEncryptedEventEntry(event, kPosition, kSalt, frame_header.data(), key, buffer.data())
          .ok());
  REQUIRE(DecodeFixed<std::uint32_t>(buffer.data()) == size);
  return std::string(buffer.data(), size);
}

TEST_CASE("EventEntry: encrypted content opens only unchanged, in its frame, at its position") {
  AesGcm::Key key_bytes;
  key_bytes.fill(7);
  const AesGcm key(key_bytes);
  std::string frame_header(kFrameHeaderSize, '\0');
  for (std::size_t i = 0; i < frame_header.size(); ++i) frame_header[i] = static_cast<char>(i);
  const Event event = FullEvent();
  const std::string bytes = EncodeEncrypted(event, key, frame_header);
  CHECK(bytes.size() == Encode(event).size() + AesGcm::kTagSize);
  CHECK(bytes.find(event.type) == std::string::npos);
  CHECK(bytes.find(event.data) == std::string::npos);

  const auto open = [&](const std::string& entry, const std::string& header,
                        std::int64_t position) -> Result<Event> {
    ExactBuffer buffer(entry);
    Parsed parsed = Parse(buffer);
    ES_RETURN_IF_ERROR(parsed.status);
    REQUIRE(parsed.view.encrypted);
    CHECK(parsed.view.type.empty());
    std::string plain;
    ES_RETURN_IF_ERROR(
        OpenEventEntry(buffer.data(), header.data(), position, key, &plain, &parsed.view));
    CHECK_FALSE(parsed.view.encrypted);
    return ToEvent(parsed.view);
  };
  Result<Event> opened = open(bytes, frame_header, kPosition);
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  CHECK(*opened == event);
  ExactBuffer checked(bytes);
  CHECK(EventEntryCheckMatches(checked.data(), bytes.size(), kPosition, kSalt));

  CHECK(open(bytes, frame_header, kPosition + 1).status().IsCorruption());
  for (std::size_t i = 0; i < frame_header.size(); ++i) {
    std::string header = frame_header;
    header[i] ^= 1;
    CHECK_MESSAGE(open(bytes, header, kPosition).status().IsCorruption(), i);
  }
  // Every byte but the check (which OpenEventEntry does not read): parse or tag fails.
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i >= 4 && i < 8) continue;
    std::string changed = bytes;
    changed[i] ^= 1;
    CHECK_MESSAGE(open(changed, frame_header, kPosition).status().IsCorruption(), i);
  }
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    ExactBuffer buffer(bytes.substr(0, length));
    Parsed parsed = Parse(buffer);
    CHECK_MESSAGE(parsed.status.IsCorruption(), length);
  }
}

TEST_CASE("EventEntryCheckMatches: bound to the position and the salt") {
  const Event event = FullEvent();
  const std::string bytes = Encode(event, kPosition, kSalt);
  ExactBuffer buffer(bytes);
  CHECK(EventEntryCheckMatches(buffer.data(), buffer.size(), kPosition, kSalt));
  for (std::int64_t other : {std::int64_t{0}, std::int64_t{1}, kPosition - 1, kPosition + 1,
                             kPosition + (std::int64_t{1} << 32), -kPosition}) {
    CAPTURE(other);
    CHECK_FALSE(EventEntryCheckMatches(buffer.data(), buffer.size(), other, kSalt));
  }
  for (std::uint64_t other_salt : {std::uint64_t{0}, kSalt ^ 1, kSalt + 1, ~kSalt}) {
    CAPTURE(other_salt);
    CHECK_FALSE(EventEntryCheckMatches(buffer.data(), buffer.size(), kPosition, other_salt));
  }
  // Encoded elsewhere, the same event differs only in its check.
  const std::string moved = Encode(event, kPosition + 1, kSalt);
  REQUIRE(moved.size() == bytes.size());
  CHECK(moved.substr(0, 4) == bytes.substr(0, 4));
  CHECK(moved.substr(8) == bytes.substr(8));
  CHECK(moved.substr(4, 4) != bytes.substr(4, 4));
  ExactBuffer moved_buffer(moved);
  CHECK(EventEntryCheckMatches(moved_buffer.data(), moved.size(), kPosition + 1, kSalt));
  CHECK_FALSE(EventEntryCheckMatches(moved_buffer.data(), moved.size(), kPosition, kSalt));
}

}  // namespace
}  // namespace es
