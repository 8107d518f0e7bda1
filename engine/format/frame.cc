#include "engine/format/frame.h"

#include <cstring>
#include <limits>

#include "engine/util/checksum.h"
#include "engine/util/coding.h"

namespace es {
namespace {

// The checksummed prefix of a frame: header, body and padding.
std::size_t ChecksummedLength(std::size_t frame_length) { return frame_length - 16; }

}  // namespace

void EncodeFrameHeader(const FrameHeader& header, char* frame) {
  EncodeFixed<std::uint32_t>(frame, header.length);
  EncodeFixed<std::uint8_t>(frame + 4, kFrameKindCommit);
  EncodeFixed<std::uint8_t>(frame + 5, 0);
  EncodeFixed<std::uint16_t>(frame + 6, kFrameVersion);
  EncodeFixed<std::int64_t>(frame + 8, header.first_position);
  EncodeFixed<std::uint32_t>(frame + 16, header.event_count);
  EncodeFixed<std::uint32_t>(frame + 20, header.tracking_count);
  EncodeFixed<std::uint32_t>(frame + 24, header.body_length);
  EncodeFixed<std::uint32_t>(frame + 28, header.unsynced_before);
  EncodeFixed<std::uint64_t>(frame + 32, header.commit_time_us);
  EncodeFixed<std::uint64_t>(frame + 40, header.writer_epoch);
}

void SealFrame(char* frame, std::uint64_t salt) {
  auto length = DecodeFixed<std::uint32_t>(frame);
  auto body_length = DecodeFixed<std::uint32_t>(frame + 24);
  std::size_t checksummed = ChecksummedLength(length);
  std::size_t unpadded = kFrameHeaderSize + body_length;
  std::memset(frame + unpadded, 0, checksummed - unpadded);
  EncodeFixed<std::uint64_t>(frame + checksummed, Checksum64(frame, checksummed, salt));
  EncodeFixed<std::uint32_t>(frame + checksummed + 8, length);
  EncodeFixed<std::uint32_t>(frame + checksummed + 12, 0);
}

Status ParseFrame(const char* src, std::size_t available, std::uint64_t salt, FrameHeader* header) {
  if (available < kFrameMinLength) return Status::Corruption("frame: truncated header");
  FrameHeader h;
  h.length = DecodeFixed<std::uint32_t>(src);
  if (h.length < kFrameMinLength || h.length % 8 != 0 || h.length > available) {
    return Status::Corruption("frame: bad length " + std::to_string(h.length));
  }
  if (DecodeFixed<std::uint8_t>(src + 4) != kFrameKindCommit ||
      DecodeFixed<std::uint8_t>(src + 5) != 0 ||
      DecodeFixed<std::uint16_t>(src + 6) != kFrameVersion) {
    return Status::Corruption("frame: bad kind, flags or version");
  }
  h.first_position = DecodeFixed<std::int64_t>(src + 8);
  h.event_count = DecodeFixed<std::uint32_t>(src + 16);
  h.tracking_count = DecodeFixed<std::uint32_t>(src + 20);
  h.body_length = DecodeFixed<std::uint32_t>(src + 24);
  h.unsynced_before = DecodeFixed<std::uint32_t>(src + 28);
  h.commit_time_us = DecodeFixed<std::uint64_t>(src + 32);
  h.writer_epoch = DecodeFixed<std::uint64_t>(src + 40);
  if (FrameLength(h.body_length) != h.length) {
    return Status::Corruption("frame: body length disagrees with frame length");
  }
  // Positions start at 1, and the frame's last one must be representable: ParseFrameBody counts
  // them up from the first.
  if (h.first_position < 1 ||
      h.first_position > std::numeric_limits<std::int64_t>::max() - h.event_count) {
    return Status::Corruption("frame: first position out of range");
  }
  std::size_t checksummed = ChecksummedLength(h.length);
  if (DecodeFixed<std::uint64_t>(src + checksummed) != Checksum64(src, checksummed, salt)) {
    return Status::Corruption("frame: checksum mismatch");
  }
  if (DecodeFixed<std::uint32_t>(src + checksummed + 8) != h.length ||
      DecodeFixed<std::uint32_t>(src + checksummed + 12) != 0) {
    return Status::Corruption("frame: bad trailer");
  }
  for (std::size_t i = kFrameHeaderSize + h.body_length; i < checksummed; ++i) {
    if (src[i] != 0) return Status::Corruption("frame: non-zero padding");
  }
  *header = h;
  return Status::OK();
}

std::size_t TrackingEntrySize(const Tracking& tracking) {
  return 2 + tracking.application_name.size() + 8;
}

void EncodeTrackingEntry(const Tracking& tracking, char* dst) {
  EncodeFixed<std::uint16_t>(dst, static_cast<std::uint16_t>(tracking.application_name.size()));
  std::memcpy(dst + 2, tracking.application_name.data(), tracking.application_name.size());
  EncodeFixed<std::int64_t>(dst + 2 + tracking.application_name.size(), tracking.notification_id);
}

Status ParseTrackingEntry(const char* src, std::size_t available, TrackingView* view,
                          std::size_t* length) {
  if (available < 2) return Status::Corruption("tracking entry: truncated");
  auto name_length = DecodeFixed<std::uint16_t>(src);
  if (name_length == 0 || available < 2u + name_length + 8u) {
    return Status::Corruption("tracking entry: bad length");
  }
  view->application_name = std::string_view(src + 2, name_length);
  view->notification_id = DecodeFixed<std::int64_t>(src + 2 + name_length);
  *length = 2 + name_length + 8;
  return Status::OK();
}

}  // namespace es
