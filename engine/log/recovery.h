// Log recovery at open (docs/format.md, "Recovery"): walks the segments verifying frames, from
// the start of the log or from where an index checkpoint ends, and tells a torn tail (cut) from
// corruption (Open fails naming the segment and offset). VerifyStore's walk goes on past it.
#ifndef ES_ENGINE_LOG_RECOVERY_H_
#define ES_ENGINE_LOG_RECOVERY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/format/frame.h"
#include "engine/log/segment.h"
#include "engine/log/store_meta.h"
#include "es/env.h"
#include "es/result.h"
#include "es/verify.h"

namespace es {

struct RecoveredLog {
  std::vector<std::unique_ptr<Segment>> segments;  // in log order; may be empty
  std::int64_t next_position = 1;
  std::uint64_t tail_offset = 0;  // where the next frame goes in segments.back()
  std::uint64_t log_bytes = 0;    // bytes of valid frames in all segments
  std::uint64_t torn_bytes = 0;   // nonzero bytes zeroed at the tail
};

// Where the walk begins when an index checkpoint covers the start of the log (docs/format.md,
// "Index checkpoint"): its covered segments, opened with their position indexes and checked
// against it, and the end of the last frame it covers. Empty: the start of the log.
struct ReplayStart {
  std::vector<std::unique_ptr<Segment>> segments;  // the log's first segments
  std::uint64_t offset = 0;                        // in segments.back()
  std::int64_t next_position = 1;
  std::uint64_t log_bytes = 0;  // of the frames before `offset`
};

// Called for each valid frame in log order; a non-OK status (the body does not parse) makes
// recovery fail with Corruption at that frame.
using FrameVisitor =
    std::function<Status(Segment& segment, std::uint64_t frame_offset, const FrameHeader& header)>;

// Recovers the log of the segments with the given base positions (ascending), for the store
// described by `meta`, visiting the frames from `start` on. With `read_only` it changes nothing:
// segments are mapped read-only with their position indexes in memory, and a torn tail or a
// half-made last segment ends the log where it begins without being cut or removed (torn_bytes
// then counts what was left).
Result<RecoveredLog> RecoverLog(Env* env, const std::string& dir, const MetaSlot& meta,
                                const std::vector<std::int64_t>& segment_bases, ReplayStart start,
                                const FrameVisitor& visit, bool read_only = false);

// For VerifyStore: the walk of a read-only RecoverLog over the whole log, going on past damage
// where RecoverLog fails. Damage in a segment (bytes that are neither valid frames nor a torn
// tail, by recovery's rules) runs from where the walk stops to the next 8-aligned offset where a
// frame the log can go on at parses (its positions may jump), or to the end of the segment's
// nonzero bytes. A segment whose header is damaged or names another store is passed over; one
// starting at another position than expected is walked from its own base. Each damage is appended
// to `damage` with its segment file and offset and the positions it made unreadable, as is a log
// ending before the durable position. The result holds the segments walked; only an I/O error
// fails it.
Result<RecoveredLog> SalvageLog(Env* env, const std::string& dir, const MetaSlot& meta,
                                const std::vector<std::int64_t>& segment_bases,
                                const FrameVisitor& visit, std::vector<VerifyProblem>* damage);

}  // namespace es

#endif  // ES_ENGINE_LOG_RECOVERY_H_
