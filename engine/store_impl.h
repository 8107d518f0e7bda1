// StoreImpl: the engine behind es::Store. Owns the segments, the in-memory index and the writer
// lock; implements the recorder core (Write, Read, ReadStream, Head, MaxTrackingId).
#ifndef ES_ENGINE_STORE_IMPL_H_
#define ES_ENGINE_STORE_IMPL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/cache/decoded_event_cache.h"
#include "engine/compress/event_compressor.h"
#include "engine/crypto/store_cipher.h"
#include "engine/index/mem_index.h"
#include "engine/index/segmented_vector.h"
#include "engine/log/recovery.h"
#include "engine/log/segment.h"
#include "engine/log/store_meta.h"
#include "es/env.h"
#include "es/options.h"
#include "es/store.h"

namespace es {

class StoreImpl final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const Options& options, std::string_view dir);
  // Stops the background threads, syncs every write not yet durable (unless poisoned) and
  // writes an index checkpoint (unless checkpoints are off).
  ~StoreImpl() override;

  Result<std::int64_t> Write(const AppendRequest& request) override;
  Result<ReadResult> Read(const Query& query, const ReadOptions& options) override;
  Result<std::vector<SequencedEvent>> ReadStream(std::string_view stream_id,
                                                 const SelectEventsOptions& options) override;
  Result<std::optional<std::int64_t>> Head() override;
  Result<std::optional<std::int64_t>> MaxTrackingId(std::string_view application_name) override;
  Result<std::vector<Tracking>> TrackingRecords() override;
  StoreInfo Info() override;
  Status Sync() override;
  Result<std::uint32_t> TrainCompressionDictionary(std::size_t max_bytes) override;

  // Writers queued, the leader of the group being committed included (for tests of grouping).
  std::size_t TEST_QueuedWriters();
  // Waits until the spare maker is idle: a spare is ready, or making it failed (for tests that
  // count file operations).
  void TEST_WaitForSpareMaker();

 private:
  // A Write waiting in the queue. The group's leader fills `result`, then moves `state` on.
  struct Writer {
    static constexpr int kQueued = 0;   // waiting behind a leader
    static constexpr int kLeading = 1;  // at the front of the queue: commit the next group
    static constexpr int kDone = 2;     // committed (or refused) by a leader: `result` is set

    Writer(const AppendRequest& request, std::vector<std::optional<std::string>> compressed,
           std::size_t body_length, std::size_t frame_length, Durability durability)
        : request(request),
          compressed(std::move(compressed)),
          body_length(body_length),
          frame_length(frame_length),
          durability(durability) {}

    // The data of event i as its entry stores it when compressed; null when stored as given.
    static const std::string* CompressedData(
        const std::vector<std::optional<std::string>>& compressed, std::size_t i) {
      return compressed.empty() || !compressed[i] ? nullptr : &*compressed[i];
    }

    const AppendRequest& request;
    // Per event, its compressed data when it shrank (empty without compression).
    const std::vector<std::optional<std::string>> compressed;
    const std::size_t body_length;
    const std::size_t frame_length;
    const Durability durability;
    std::optional<Result<std::int64_t>> result;
    std::atomic<int> state{kQueued};
  };
  // A place in the log: the end of the bytes written to segment `segment` (an index into
  // segments_), and the last position before it.
  struct LogMark {
    std::size_t segment = 0;
    std::uint64_t offset = 0;
    std::int64_t head = 0;
  };

  StoreImpl(const Options& options, std::unique_ptr<Env> owned_env, Env* env, std::string dir)
      : owned_env_(std::move(owned_env)),
        options_(options),
        env_(env),
        dir_(std::move(dir)),
        compressor_(options.compression == Compression::kZstd
                        ? std::optional<EventCompressor>(std::in_place, options.compression_level,
                                                         options.compression_min_bytes)
                        : std::nullopt) {}

  // Commits the writers at the front of the queue (the caller leads them): accepts or rejects
  // each, writes the accepted ones' frames, syncs once if any asked for it, then publishes.
  void CommitGroup(std::span<const std::shared_ptr<Writer>> group);
  static void Wake(Writer& writer, int state);
  // Checks one request against the log plus the group's earlier accepted requests, then encodes
  // its frame at the tail and indexes its events, unpublished (writer lock held).
  Result<std::int64_t> Accept(const Writer& writer);
  // Writes the frames held in group_frames_ to the active segment with one write, then, with
  // `zero_ahead` after a group that will sync, zeros ahead of them (writer lock held; see
  // kZeroAheadBytes). Not before a roll: the segment takes no more frames.
  Status WriteGroupFrames(bool zero_ahead);
  // Makes the log durable up to `target`, and everything before it.
  Status SyncTo(const LogMark& target);
  LogMark TailMark() const;          // writer lock held
  void Poison(const Status& cause);  // writer lock held
  void RunBackgroundSync();

  // Index checkpoints (docs/format.md, "Index checkpoint"). Writes one as of the tail, which it
  // first makes durable; nothing when the newest checkpoint already is there.
  Status WriteCheckpoint();
  // Makes the position index entries of the positions up to `position` durable (checkpoint
  // mutex held).
  Status SyncPositionIndexes(std::int64_t position);
  void RunBackgroundCheckpoints();

  // Checks the store's key against store.meta before anything else is read or written, and
  // makes cipher_ (InvalidArgument when a key is missing, wrong or not wanted).
  Status SetUpEncryption(const StoreMeta& meta);
  // The key of the store's event entries; null when it is not encrypted.
  const AesGcm* entry_key() const { return cipher_ ? &cipher_->entries() : nullptr; }
  // Segment::ReadEvent through the store's key (Corruption for an encrypted event in a store
  // without one).
  Status ReadView(const Segment& segment, std::int64_t position, EventView* view) const;
  // A read of more events than this is taken for a scan (a subscription catching up, an export):
  // it finds events in decoded_cache_ but adds none, so that it does not push out those that
  // smaller, repeated reads (aggregates, decision models) keep finding there.
  static constexpr std::size_t kMostEventsFillingCache = 100;
  // The event at `position` (in `segment`) into *event, as readers get it: from decoded_cache_
  // when it is there, else from the log, decrypted and decompressed, and then, with `fill_cache`,
  // kept in the cache when that took work. False, with nothing decoded, when version_wanted(its
  // stream version, 0 without a stream) is false.
  template <typename VersionWanted>
  Result<bool> ReadEvent(const Segment& segment, std::int64_t position,
                         VersionWanted&& version_wanted, bool fill_cache, Event* event) const;
  // Keeps the events of a committed write that needed encoding in decoded_cache_.
  void KeepDecoded(const Writer& writer) const;

  // Indexes a frame found by recovery and checks its position index entries.
  Status IndexRecoveredFrame(Segment& segment, std::uint64_t frame_offset,
                             const FrameHeader& header);
  // Adds a new segment starting at the next position, from the spare when one is ready (writer
  // lock held). The old segment's unsynced frames are not synced first: frames record how much
  // was unsynced when they were written, which lets recovery cut a tail lost across a roll.
  Status Roll();
  void RunSpareMaker();
  void PublishSegment(std::unique_ptr<Segment> segment);
  // The segment holding `position` (<= a head the caller read).
  const Segment* SegmentFor(std::int64_t position) const;
  // Checks stream (id, version) uniqueness of the request's events (writer lock held).
  Status CheckStreams(std::span<const Event> events, std::int64_t head) const;
  Status CheckVersionFree(std::string_view stream_id, std::int64_t version,
                          std::int64_t head) const;

  // Declared first so that it outlives every file and mapping of the store.
  const std::unique_ptr<Env> owned_env_;  // the io_uring Env, when the store chose it
  const Options options_;
  Env* const env_;
  const std::string dir_;
  const std::optional<EventCompressor> compressor_;  // with Compression::kZstd
  std::unique_ptr<DictionarySet> dictionaries_;      // set at open
  std::unique_ptr<StoreCipher> cipher_;              // set at open for an encrypted store
  // Set at open for a store that encrypts or compresses (Options::decoded_cache_bytes).
  std::unique_ptr<DecodedEventCache> decoded_cache_;
  std::mutex training_mutex_;  // one dictionary trained at a time
  std::unique_ptr<FileLock> lock_;
  StoreMeta meta_;

  // Writers queue here; the one at the front leads the next group.
  std::mutex queue_mutex_;
  std::deque<std::shared_ptr<Writer>> queue_;  // guarded by queue_mutex_

  std::mutex write_mutex_;  // held by a group's leader (and Info); readers never take it
  Status poisoned_;         // guarded by write_mutex_: non-OK after a failed write or sync
  // Tracking records accepted earlier in the group being committed (guarded by write_mutex_).
  std::vector<const Tracking*> group_tracking_;
  bool buffered_pending_ = false;  // guarded by write_mutex_: a kBuffered write awaits its sync
  std::vector<std::unique_ptr<Segment>> owned_segments_;  // guarded by write_mutex_
  std::int64_t next_position_ = 1;                        // guarded by write_mutex_
  std::uint64_t tail_offset_ = 0;                         // in the last segment
  std::uint64_t log_bytes_ = 0;
  // Frames encoded but not yet written to the active segment, which they continue from
  // group_frames_offset_: a group with a sync writer writes all of its frames at once, another
  // group only its large frames, each on its own (guarded by write_mutex_).
  std::string group_frames_;
  std::uint64_t group_frames_offset_ = 0;
  bool group_through_file_ = false;
  // The active segment has been written (with frames or zeros) up to here (guarded by
  // write_mutex_).
  std::uint64_t written_until_ = 0;

  // Readers' view: segments published before the head that covers their events.
  SegmentedVector<const Segment*> segments_;
  std::atomic<std::size_t> segment_count_{0};
  std::atomic<std::int64_t> head_{0};
  MemIndex index_;

  // Durability: everything before durable_ is on stable storage.
  std::mutex sync_mutex_;
  LogMark durable_;  // guarded by sync_mutex_
  std::atomic<std::int64_t> durable_head_{0};
  std::atomic<std::uint64_t> sync_count_{0};

  // The background threads: the syncer of kBuffered writes, the checkpointer and the maker of
  // spare segments.
  std::mutex syncer_mutex_;
  std::condition_variable syncer_wake_;
  std::condition_variable checkpointer_wake_;
  std::condition_variable spare_maker_wake_;
  bool closing_ = false;  // guarded by syncer_mutex_: stops the threads
  std::thread syncer_;
  std::thread checkpointer_;  // running when checkpoints are on and Open succeeded
  std::thread spare_maker_;   // running when Options::prepare_spare_segment
  // The spare's files exist under their temporary names only while nobody else touches them: the
  // maker makes one when asked (after a roll) and the writer takes it at the next roll.
  std::optional<Segment::Spare> spare_;  // guarded by syncer_mutex_
  bool spare_wanted_ = false;            // guarded by syncer_mutex_; only while spare_ is empty
  std::atomic<std::uint64_t> spare_failures_{0};
  std::uint64_t rolls_ = 0;             // guarded by write_mutex_
  std::uint64_t rolls_from_spare_ = 0;  // guarded by write_mutex_

  // Index checkpoints. One is written at a time, under checkpoint_mutex_.
  std::mutex checkpoint_mutex_;
  std::int64_t checkpoint_position_ = 0;  // guarded by checkpoint_mutex_: newest written or loaded
  // Position index entries of positions up to this one are durable (guarded by checkpoint_mutex_).
  std::int64_t durable_index_position_ = 0;
  // Non-OK after a position index failed to sync: its pages may be lost without a trace, so no
  // later checkpoint may vouch for it (guarded by checkpoint_mutex_).
  Status index_sync_failure_;
  std::atomic<std::int64_t> checkpoint_head_{0};  // checkpoint_position_, for lock-free readers
  std::atomic<std::uint64_t> checkpoints_written_{0};
  std::atomic<std::uint64_t> checkpoint_failures_{0};
  // What Open did, for Info (set before the store is shared).
  std::optional<std::int64_t> checkpoint_loaded_;
  std::vector<std::string> checkpoints_rejected_;
  std::uint64_t replayed_events_ = 0;
};

}  // namespace es

#endif  // ES_ENGINE_STORE_IMPL_H_
