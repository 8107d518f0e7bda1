// Frames: the unit of atomicity in a segment, one per write (docs/format.md, "Frame").
#ifndef ES_ENGINE_FORMAT_FRAME_H_
#define ES_ENGINE_FORMAT_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/format/event_entry.h"
#include "es/event.h"
#include "es/status.h"

namespace es {

inline constexpr std::size_t kFrameMinLength = 64;
inline constexpr std::uint8_t kFrameKindCommit = 1;
inline constexpr std::uint16_t kFrameVersion = 1;

struct FrameHeader {
  std::uint32_t length = 0;
  std::int64_t first_position = 0;
  std::uint32_t event_count = 0;
  std::uint32_t tracking_count = 0;
  std::uint32_t body_length = 0;
  // How many positions before this frame were not yet durable when it was written (saturating at
  // kUnsyncedUnknown). Recovery uses it to tell a torn, never-synced tail from corruption.
  std::uint32_t unsynced_before = 0;
  std::uint64_t commit_time_us = 0;
  std::uint64_t writer_epoch = 0;
};

inline constexpr std::uint32_t kUnsyncedUnknown = 0xFFFFFFFF;

// The most positions that can have been durable when the frame with `header` was written: its
// first position - 1 - unsynced_before (a bound when unsynced_before saturated).
inline std::int64_t DurableWhenWritten(const FrameHeader& header) {
  return header.first_position - 1 - static_cast<std::int64_t>(header.unsynced_before);
}

// The frame length for a body of `body_length` bytes.
inline std::size_t FrameLength(std::size_t body_length) {
  return ((kFrameHeaderSize + body_length + 7) & ~std::size_t{7}) + 16;
}

// Writes the header (header.length must be FrameLength(header.body_length)) at `frame`. The body
// goes at frame + kFrameHeaderSize; SealFrame then finishes the frame.
void EncodeFrameHeader(const FrameHeader& header, char* frame);

// Writes the padding, checksum and trailer of the frame at `frame` whose header and body are in
// place.
void SealFrame(char* frame, std::uint64_t salt);

// Validates the frame at `src` (with `available` bytes to the end of the file): length, kind,
// version, reserved fields, checksum and trailer. Sets `header`. Corruption otherwise. Does not
// check positions or parse the body.
Status ParseFrame(const char* src, std::size_t available, std::uint64_t salt, FrameHeader* header);

std::size_t TrackingEntrySize(const Tracking& tracking);
void EncodeTrackingEntry(const Tracking& tracking, char* dst);

struct TrackingView {
  std::string_view application_name;
  std::int64_t notification_id = 0;
};

// Parses the body of a validated frame: calls on_event(const EventView&, std::size_t
// offset_in_frame, std::int64_t position) for each event and on_tracking(const TrackingView&) for
// each tracking entry. Corruption when the body does not parse into exactly the counted entries.
// Entry checks are verified (they are cheap next to the frame checksum already computed).
// Encrypted entries are opened with `key` (Corruption when one does not authenticate); without a
// key their views stay encrypted (EventView::encrypted).
template <typename OnEvent, typename OnTracking>
Status ParseFrameBody(const char* frame, const FrameHeader& header, std::uint64_t salt,
                      OnEvent&& on_event, OnTracking&& on_tracking, const AesGcm* key = nullptr);

Status ParseTrackingEntry(const char* src, std::size_t available, TrackingView* view,
                          std::size_t* length);

template <typename OnEvent, typename OnTracking>
Status ParseFrameBody(const char* frame, const FrameHeader& header, std::uint64_t salt,
                      OnEvent&& on_event, OnTracking&& on_tracking, const AesGcm* key) {
  std::string plain;  // an opened entry's content
  std::size_t offset = kFrameHeaderSize;
  const std::size_t end = kFrameHeaderSize + header.body_length;
  for (std::uint32_t i = 0; i < header.event_count; ++i) {
    EventView view;
    std::size_t length;
    ES_RETURN_IF_ERROR(ParseEventEntry(frame + offset, end - offset, &view, &length));
    std::int64_t position = header.first_position + i;
    if (!EventEntryCheckMatches(frame + offset, length, position, salt)) {
      return Status::Corruption("event entry check mismatch at position " +
                                std::to_string(position));
    }
    if (key != nullptr) {
      ES_RETURN_IF_ERROR(OpenEventEntry(frame + offset, frame, position, *key, &plain, &view));
    }
    on_event(view, offset, position);
    offset += length;
  }
  for (std::uint32_t i = 0; i < header.tracking_count; ++i) {
    TrackingView view;
    std::size_t length;
    ES_RETURN_IF_ERROR(ParseTrackingEntry(frame + offset, end - offset, &view, &length));
    on_tracking(view);
    offset += length;
  }
  if (offset != end) return Status::Corruption("frame body has bytes after its entries");
  return Status::OK();
}

}  // namespace es

#endif  // ES_ENGINE_FORMAT_FRAME_H_
