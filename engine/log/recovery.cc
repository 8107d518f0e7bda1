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

bool ValidFrameAt(const Segment& segment, std::uint64_t offset, FrameHeader* header) {
  return offset + kFrameMinLength <= segment.size() &&
         ParseFrame(segment.data() + offset, segment.size() - offset, segment.header().salt, header)
             .ok();
}

// Whether [from, end) of `segment` holds a valid frame written when position `expected` was
// already durable.
bool FrameWrittenWhenDurable(const Segment& segment, std::uint64_t from, std::uint64_t end,
                             std::int64_t expected) {
  for (std::uint64_t offset = from; offset + kFrameMinLength <= end; offset += 8) {
    FrameHeader header;
    if (ValidFrameAt(segment, offset, &header) && DurableWhenWritten(header) >= expected) {
      return true;
    }
  }
  return false;
}

// Whether [bad, end) holds a frame showing that the log was durable past `bad`, where the frame
// expected to hold position `expected` does not verify: a frame with a valid checksum at `bad`
// itself (it failed only the position or epoch rules), or a later one written when `expected`
// was already durable. Later frames written before that were never acknowledged as durable (the
// sync that would have covered them covers `bad` too), so bytes a crash left out of order there
// are a torn tail, not corruption.
bool DurableFrameFrom(const Segment& segment, std::uint64_t bad, std::uint64_t end,
                      std::int64_t expected) {
  FrameHeader header;
  return ValidFrameAt(segment, bad, &header) ||
         FrameWrittenWhenDurable(segment, bad, end, expected);
}

std::string Where(const Segment& segment, std::uint64_t offset) {
  return segment.path() + " at offset " + std::to_string(offset);
}

// Whether any segment from index `first` on holds a frame written when position `expected` was
// already durable. A roll does not sync the segment before it, so a crash can keep frames of the
// new segment and lose earlier ones; those frames were never acknowledged as durable either.
bool SegmentsHoldDurableFrames(Env* env, const std::string& dir,
                               const std::vector<std::int64_t>& bases, std::size_t first,
                               std::int64_t expected) {
  for (std::size_t j = first; j < bases.size(); ++j) {
    Result<std::unique_ptr<Segment>> segment = Segment::Open(env, dir, bases[j], false);
    if (!segment.ok()) continue;
    const Segment& s = **segment;
    if (FrameWrittenWhenDurable(s, kSegmentHeaderSize,
                                NonZeroEnd(s.data(), kSegmentHeaderSize, s.size()), expected)) {
      return true;
    }
  }
  return false;
}

// Removes the segments from index `first` on, durably. Their position indexes, derived data, are
// left to Open, which removes every index whose segment is gone.
Status RemoveSegments(Env* env, const std::string& dir, const std::vector<std::int64_t>& bases,
                      std::size_t first) {
  for (std::size_t j = first; j < bases.size(); ++j) {
    ES_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + Segment::FileName(bases[j])));
  }
  return env->SyncDir(dir);
}

// RecoverLog without the final check that the log reaches the durable position.
Result<RecoveredLog> WalkLog(Env* env, const std::string& dir, const MetaSlot& meta,
                             const std::vector<std::int64_t>& segment_bases, ReplayStart start,
                             const FrameVisitor& visit, bool read_only) {
  RecoveredLog log;
  log.next_position = start.next_position;
  log.log_bytes = start.log_bytes;
  std::unique_ptr<Segment> resumed;
  if (!start.segments.empty()) {
    resumed = std::move(start.segments.back());
    start.segments.pop_back();
    log.segments = std::move(start.segments);
  }
  for (std::size_t i = log.segments.size(); i < segment_bases.size(); ++i) {
    const bool last = i + 1 == segment_bases.size();
    std::unique_ptr<Segment> segment;
    std::uint64_t offset = kSegmentHeaderSize;
    if (resumed != nullptr) {
      segment = std::move(resumed);
      offset = start.offset;
    } else {
      Result<std::unique_ptr<Segment>> opened =
          Segment::Open(env, dir, segment_bases[i], /*writable=*/!read_only);
      if (!opened.ok()) {
        // A crash while creating the last segment leaves a file without a valid header and
        // nothing else; anything more is corruption.
        if (!last || !opened.status().IsCorruption() ||
            log.next_position <= meta.durable_position) {
          return opened.status();
        }
        ES_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                            env->OpenFile(dir + "/" + Segment::FileName(segment_bases[i]), {}));
        ES_ASSIGN_OR_RETURN(std::uint64_t size, file->Size());
        std::vector<char> rest(size > kSegmentHeaderSize ? size - kSegmentHeaderSize : 0);
        if (!rest.empty())
          ES_RETURN_IF_ERROR(file->Read(kSegmentHeaderSize, rest.size(), rest.data()));
        if (NonZeroEnd(rest.data(), 0, rest.size()) != 0) return opened.status();
        file.reset();
        if (!read_only) {
          ES_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + Segment::FileName(segment_bases[i])));
        }
        break;
      }
      segment = std::move(opened).value();
      if (segment->header().store_id != meta.store_id) {
        return Status::Corruption(segment->path() + ": belongs to another store");
      }
      if (segment->header().key_id != meta.key_id) {
        return Status::Corruption(segment->path() + ": written under key id " +
                                  std::to_string(segment->header().key_id) + ", the store's is " +
                                  std::to_string(meta.key_id));
      }
      if (segment->header().base_position != log.next_position) {
        // Frames written before a roll and lost in a crash (never synced, so never acknowledged
        // as durable) leave the segments after the log's end starting at the wrong position.
        // Unless they hold a frame written after the lost ones were durable, they are removed
        // like a torn tail.
        if (i == 0 || log.next_position <= meta.durable_position ||
            SegmentsHoldDurableFrames(env, dir, segment_bases, i, log.next_position)) {
          return Status::Corruption(segment->path() + ": expected a segment starting at position " +
                                    std::to_string(log.next_position));
        }
        segment.reset();
        if (!read_only) ES_RETURN_IF_ERROR(RemoveSegments(env, dir, segment_bases, i));
        break;
      }
      if (read_only) {
        segment->UseMemoryPositionIndex();
      } else {
        ES_RETURN_IF_ERROR(segment->OpenPositionIndex());
      }
    }
    const SegmentHeader& header = segment->header();

    // Walk the valid frames.
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
      if (log.next_position <= meta.durable_position ||
          DurableFrameFrom(*segment, offset, dirty_end, log.next_position) ||
          SegmentsHoldDurableFrames(env, dir, segment_bases, i + 1, log.next_position)) {
        return Status::Corruption(Where(*segment, offset) +
                                  ": invalid frame followed by valid frames");
      }
      log.torn_bytes += dirty_end - offset;
      if (!read_only) {
        std::memset(segment->data() + offset, 0, dirty_end - offset);
        ES_RETURN_IF_ERROR(segment->Sync(offset, dirty_end));
        ES_RETURN_IF_ERROR(RemoveSegments(env, dir, segment_bases, i + 1));
      }
      log.tail_offset = offset;
      log.segments.push_back(std::move(segment));
      return log;
    }
    log.tail_offset = offset;
    log.segments.push_back(std::move(segment));
  }
  return log;
}

}  // namespace

Result<RecoveredLog> RecoverLog(Env* env, const std::string& dir, const MetaSlot& meta,
                                const std::vector<std::int64_t>& segment_bases, ReplayStart start,
                                const FrameVisitor& visit, bool read_only) {
  ES_ASSIGN_OR_RETURN(RecoveredLog log,
                      WalkLog(env, dir, meta, segment_bases, std::move(start), visit, read_only));
  if (log.next_position <= meta.durable_position) {
    return Status::Corruption(dir + ": the log ends before position " +
                              std::to_string(meta.durable_position) +
                              ", which store.meta records as durable");
  }
  return log;
}

}  // namespace es
