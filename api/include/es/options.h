// Options for opening an engine store. Every field has a default chosen for a durable,
// general-purpose store; the comment on each says what it costs to change.
#ifndef ES_OPTIONS_H_
#define ES_OPTIONS_H_

#include <cstdint>

#include "es/recorder.h"

namespace es {

class Env;

struct Options {
  // ---- Behaviour ----

  // Where files live. Null means Env::Default() (POSIX). Not owned; must outlive the store.
  Env* env = nullptr;
  // Create the directory and an empty store when `dir` holds none.
  bool create_if_missing = true;
  // Fail with InvalidArgument when `dir` already holds a store.
  bool error_if_exists = false;

  // ---- Durability ----

  // Default for writes that do not say. kSync costs one fdatasync per write (100-500 us on
  // virtual disks); kNone loses the latest writes on a crash of the machine or process.
  Durability durability = Durability::kSync;
  // How often a background thread syncs kBuffered writes: the window of acknowledged writes a
  // machine crash can lose. Shorter costs more fdatasyncs. At least 1.
  std::uint32_t sync_interval_ms = 100;

  // ---- Storage ----

  // A segment file is preallocated to this size and rolls when the next frame would not fit.
  // Must be at least 64 KiB and at most 4 GiB (position-index offsets are 32-bit).
  std::uint64_t segment_bytes = 64ull << 20;
  // A segment also rolls after this many events; its position index is preallocated at 8 bytes
  // per event. At least 1.
  std::uint32_t segment_events = 1u << 20;

  // ---- Limits (bad input is rejected with InvalidArgument, nothing written) ----

  // The largest encoded write (all its events, tracking and framing). Must leave room in a
  // segment: at most segment_bytes - 4 KiB.
  std::uint32_t max_write_bytes = 16u << 20;
  // The most events in one write. At most segment_events.
  std::uint32_t max_write_events = 1u << 20;
};

}  // namespace es

#endif  // ES_OPTIONS_H_
