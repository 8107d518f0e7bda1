#include "engine/log/recovery.h"

#include <algorithm>
#include <cstring>
#include <optional>

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

// Whether the frame at `offset` of `segment` is one the log may hold there, whatever its position:
// valid with the segment's salt, of a writer epoch store.meta knows, its positions within the
// segment's. Corruption saying why not otherwise.
Status CheckFrameAt(const Segment& segment, std::uint64_t offset, const MetaSlot& meta,
                    FrameHeader* header) {
  const SegmentHeader& s = segment.header();
  FrameHeader frame;
  ES_RETURN_IF_ERROR(ParseFrame(segment.data() + offset, segment.size() - offset, s.salt, &frame));
  if (frame.writer_epoch > meta.writer_epoch) {
    return Status::Corruption("frame: writer epoch " + std::to_string(frame.writer_epoch) +
                              " is after store.meta's " + std::to_string(meta.writer_epoch));
  }
  if (frame.first_position < s.base_position ||
      static_cast<std::uint64_t>(frame.first_position - s.base_position) + frame.event_count >
          s.capacity_events) {
    return Status::Corruption("frame: positions from " + std::to_string(frame.first_position) +
                              " are not the segment's");
  }
  *header = frame;
  return Status::OK();
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

// Corruption when `log` ends before the position store.meta records as durable (durable frames
// are missing: a segment file removed or zeroed).
Status CheckReachesDurable(const std::string& dir, const RecoveredLog& log, const MetaSlot& meta) {
  if (log.next_position > meta.durable_position) return Status::OK();
  return Status::Corruption(dir + ": the log ends before position " +
                            std::to_string(meta.durable_position) +
                            ", which store.meta records as durable");
}

// RecoverLog without the final check that the log reaches the durable position. With `damage`
// (read-only walks only: SalvageLog) it goes on past damage instead of failing, appending a
// problem for each, and the final check's too.
Result<RecoveredLog> WalkLog(Env* env, const std::string& dir, const MetaSlot& meta,
                             const std::vector<std::int64_t>& segment_bases, ReplayStart start,
                             const FrameVisitor& visit, bool read_only,
                             std::vector<VerifyProblem>* damage) {
  RecoveredLog log;
  log.next_position = start.next_position;
  log.log_bytes = start.log_bytes;
  std::unique_ptr<Segment> resumed;
  if (!start.segments.empty()) {
    resumed = std::move(start.segments.back());
    start.segments.pop_back();
    log.segments = std::move(start.segments);
  }

  // Salvage: the problem of the last damage and the first position it may have lost, until the
  // walk goes on at a frame or segment again; the positions lost in between are then added to it.
  std::size_t lost_problem = 0;
  std::optional<std::int64_t> lost_from;
  const auto lose = [&](std::string file, std::optional<std::uint64_t> offset,
                        std::string message) {
    lost_problem = damage->size();
    damage->push_back({std::move(file), offset, std::move(message)});
    if (!lost_from) lost_from = log.next_position;
  };
  const auto lost_until = [&](std::int64_t last) {
    if (lost_from && last > *lost_from) {
      (*damage)[lost_problem].message += "; positions " + std::to_string(*lost_from) + ".." +
                                         std::to_string(last) + " are unreadable";
    } else if (lost_from && last == *lost_from) {
      (*damage)[lost_problem].message += "; position " + std::to_string(last) + " is unreadable";
    }
    lost_from.reset();
  };
  const auto resume = [&](std::int64_t position) {
    lost_until(position - 1);
    log.next_position = position;
  };

  for (std::size_t i = log.segments.size(); i < segment_bases.size(); ++i) {
    const bool last = i + 1 == segment_bases.size();
    const std::string name = Segment::FileName(segment_bases[i]);
    std::unique_ptr<Segment> segment;
    std::uint64_t offset = kSegmentHeaderSize;
    if (resumed != nullptr) {
      segment = std::move(resumed);
      offset = start.offset;
      if (read_only) segment->CopyPositionIndexToMemory();
    } else {
      Result<std::unique_ptr<Segment>> opened =
          Segment::Open(env, dir, segment_bases[i], /*writable=*/!read_only);
      if (!opened.ok()) {
        // A crash while creating the last segment leaves a file without a valid header and
        // nothing else; anything more is corruption.
        bool half_made =
            last && opened.status().IsCorruption() && log.next_position > meta.durable_position;
        if (half_made) {
          ES_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(dir + "/" + name, {}));
          ES_ASSIGN_OR_RETURN(std::uint64_t size, file->Size());
          std::vector<char> rest(size > kSegmentHeaderSize ? size - kSegmentHeaderSize : 0);
          if (!rest.empty())
            ES_RETURN_IF_ERROR(file->Read(kSegmentHeaderSize, rest.size(), rest.data()));
          half_made = NonZeroEnd(rest.data(), 0, rest.size()) == 0;
        }
        if (!half_made) {
          if (damage == nullptr) return opened.status();
          lose(name,
               opened.status().IsCorruption() ? std::optional<std::uint64_t>(0) : std::nullopt,
               opened.status().ToString());
          continue;
        }
        if (!read_only) ES_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + name));
        break;
      }
      segment = std::move(opened).value();
      if (segment->header().store_id != meta.store_id) {
        const Status other = Status::Corruption(segment->path() + ": belongs to another store");
        if (damage == nullptr) return other;
        lose(name, 0, other.ToString());
        continue;
      }
      if (segment->header().key_id != meta.key_id) {
        const Status other = Status::Corruption(segment->path() + ": written under key id " +
                                                std::to_string(segment->header().key_id) +
                                                ", the store's is " + std::to_string(meta.key_id));
        if (damage == nullptr) return other;
        lose(name, 0, other.ToString());
        continue;
      }
      const std::int64_t base = segment->header().base_position;
      if (lost_from && base >= log.next_position) {
        // After damage the positions may jump to the segment's base.
        resume(base);
      } else if (base != log.next_position) {
        // Frames written before a roll and lost in a crash (never synced, so never acknowledged
        // as durable) leave the segments after the log's end starting at the wrong position.
        // Unless they hold a frame written after the lost ones were durable, they are removed
        // like a torn tail.
        if (i == 0 || log.next_position <= meta.durable_position ||
            SegmentsHoldDurableFrames(env, dir, segment_bases, i, log.next_position)) {
          const Status wrong =
              Status::Corruption(segment->path() + ": expected a segment starting at position " +
                                 std::to_string(log.next_position));
          if (damage == nullptr) return wrong;
          lose(name, 0, wrong.ToString());
          resume(base);
        } else {
          segment.reset();
          if (!read_only) ES_RETURN_IF_ERROR(RemoveSegments(env, dir, segment_bases, i));
          break;
        }
      }
      if (read_only) {
        segment->UseMemoryPositionIndex();
      } else {
        ES_RETURN_IF_ERROR(segment->OpenPositionIndex());
      }
    }

    // Walk the valid frames; a salvage walk goes on past damage at the next frame it can.
    for (;;) {
      Status invalid;        // why the frame at `offset` ends the walk
      bool refused = false;  // by the visitor, not by the frame's checks
      while (offset + kFrameMinLength <= segment->size() &&
             DecodeFixed<std::uint32_t>(segment->data() + offset) != 0) {
        FrameHeader frame;
        invalid = CheckFrameAt(*segment, offset, meta, &frame);
        if (invalid.ok() && frame.first_position != log.next_position) {
          invalid =
              Status::Corruption("frame: first position " + std::to_string(frame.first_position) +
                                 " where the log expects " + std::to_string(log.next_position));
        }
        if (!invalid.ok()) break;
        invalid = visit(*segment, offset, frame);
        if (!invalid.ok()) {
          if (damage == nullptr) {
            return Status::Corruption(Where(*segment, offset) + ": " + invalid.message());
          }
          refused = true;
          break;
        }
        log.next_position += frame.event_count;
        log.log_bytes += frame.length;
        offset += frame.length;
      }

      // Everything after the last valid frame must be zero, or a torn tail we may cut.
      const std::uint64_t dirty_end = NonZeroEnd(segment->data(), offset, segment->size());
      if (dirty_end == offset) break;
      if (log.next_position > meta.durable_position &&
          !DurableFrameFrom(*segment, offset, dirty_end, log.next_position) &&
          !SegmentsHoldDurableFrames(env, dir, segment_bases, i + 1, log.next_position)) {
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
      // A read-only walk may share the log with a live writer, which writes each frame in place
      // in the mapping, frames in order. A frame it was still writing when the walk met it is
      // whole by the time the frames after it (or its own checksum) made its bytes look durable:
      // the walk goes on at it, where the frame checks now pass.
      FrameHeader whole;
      if (read_only && !refused && CheckFrameAt(*segment, offset, meta, &whole).ok() &&
          whole.first_position == log.next_position) {
        continue;
      }
      if (damage == nullptr) {
        return Status::Corruption(Where(*segment, offset) +
                                  ": invalid frame followed by valid frames");
      }
      // Frames start at 8-aligned offsets: the damage runs to the next one the log can go on at
      // (positions only grow), or to the end of what the segment holds.
      FrameHeader found;
      // A walk stopped by a zero length word or near the segment's end: ParseFrame says which.
      if (invalid.ok()) invalid = CheckFrameAt(*segment, offset, meta, &found);
      std::uint64_t next = offset + 8;
      while (next < dirty_end && !(CheckFrameAt(*segment, next, meta, &found).ok() &&
                                   found.first_position >= log.next_position)) {
        next += 8;
      }
      if (next >= dirty_end) {
        lose(name, offset,
             invalid.ToString() + "; no valid frame follows before offset " +
                 std::to_string(dirty_end) + ", where the segment's nonzero bytes end");
        break;
      }
      lose(name, offset,
           invalid.ToString() + "; the next valid frame is at offset " + std::to_string(next));
      resume(found.first_position);
      offset = next;
    }
    log.tail_offset = offset;
    log.segments.push_back(std::move(segment));
  }
  if (damage != nullptr) {
    // Damage at the end of the log lost the positions after it that store.meta records as
    // durable: the log ending early is that damage, not another problem.
    if (lost_from) {
      lost_until(meta.durable_position);
    } else if (Status reaches = CheckReachesDurable(dir, log, meta); !reaches.ok()) {
      damage->push_back({"", std::nullopt, reaches.ToString()});
    }
  }
  return log;
}

}  // namespace

Result<RecoveredLog> RecoverLog(Env* env, const std::string& dir, const MetaSlot& meta,
                                const std::vector<std::int64_t>& segment_bases, ReplayStart start,
                                const FrameVisitor& visit, bool read_only) {
  ES_ASSIGN_OR_RETURN(RecoveredLog log, WalkLog(env, dir, meta, segment_bases, std::move(start),
                                                visit, read_only, /*damage=*/nullptr));
  ES_RETURN_IF_ERROR(CheckReachesDurable(dir, log, meta));
  return log;
}

Result<RecoveredLog> SalvageLog(Env* env, const std::string& dir, const MetaSlot& meta,
                                const std::vector<std::int64_t>& segment_bases,
                                const FrameVisitor& visit, std::vector<VerifyProblem>* damage) {
  return WalkLog(env, dir, meta, segment_bases, ReplayStart{}, visit, /*read_only=*/true, damage);
}

}  // namespace es
