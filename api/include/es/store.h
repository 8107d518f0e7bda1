// Store: the embedded engine. One store per directory, one writing process at a time (enforced
// with a LOCK file), any number of threads.
//
//   es::Options options;
//   auto store = es::Store::Open(options, "/var/lib/app/events");
//   if (!store.ok()) { ... store.status().ToString() ... }
//   (*store)->Append(events, condition);
//
// The store implements every recorder interface (see recorder.h). Concurrent writers queue and
// are committed in groups by the writer at the head of the queue: each request is checked against
// the log plus the requests accepted before it in its group, and succeeds or fails alone; one
// fdatasync covers the group. Readers never wait for writers and see an immutable prefix of the
// log. After a failed write or fdatasync the store refuses writes (Poisoned) until it is reopened;
// reads go on. Destroying the store closes it: it syncs every write made before (unless
// poisoned). No call may be in progress then.
#ifndef ES_STORE_H_
#define ES_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "es/options.h"
#include "es/recorder.h"
#include "es/result.h"

namespace es {

// One segment file of the log.
struct SegmentInfo {
  std::string file;                // its name in the store directory
  std::int64_t base_position = 0;  // the position of its first event
  std::uint64_t events = 0;        // events it holds
  std::uint64_t file_bytes = 0;    // its preallocated size
  bool active = false;             // the one the next write goes to (sealed otherwise)
};

// What a store reports about itself.
struct StoreInfo {
  std::string store_id;              // 32 hex digits, random at creation
  std::uint32_t format_version = 0;  // of its files (docs/format.md)
  bool read_only = false;            // opened with Options::read_only
  std::optional<std::int64_t> head;  // last position, null when empty
  // Last position known to be on stable storage (fdatasync returned), null when none. Writes
  // recovered from an earlier open count as durable.
  std::optional<std::int64_t> durable_head;
  std::uint64_t sync_count = 0;    // fdatasyncs of the log since open (group commit: one per group)
  std::uint64_t writer_epoch = 0;  // bumped durably on every open
  std::uint64_t segment_count = 0;
  std::vector<SegmentInfo> segments;  // in log order
  std::uint64_t log_bytes = 0;        // bytes of frames in all segments (not preallocation)
  std::uint64_t index_bytes = 0;      // heap memory of the in-memory indexes
  std::uint64_t tag_count = 0;        // distinct tags
  std::uint64_t type_count = 0;       // distinct types
  std::uint64_t stream_count = 0;     // distinct stream ids
  // How syncs and large writes are issued: "io_uring", "posix", "memory".
  std::string io_backend;
  // The compression dictionary new writes use with Options::compression kZstd (0: none), and
  // how many the store holds.
  std::uint32_t compression_dictionary = 0;
  std::uint64_t compression_dictionaries = 0;
  // "aes-256-gcm" for an encrypted store (es/encryption.h), else "none"; and the id of its key
  // (0: none).
  std::string encryption;
  std::uint32_t key_id = 0;
  // The decoded-event cache (Options::decoded_cache_bytes; all 0 for a store without one): the
  // memory its events are charged, and the reads since open it answered and did not.
  std::uint64_t decoded_cache_bytes = 0;
  std::uint64_t decoded_cache_hits = 0;
  std::uint64_t decoded_cache_misses = 0;
  // Segments added since open, and how many of them were spares prepared ahead
  // (Options::prepare_spare_segment); a spare that failed to be made leaves its roll to create
  // the files.
  std::uint64_t rolls = 0;
  std::uint64_t rolls_from_spare = 0;
  std::uint64_t spare_failures = 0;

  // Index checkpoints (Options::checkpoint_interval_events).
  // The position of the checkpoint Open loaded; null when it replayed the whole log.
  std::optional<std::int64_t> checkpoint_loaded;
  // The checkpoints Open passed over, newest first, each as "<file>: <why>" (corrupt, stale,
  // foreign, or position indexes it could not trust).
  std::vector<std::string> checkpoints_rejected;
  std::uint64_t replayed_events = 0;  // events Open read from the log to rebuild the indexes
  // The newest checkpoint this store loaded or wrote; null when none.
  std::optional<std::int64_t> checkpoint_position;
  std::uint64_t checkpoints_written = 0;  // since open
  std::uint64_t checkpoint_failures = 0;  // attempts since open that failed (the log is unharmed)
};

class Store : public Recorder {
 public:
  // Opens (or creates, per options) the store in `dir`: takes the LOCK (Locked when another
  // writer holds it), bumps the writer epoch, loads the newest valid index checkpoint, replays
  // the log after it verifying every frame, cuts a torn tail, and completes the indexes. A valid
  // frame after a bad one is Corruption naming the segment and offset: nothing is changed then.
  static Result<std::unique_ptr<Store>> Open(const Options& options, std::string_view dir);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  virtual StoreInfo Info() = 0;

  // Makes every write acknowledged so far durable (whatever its Durability), and returns the
  // fdatasync's error if it fails (the store is then poisoned). Closing does the same but cannot
  // report a failure: call Sync() first to learn of one.
  virtual Status Sync() = 0;

  // Trains a zstd compression dictionary of at most `max_bytes` on the data of the latest events
  // (about 100 times `max_bytes` of it, or all there is), writes it durably beside the segments
  // (docs/format.md, "Compression dictionary") and returns its id. From then on, while
  // Options::compression is kZstd, new writes compress with it (this open and later ones):
  // small events shrink by what they share with each other. Events written before keep what they
  // were written with. InvalidArgument when the store holds too little to train on (zstd wants
  // thousands of events); NotSupported when the store is read-only.
  virtual Result<std::uint32_t> TrainCompressionDictionary(std::size_t max_bytes = 110 << 10) = 0;

 protected:
  Store() = default;
};

}  // namespace es

#endif  // ES_STORE_H_
