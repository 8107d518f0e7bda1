// StoreImpl: the engine behind es::Store. Owns the segments, the in-memory index and the writer
// lock; implements the recorder core (Write, Read, ReadStream, Head, MaxTrackingId).
#ifndef ES_ENGINE_STORE_IMPL_H_
#define ES_ENGINE_STORE_IMPL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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
  ~StoreImpl() override = default;

  Result<std::int64_t> Write(const AppendRequest& request) override;
  Result<ReadResult> Read(const Query& query, const ReadOptions& options) override;
  Result<std::vector<SequencedEvent>> ReadStream(std::string_view stream_id,
                                                 const SelectEventsOptions& options) override;
  Result<std::optional<std::int64_t>> Head() override;
  Result<std::optional<std::int64_t>> MaxTrackingId(std::string_view application_name) override;
  StoreInfo Info() override;

 private:
  StoreImpl(const Options& options, Env* env, std::string dir)
      : options_(options), env_(env), dir_(std::move(dir)) {}

  // Indexes a frame found by recovery and checks its position index entries.
  Status IndexRecoveredFrame(Segment& segment, std::uint64_t frame_offset,
                             const FrameHeader& header);
  // Adds a new segment starting at the next position (writer lock held).
  Status Roll();
  void PublishSegment(std::unique_ptr<Segment> segment);
  // The segment holding `position` (<= a head the caller read).
  const Segment* SegmentFor(std::int64_t position) const;
  Result<SequencedEvent> ReadEventAt(std::int64_t position) const;
  // Checks stream (id, version) uniqueness of the request's events (writer lock held).
  Status CheckStreams(std::span<const Event> events, std::int64_t head) const;
  Status CheckVersionFree(std::string_view stream_id, std::int64_t version,
                          std::int64_t head) const;

  const Options options_;
  Env* const env_;
  const std::string dir_;
  std::unique_ptr<FileLock> lock_;
  StoreMeta meta_;

  std::mutex write_mutex_;  // serialises writers; readers never take it
  Status poisoned_;         // guarded by write_mutex_: non-OK after a failed sync
  std::vector<std::unique_ptr<Segment>> owned_segments_;  // guarded by write_mutex_
  std::int64_t next_position_ = 1;                        // guarded by write_mutex_
  std::uint64_t tail_offset_ = 0;                         // in the last segment
  std::uint64_t log_bytes_ = 0;

  // Readers' view: segments published before the head that covers their events.
  SegmentedVector<const Segment*> segments_;
  std::atomic<std::size_t> segment_count_{0};
  std::atomic<std::int64_t> head_{0};
  MemIndex index_;
};

}  // namespace es

#endif  // ES_ENGINE_STORE_IMPL_H_
