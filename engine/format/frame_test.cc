// Frames (docs/format.md, "Frame" and "Tracking entry"): encoding and parsing back, length
// alignment, and rejection of every corruption, truncation and inconsistency. Parsing runs on heap
// buffers holding exactly the bytes given, so out-of-bounds reads fail under AddressSanitizer.
#include "engine/format/frame.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/testing/exact_buffer.h"
#include "engine/util/checksum.h"
#include "engine/util/coding.h"

namespace es {
namespace {

constexpr std::uint64_t kSalt = 0x0123456789abcdefull;

using testing::ExactBuffer;

Event MakeTestEvent(std::string type, std::vector<std::string> tags, std::string data) {
  Event event;
  event.type = std::move(type);
  event.tags = std::move(tags);
  event.data = std::move(data);
  return event;
}

struct FrameSpec {
  std::int64_t first_position = 1;
  std::vector<Event> events;
  std::vector<Tracking> tracking;
  std::uint64_t commit_time_us = 1700000000000000;
  std::uint64_t writer_epoch = 3;
  std::string extra_body;  // bytes appended to the body after the entries
};

// A frame built as the writer builds one, plus where its event entries start.
struct BuiltFrame {
  std::string bytes;
  std::vector<std::size_t> event_offsets;
  FrameHeader header;
};

BuiltFrame BuildFrame(const FrameSpec& spec, std::uint64_t salt = kSalt) {
  BuiltFrame built;
  std::vector<std::size_t> event_sizes;
  std::size_t body_length = spec.extra_body.size();
  for (const Event& event : spec.events) {
    std::size_t size = 0;
    Status s = EventEntrySize(event, &size);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    event_sizes.push_back(size);
    body_length += size;
  }
  for (const Tracking& tracking : spec.tracking) body_length += TrackingEntrySize(tracking);

  FrameHeader& header = built.header;
  header.length = static_cast<std::uint32_t>(FrameLength(body_length));
  header.first_position = spec.first_position;
  header.event_count = static_cast<std::uint32_t>(spec.events.size());
  header.tracking_count = static_cast<std::uint32_t>(spec.tracking.size());
  header.body_length = static_cast<std::uint32_t>(body_length);
  header.commit_time_us = spec.commit_time_us;
  header.writer_epoch = spec.writer_epoch;

  // Garbage where the padding goes: SealFrame must zero it.
  built.bytes.assign(header.length, '\xA5');
  char* frame = built.bytes.data();
  EncodeFrameHeader(header, frame);
  std::size_t offset = kFrameHeaderSize;
  for (std::size_t i = 0; i < spec.events.size(); ++i) {
    built.event_offsets.push_back(offset);
    EncodeEventEntry(spec.events[i], spec.first_position + static_cast<std::int64_t>(i), salt,
                     frame + offset);
    offset += event_sizes[i];
  }
  for (const Tracking& tracking : spec.tracking) {
    EncodeTrackingEntry(tracking, frame + offset);
    offset += TrackingEntrySize(tracking);
  }
  std::memcpy(frame + offset, spec.extra_body.data(), spec.extra_body.size());
  SealFrame(frame, salt);
  return built;
}

// Recomputes the checksum of a frame over its current bytes (padding included) and leaves
// everything else alone, so that a test can break one rule without breaking the checksum.
void Rechecksum(std::string& frame, std::uint64_t salt = kSalt) {
  std::size_t checksummed = frame.size() - 16;
  EncodeFixed<std::uint64_t>(frame.data() + checksummed,
                             Checksum64(frame.data(), checksummed, salt));
}

Status ParseBytes(std::string_view bytes, std::uint64_t salt = kSalt,
                  FrameHeader* header = nullptr) {
  ExactBuffer buffer(bytes);
  FrameHeader ignored;
  return ParseFrame(buffer.data(), buffer.size(), salt, header != nullptr ? header : &ignored);
}

struct ParsedEvent {
  Event event;
  std::size_t offset;
  std::int64_t position;
};

struct ParsedBody {
  Status status;
  std::vector<ParsedEvent> events;
  std::vector<Tracking> tracking;
};

ParsedBody ParseBody(ExactBuffer& frame, const FrameHeader& header, std::uint64_t salt = kSalt) {
  ParsedBody body;
  body.status = ParseFrameBody(
      frame.data(), header, salt,
      [&](const EventView& view, std::size_t offset, std::int64_t position) {
        CHECK(view.type.data() >= frame.data() + offset);
        CHECK(view.data.data() + view.data.size() <= frame.data() + frame.size());
        body.events.push_back({ToEvent(view), offset, position});
      },
      [&](const TrackingView& view) {
        body.tracking.push_back({std::string(view.application_name), view.notification_id});
      });
  return body;
}

FrameSpec RichSpec() {
  FrameSpec spec;
  spec.first_position = 1000;
  spec.events.push_back(MakeTestEvent("Opened", {"account:1"}, "{}"));
  spec.events.push_back(MakeTestEvent("Deposited", {"account:1", "x", "account:1"}, "100"));
  spec.events.push_back(MakeTestEvent("Z", {}, std::string("\0\0\0", 3)));
  spec.events[1].stream = StreamVersion{"account-1", 2};
  spec.events[2].uuid = Uuid{1, 2, 3};
  spec.events[2].metadata = {{"k", "v"}};
  spec.tracking.push_back({"projector", 77});
  spec.tracking.push_back({"p", -1});
  return spec;
}

// The specs most tests run over: events and tracking, events only, tracking only, nothing.
std::vector<FrameSpec> Specs() {
  std::vector<FrameSpec> specs;
  specs.push_back(RichSpec());
  FrameSpec events_only = RichSpec();
  events_only.tracking.clear();
  specs.push_back(events_only);
  FrameSpec tracking_only = RichSpec();
  tracking_only.events.clear();
  specs.push_back(tracking_only);
  FrameSpec empty;
  empty.first_position = 5;
  specs.push_back(empty);
  return specs;
}

TEST_CASE("Frame: encode and parse back") {
  for (const FrameSpec& spec : Specs()) {
    CAPTURE(spec.events.size());
    CAPTURE(spec.tracking.size());
    BuiltFrame built = BuildFrame(spec);
    ExactBuffer frame(built.bytes);
    FrameHeader header;
    Status s = ParseFrame(frame.data(), frame.size(), kSalt, &header);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    CHECK(header.length == built.bytes.size());
    CHECK(header.first_position == spec.first_position);
    CHECK(header.event_count == spec.events.size());
    CHECK(header.tracking_count == spec.tracking.size());
    CHECK(header.body_length == built.header.body_length);
    CHECK(header.commit_time_us == spec.commit_time_us);
    CHECK(header.writer_epoch == spec.writer_epoch);

    ParsedBody body = ParseBody(frame, header);
    REQUIRE_MESSAGE(body.status.ok(), body.status.ToString());
    REQUIRE(body.events.size() == spec.events.size());
    for (std::size_t i = 0; i < spec.events.size(); ++i) {
      CAPTURE(i);
      CHECK(body.events[i].event == spec.events[i]);
      CHECK(body.events[i].offset == built.event_offsets[i]);
      CHECK(body.events[i].position == spec.first_position + static_cast<std::int64_t>(i));
    }
    CHECK(body.tracking == spec.tracking);
  }
}

TEST_CASE("Frame: the encoded layout follows docs/format.md") {
  FrameSpec spec = RichSpec();
  BuiltFrame built = BuildFrame(spec);
  const char* f = built.bytes.data();
  const std::size_t b = built.header.body_length;
  const std::size_t padded = (kFrameHeaderSize + b + 7) / 8 * 8;
  REQUIRE(built.bytes.size() == padded + 16);
  CHECK(DecodeFixed<std::uint32_t>(f) == built.bytes.size());
  CHECK(DecodeFixed<std::uint8_t>(f + 4) == kFrameKindCommit);
  CHECK(DecodeFixed<std::uint8_t>(f + 5) == 0);
  CHECK(DecodeFixed<std::uint16_t>(f + 6) == kFrameVersion);
  CHECK(DecodeFixed<std::int64_t>(f + 8) == spec.first_position);
  CHECK(DecodeFixed<std::uint32_t>(f + 16) == spec.events.size());
  CHECK(DecodeFixed<std::uint32_t>(f + 20) == spec.tracking.size());
  CHECK(DecodeFixed<std::uint32_t>(f + 24) == b);
  CHECK(DecodeFixed<std::uint32_t>(f + 28) == 0);
  CHECK(DecodeFixed<std::uint64_t>(f + 32) == spec.commit_time_us);
  CHECK(DecodeFixed<std::uint64_t>(f + 40) == spec.writer_epoch);
  REQUIRE(padded > kFrameHeaderSize + b);  // the rich frame has padding to check
  for (std::size_t i = kFrameHeaderSize + b; i < padded; ++i) CHECK(f[i] == 0);
  CHECK(DecodeFixed<std::uint64_t>(f + padded) == Checksum64(f, padded, kSalt));
  CHECK(DecodeFixed<std::uint32_t>(f + padded + 8) == built.bytes.size());
  CHECK(DecodeFixed<std::uint32_t>(f + padded + 12) == 0);
  // The last tracking entry ends the body: u16 name length, name, i64 id.
  const char* last = f + kFrameHeaderSize + b - (2 + 1 + 8);
  CHECK(DecodeFixed<std::uint16_t>(last) == 1);
  CHECK(last[2] == 'p');
  CHECK(DecodeFixed<std::int64_t>(last + 3) == -1);
}

TEST_CASE("FrameLength: aligned, minimal and at least 64 for body sizes 0..64") {
  for (std::size_t body = 0; body <= 64; ++body) {
    CAPTURE(body);
    std::size_t length = FrameLength(body);
    CHECK(length % 8 == 0);
    CHECK(length >= kFrameMinLength);
    REQUIRE(length >= kFrameHeaderSize + body + 16);
    std::size_t padding = length - kFrameHeaderSize - body - 16;
    CHECK(padding < 8);
    if (body > 0) CHECK(FrameLength(body - 1) <= length);
  }
  CHECK(FrameLength(0) == 64);
  CHECK(FrameLength(1) == 72);
  CHECK(FrameLength(8) == 72);
  CHECK(FrameLength(9) == 80);
  CHECK(FrameLength(64) == 128);
}

TEST_CASE("ParseFrame: every single-byte flip fails") {
  for (const FrameSpec& spec : Specs()) {
    const std::string good = BuildFrame(spec).bytes;
    REQUIRE(ParseBytes(good).ok());
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (unsigned mask : {0x01u, 0x10u, 0x80u, 0xFFu}) {
        CAPTURE(spec.events.size());
        CAPTURE(i);
        CAPTURE(mask);
        std::string bytes = good;
        bytes[i] = static_cast<char>(bytes[i] ^ mask);
        CHECK(ParseBytes(bytes).IsCorruption());
        // Also in place in a segment, followed by zeros: a larger length must fail as well.
        CHECK(ParseBytes(bytes + std::string(4096, '\0')).IsCorruption());
      }
    }
  }
}

TEST_CASE("ParseFrame: a frame in a longer file parses to its own length") {
  const std::string good = BuildFrame(RichSpec()).bytes;
  FrameHeader header;
  REQUIRE(ParseBytes(good + std::string(100, '\0'), kSalt, &header).ok());
  CHECK(header.length == good.size());
}

TEST_CASE("ParseFrame: a wrong salt fails") {
  for (const FrameSpec& spec : Specs()) {
    const std::string good = BuildFrame(spec).bytes;
    CHECK(ParseBytes(good, kSalt).ok());
    CHECK(ParseBytes(good, kSalt ^ 1).IsCorruption());
    CHECK(ParseBytes(good, 0).IsCorruption());
  }
}

TEST_CASE("ParseFrame: every truncation fails") {
  for (const FrameSpec& spec : Specs()) {
    const std::string good = BuildFrame(spec).bytes;
    for (std::size_t available = 0; available < good.size(); ++available) {
      CAPTURE(spec.events.size());
      CAPTURE(available);
      CHECK(ParseBytes(std::string_view(good).substr(0, available)).IsCorruption());
    }
  }
}

TEST_CASE("ParseFrame: each structural rule is checked on its own") {
  // Every mutation here keeps the checksum right, so only the rule under test can fail.
  const std::string good = BuildFrame(RichSpec()).bytes;
  const std::size_t checksummed = good.size() - 16;
  const std::size_t body_end = kFrameHeaderSize + DecodeFixed<std::uint32_t>(good.data() + 24);
  REQUIRE(body_end < checksummed);  // has padding

  auto mutated = [&](auto&& mutate) {
    std::string bytes = good;
    mutate(bytes.data());
    Rechecksum(bytes);
    return bytes;
  };
  // The helper itself leaves a good frame good.
  CHECK(ParseBytes(mutated([](char*) {})).ok());

  SUBCASE("non-zero padding") {
    for (std::size_t i = body_end; i < checksummed; ++i) {
      CAPTURE(i);
      CHECK(ParseBytes(mutated([&](char* f) { f[i] = 1; })).IsCorruption());
    }
  }
  SUBCASE("trailer length mismatch") {
    std::string bytes = good;
    EncodeFixed<std::uint32_t>(bytes.data() + checksummed + 8,
                               static_cast<std::uint32_t>(good.size() + 8));
    CHECK(ParseBytes(bytes).IsCorruption());
    EncodeFixed<std::uint32_t>(bytes.data() + checksummed + 8, 0);
    CHECK(ParseBytes(bytes).IsCorruption());
  }
  SUBCASE("trailer reserved word non-zero") {
    std::string bytes = good;
    EncodeFixed<std::uint32_t>(bytes.data() + checksummed + 12, 1);
    CHECK(ParseBytes(bytes).IsCorruption());
  }
  SUBCASE("unsynced_before round-trips and bounds the durable head when written") {
    FrameHeader parsed;
    std::string bytes = mutated([](char* f) { EncodeFixed<std::uint32_t>(f + 28, 7); });
    REQUIRE(ParseFrame(bytes.data(), bytes.size(), kSalt, &parsed).ok());
    CHECK(parsed.unsynced_before == 7);
    CHECK(DurableWhenWritten(parsed) == parsed.first_position - 8);
    parsed.unsynced_before = kUnsyncedUnknown;
    CHECK(DurableWhenWritten(parsed) == parsed.first_position - 1 - 0xFFFFFFFFll);
  }
  SUBCASE("kind, flags and version") {
    CHECK(ParseBytes(mutated([](char* f) { f[4] = 2; })).IsCorruption());
    CHECK(ParseBytes(mutated([](char* f) { f[4] = 0; })).IsCorruption());
    CHECK(ParseBytes(mutated([](char* f) { f[5] = 1; })).IsCorruption());
    CHECK(
        ParseBytes(mutated([](char* f) { EncodeFixed<std::uint16_t>(f + 6, 2); })).IsCorruption());
  }
  SUBCASE("body length disagrees with frame length") {
    CHECK(ParseBytes(mutated([&](char* f) {
            EncodeFixed<std::uint32_t>(f + 24, DecodeFixed<std::uint32_t>(f + 24) + 8);
          })).IsCorruption());
    CHECK(ParseBytes(mutated([&](char* f) {
            EncodeFixed<std::uint32_t>(f + 24, DecodeFixed<std::uint32_t>(f + 24) - 8);
          })).IsCorruption());
  }
  SUBCASE("first position out of range (found by the frame_decoder fuzzer)") {
    const auto events = DecodeFixed<std::uint32_t>(good.data() + 16);
    REQUIRE(events > 0);
    const std::int64_t max = std::numeric_limits<std::int64_t>::max();
    for (std::int64_t first : {std::int64_t{0}, std::int64_t{-1},
                               std::numeric_limits<std::int64_t>::min(), max, max - events + 1}) {
      CAPTURE(first);
      CHECK(ParseBytes(mutated([&](char* f) {
              EncodeFixed<std::int64_t>(f + 8, first);
            })).IsCorruption());
    }
    // The largest first position whose events all fit.
    CHECK(
        ParseBytes(mutated([&](char* f) { EncodeFixed<std::int64_t>(f + 8, max - events); })).ok());
  }
  SUBCASE("bad frame length word") {
    for (std::uint32_t length :
         {0u, 8u, 56u, 63u, static_cast<std::uint32_t>(good.size() - 1),
          static_cast<std::uint32_t>(good.size() + 4), std::numeric_limits<std::uint32_t>::max()}) {
      CAPTURE(length);
      std::string bytes = good;
      EncodeFixed<std::uint32_t>(bytes.data(), length);
      CHECK(ParseBytes(bytes + std::string(64, '\0')).IsCorruption());
    }
  }
}

TEST_CASE("ParseFrameBody: inconsistent bodies fail") {
  SUBCASE("extra bytes after the entries") {
    for (std::string extra : {std::string(1, '\0'), std::string("junk"), std::string(8, '\0')}) {
      FrameSpec spec = RichSpec();
      spec.extra_body = extra;
      BuiltFrame built = BuildFrame(spec);
      ExactBuffer frame(built.bytes);
      FrameHeader header;
      REQUIRE(ParseFrame(frame.data(), frame.size(), kSalt, &header).ok());
      CHECK(ParseBody(frame, header).status.IsCorruption());
    }
  }

  const BuiltFrame built = BuildFrame(RichSpec());
  ExactBuffer frame(built.bytes);
  FrameHeader header;
  REQUIRE(ParseFrame(frame.data(), frame.size(), kSalt, &header).ok());
  REQUIRE(ParseBody(frame, header).status.ok());

  SUBCASE("too few entries for the counts") {
    FrameHeader more_events = header;
    ++more_events.event_count;
    CHECK(ParseBody(frame, more_events).status.IsCorruption());
    FrameHeader more_tracking = header;
    ++more_tracking.tracking_count;
    CHECK(ParseBody(frame, more_tracking).status.IsCorruption());
  }
  SUBCASE("fewer counted entries than the body holds") {
    FrameHeader fewer_tracking = header;
    --fewer_tracking.tracking_count;
    CHECK(ParseBody(frame, fewer_tracking).status.IsCorruption());
    FrameHeader no_tracking = header;
    no_tracking.tracking_count = 0;
    CHECK(ParseBody(frame, no_tracking).status.IsCorruption());
  }
  SUBCASE("entries checked against their positions and the salt") {
    FrameHeader moved = header;
    ++moved.first_position;
    CHECK(ParseBody(frame, moved).status.IsCorruption());
    CHECK(ParseBody(frame, header, kSalt ^ 1).status.IsCorruption());
  }
  SUBCASE("a body length shorter than the entries") {
    FrameHeader shorter = header;
    shorter.body_length -= 1;
    CHECK(ParseBody(frame, shorter).status.IsCorruption());
  }
}

TEST_CASE("ParseTrackingEntry: round trip and truncation") {
  for (const Tracking& tracking :
       {Tracking{"a", 0}, Tracking{"projector", std::numeric_limits<std::int64_t>::min()},
        Tracking{std::string("n\0x", 3), std::numeric_limits<std::int64_t>::max()},
        Tracking{std::string(kMaxShortString, 'n'), 5}}) {
    CAPTURE(tracking.application_name.size());
    const std::size_t size = TrackingEntrySize(tracking);
    REQUIRE(size == 2 + tracking.application_name.size() + 8);
    std::string bytes(size, '\0');
    EncodeTrackingEntry(tracking, bytes.data());

    ExactBuffer buffer(bytes);
    TrackingView view;
    std::size_t length = 0;
    REQUIRE(ParseTrackingEntry(buffer.data(), buffer.size(), &view, &length).ok());
    CHECK(length == size);
    CHECK(view.application_name == tracking.application_name);
    CHECK(view.notification_id == tracking.notification_id);

    for (std::size_t available = 0; available < size; ++available) {
      CAPTURE(available);
      ExactBuffer prefix(std::string_view(bytes).substr(0, available));
      CHECK(ParseTrackingEntry(prefix.data(), prefix.size(), &view, &length).IsCorruption());
    }
  }
  // An empty application name is not a tracking entry.
  std::string empty_name(10, '\0');
  ExactBuffer buffer(empty_name);
  TrackingView view;
  std::size_t length = 0;
  CHECK(ParseTrackingEntry(buffer.data(), buffer.size(), &view, &length).IsCorruption());
}

}  // namespace
}  // namespace es
