#include "engine/log/recovery.h"

#include <algorithm>
#include <cstring>

#include "engine/util/coding.h"

namespace es {
namespace {

// The end of the last nonzero byte in [begin, end), or `begin` when all are zero.
std::uint64_t NonZeroEnd(const char* data, std::uint64_t begin, std::uint64_t end) {
  while (end > begin && end % 8 != 0 && data[end - 1] == 0) --end;
  while (end >= begin + 8 && DecodeFixed<std::uint64_t>(data + end - 8) == 0) end -= 8;
  while (end > begin && data[end - 1] == 0) --end;
  return end;
}

bool ValidFrameAt(const Segment& segment, std::uint64_t offset) {
  FrameHeader header;
  return offset + kFrameMinLength <= segment.size() &&
         ParseFrame(segment.data() + offset, segment.size() - offset, segment.header().salt,
                    &header)
             .ok();
}

// Whether any frame with a valid checksum starts at an 8-aligned offset in [bad, end). One at
// `bad` itself failed only the position or epoch rules: that is corruption, not a torn write.
bool ValidFrameFrom(const Segment& segment, std::uint64_t bad, std::uint64_t end) {
  for (std::uint64_t offset = bad; offset + kFrameMinLength <= end; offset += 8) {
    if (ValidFrameAt(segment, offset)) return true;
  }
  return false;
}

std::string Where(const Segment& segment, std::uint64_t offset) {
  return segment.path() + " at offset " + std::to_string(offset);
}

}  // namespace

Result<RecoveredLog> RecoverLog(Env* env, const std::string& dir, const MetaSlot& meta,
                                const std::vector<std::int64_t>& segment_bases,
                                const FrameVisitor& visit) {
  RecoveredLog log;
  for (std::size_t i = 0; i < segment_bases.size(); ++i) {
    const bool last = i + 1 == segment_bases.size();
    Result<std::unique_ptr<Segment>> opened = Segment::Open(env, dir, segment_bases[i]);
    if (!opened.ok()) {
      // A crash while creating the last segment leaves a file without a valid header and nothing
      // else; anything more is corruption.
      if (!last || !opened.status().IsCorruption()) return opened.status();
      ES_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                          env->OpenFile(dir + "/" + Segment::FileName(segment_bases[i]), {}));
      ES_ASSIGN_OR_RETURN(std::uint64_t size, file->Size());
      std::vector<char> rest(size > kSegmentHeaderSize ? size - kSegmentHeaderSize : 0);
      if (!rest.empty())
        ES_RETURN_IF_ERROR(file->Read(kSegmentHeaderSize, rest.size(), rest.data()));
      if (NonZeroEnd(rest.data(), 0, rest.size()) != 0) return opened.status();
      file.reset();
      ES_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + Segment::FileName(segment_bases[i])));
      break;
    }
    std::unique_ptr<Segment> segment = std::move(opened).value();
    const SegmentHeader& header = segment->header();
    if (header.store_id != meta.store_id) {
      return Status::Corruption(segment->path() + ": belongs to another store");
    }
    if (header.base_position != log.next_position) {
      return Status::Corruption(segment->path() + ": expected a segment starting at position " +
                                std::to_string(log.next_position));
    }
    ES_RETURN_IF_ERROR(segment->OpenPositionIndex());

    // Walk the valid frames.
    std::uint64_t offset = kSegmentHeaderSize;
    while (offset + kFrameMinLength <= segment->size() &&
           DecodeFixed<std::uint32_t>(segment->data() + offset) != 0) {
      FrameHeader frame;
      if (!ParseFrame(segment->data() + offset, segment->size() - offset, header.salt, &frame)
               .ok() ||
          frame.first_position != log.next_position || frame.writer_epoch > meta.writer_epoch ||
          static_cast<std::uint64_t>(frame.first_position - header.base_position) +
                  frame.event_count >
              header.capacity_events) {
        break;
      }
      Status s = visit(*segment, offset, frame);
      if (!s.ok()) return Status::Corruption(Where(*segment, offset) + ": " + s.message());
      log.next_position += frame.event_count;
      log.log_bytes += frame.length;
      offset += frame.length;
    }

    // Everything after the last valid frame must be zero, or a torn tail we may cut.
    std::uint64_t dirty_end = NonZeroEnd(segment->data(), offset, segment->size());
    if (dirty_end != offset) {
      bool later_frames = ValidFrameFrom(*segment, offset, dirty_end);
      for (std::size_t j = i + 1; j < segment_bases.size() && !later_frames; ++j) {
        Result<std::unique_ptr<Segment>> later = Segment::Open(env, dir, segment_bases[j]);
        later_frames = later.ok() && ValidFrameAt(**later, kSegmentHeaderSize);
      }
      if (later_frames) {
        return Status::Corruption(Where(*segment, offset) +
                                  ": invalid frame followed by valid frames");
      }
      std::memset(segment->data() + offset, 0, dirty_end - offset);
      ES_RETURN_IF_ERROR(segment->Sync(offset, dirty_end));
      log.torn_bytes += dirty_end - offset;
      for (std::size_t j = i + 1; j < segment_bases.size(); ++j) {
        ES_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + Segment::FileName(segment_bases[j])));
        std::string index = dir + "/" + Segment::IndexFileName(segment_bases[j]);
        if (env->FileExists(index)) ES_RETURN_IF_ERROR(env->RemoveFile(index));
      }
      ES_RETURN_IF_ERROR(env->SyncDir(dir));
      log.tail_offset = offset;
      log.segments.push_back(std::move(segment));
      return log;
    }
    log.tail_offset = offset;
    log.segments.push_back(std::move(segment));
  }
  return log;
}

}  // namespace es
