// Fuzz target: arbitrary bytes as an event entry and as a frame (docs/format.md, "Frame", "Event
// entry", "Tracking entry"). Parsing never crashes, reads past the bytes given or hangs; it either
// fails with Corruption or gives a decoded entry (frame) that encodes back to exactly the bytes
// it was decoded from, so that nothing a reader accepts is lost or changed by esdump export.
//
// Input: one mode byte, then the bytes. When the mode byte is odd the target first seals the
// frame the bytes hold as a writer would (its event entry checks, padding, checksum and trailer,
// whenever its length fields are consistent), so that the fuzzer gets past the checksum into
// the body; otherwise the bytes are parsed as they are. Encrypted entries are opened with one
// fixed key (the fuzzer meets authentic ones only in seeds made with it, fuzz/make_corpus.cc):
// one that does not authenticate must be Corruption, and one that does must encrypt back, with
// its nonce and associated data, to exactly its bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "engine/crypto/aes_gcm.h"
#include "engine/format/event_entry.h"
#include "engine/format/frame.h"
#include "engine/util/checksum.h"
#include "engine/util/coding.h"
#include "fuzz/fuzz_key.h"

namespace es {
namespace {

constexpr std::uint64_t kSalt = 0x5eed5a175eed5a17ull;
using fuzz::FuzzKey;
using fuzz::LoneFrameHeader;
constexpr std::int64_t kEntryPosition = fuzz::kLoneEntryPosition;

bool StoredEncrypted(const char* entry) {
  return (DecodeFixed<std::uint16_t>(entry + 8) & 16) != 0;
}

// Encodes `event` as the entry a writer makes (encrypted like the parsed entry was); false when
// it cannot be encoded or its size is not `expected_size`.
bool Reencode(const Event& event, const std::string* stored, bool encrypted,
              const char* frame_header, std::int64_t position, std::size_t expected_size,
              char* dst) {
  std::size_t size = 0;
  if (!EventEntrySize(event, &size, stored, encrypted).ok() || size != expected_size) return false;
  if (!encrypted) {
    EncodeEventEntry(event, position, kSalt, dst, stored);
    return true;
  }
  return EncodeEncryptedEventEntry(event, position, kSalt, frame_header, FuzzKey(), dst, stored)
      .ok();
}

// A failure must be a Corruption status: anything else (an OK without a result, another code)
// is a wrong answer.
void RequireCorruption(const Status& status) {
  if (!status.IsCorruption()) std::abort();
}

// Parses `bytes` as one event entry; a parsed entry must re-encode to the same bytes.
void CheckEventEntry(const std::vector<char>& bytes) {
  EventView view;
  std::size_t length = 0;
  Status parsed = ParseEventEntry(bytes.data(), bytes.size(), &view, &length);
  if (!parsed.ok()) return RequireCorruption(parsed);
  if (length > bytes.size()) std::abort();
  const bool encrypted = view.encrypted;
  if (encrypted != StoredEncrypted(bytes.data())) std::abort();
  std::string plain;
  Status opened =
      OpenEventEntry(bytes.data(), LoneFrameHeader(), kEntryPosition, FuzzKey(), &plain, &view);
  if (!opened.ok()) return RequireCorruption(opened);
  const Event event = ToEvent(view);
  // Compressed data is stored as it is: the entry holds it in the data field, flagged.
  const std::string* stored = view.data_compressed ? &event.data : nullptr;
  std::vector<char> encoded(length);
  if (!Reencode(event, stored, encrypted, LoneFrameHeader(), kEntryPosition, length,
                encoded.data())) {
    std::abort();
  }
  const std::size_t size = length;
  // Bytes [4, 8) hold the entry check, which binds the entry to a position: only the rest must
  // be the input's.
  if (std::memcmp(encoded.data(), bytes.data(), 4) != 0 ||
      std::memcmp(encoded.data() + 8, bytes.data() + 8, size - 8) != 0) {
    std::abort();
  }
  if (!EventEntryCheckMatches(encoded.data(), size, kEntryPosition, kSalt)) std::abort();
}

// What a writer would have sealed: each event entry's check for its position (as far as the
// entries parse), then padding, checksum and trailer. Leaves `frame` alone when its length fields
// disagree, as SealFrame needs them to agree.
void SealLikeAWriter(std::vector<char>& frame) {
  if (frame.size() < kFrameMinLength) return;
  const auto length = DecodeFixed<std::uint32_t>(frame.data());
  const auto body_length = DecodeFixed<std::uint32_t>(frame.data() + 24);
  if (length > frame.size() || FrameLength(body_length) != length) return;
  const auto first_position = DecodeFixed<std::int64_t>(frame.data() + 8);
  const auto event_count = DecodeFixed<std::uint32_t>(frame.data() + 16);
  std::size_t offset = kFrameHeaderSize;
  const std::size_t end = kFrameHeaderSize + body_length;
  for (std::uint32_t i = 0; i < event_count; ++i) {
    EventView view;
    std::size_t entry_length;
    char* entry = frame.data() + offset;
    if (!ParseEventEntry(entry, end - offset, &view, &entry_length).ok()) break;
    // Unsigned: the header is not validated yet, and first_position + i may overflow int64.
    const std::uint64_t seed = kSalt ^ (static_cast<std::uint64_t>(first_position) + i);
    EncodeFixed<std::uint32_t>(
        entry + 4, static_cast<std::uint32_t>(Checksum64(entry + 8, entry_length - 8, seed)));
    offset += entry_length;
  }
  SealFrame(frame.data(), kSalt);
}

// Parses `bytes` as a frame and its body; a parsed frame must re-encode to the same bytes.
void CheckFrame(const std::vector<char>& bytes) {
  FrameHeader header;
  Status parsed = ParseFrame(bytes.data(), bytes.size(), kSalt, &header);
  if (!parsed.ok()) return RequireCorruption(parsed);
  if (header.length > bytes.size() || FrameLength(header.body_length) != header.length) {
    std::abort();
  }
  struct ParsedEvent {
    Event event;
    std::size_t offset;
    std::int64_t position;
    bool compressed;  // event.data is the stored zstd frame
    bool encrypted;
    std::size_t length;
  };
  std::vector<ParsedEvent> events;
  std::vector<Tracking> trackings;
  Status body = ParseFrameBody(
      bytes.data(), header, kSalt,
      [&](const EventView& view, std::size_t offset, std::int64_t position) {
        const char* entry = bytes.data() + offset;
        events.push_back({ToEvent(view), offset, position, view.data_compressed,
                          StoredEncrypted(entry), DecodeFixed<std::uint32_t>(entry)});
      },
      [&](const TrackingView& view) {
        trackings.push_back({std::string(view.application_name), view.notification_id});
      },
      &FuzzKey());
  if (!body.ok()) return RequireCorruption(body);
  if (events.size() != header.event_count || trackings.size() != header.tracking_count) {
    std::abort();
  }

  std::vector<char> encoded(header.length);
  EncodeFrameHeader(header, encoded.data());
  std::size_t offset = kFrameHeaderSize;
  for (const ParsedEvent& parsed_event : events) {
    const std::string* stored = parsed_event.compressed ? &parsed_event.event.data : nullptr;
    const std::size_t size = parsed_event.length;
    if (parsed_event.offset != offset || offset + size > kFrameHeaderSize + header.body_length ||
        !Reencode(parsed_event.event, stored, parsed_event.encrypted, encoded.data(),
                  parsed_event.position, size, encoded.data() + offset)) {
      std::abort();
    }
    offset += size;
  }
  for (const Tracking& tracking : trackings) {
    const std::size_t size = TrackingEntrySize(tracking);
    if (offset + size > kFrameHeaderSize + header.body_length) std::abort();
    EncodeTrackingEntry(tracking, encoded.data() + offset);
    offset += size;
  }
  if (offset != kFrameHeaderSize + header.body_length) std::abort();
  SealFrame(encoded.data(), kSalt);
  if (std::memcmp(encoded.data(), bytes.data(), header.length) != 0) std::abort();
}

}  // namespace
}  // namespace es

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool seal = (data[0] & 1) != 0;
  // Exactly the input's bytes on the heap, so that AddressSanitizer sees any read past them.
  std::vector<char> bytes(reinterpret_cast<const char*>(data) + 1,
                          reinterpret_cast<const char*>(data) + size);
  es::CheckEventEntry(bytes);
  if (seal) es::SealLikeAWriter(bytes);
  es::CheckFrame(bytes);
  return 0;
}
