// MemIndex: the in-memory indexes over the log (design.md §5): a posting list per tag, per type
// and per stream (reached through intern tables), a per-position type column, and
// per-application tracking maxima. It answers which positions match a query; the events
// themselves are read from the log.
//
// One writer (holding the store's writer lock) adds events in position order; any number of
// readers query concurrently. A reader passes the head it read (acquire) and sees exactly the
// events at positions <= head: everything the writer added before publishing that head.
//
// A checkpoint (engine/index/checkpoint.h) serializes the index as of a position from another
// thread while the writer goes on: see BeginSnapshot.
#ifndef ES_ENGINE_INDEX_MEM_INDEX_H_
#define ES_ENGINE_INDEX_MEM_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/index/intern_table.h"
#include "engine/index/posting_list.h"
#include "engine/index/segmented_vector.h"
#include "engine/util/arena.h"
#include "es/query.h"

namespace es {

class MemIndex {
 public:
  struct Stream {
    PostingList positions;
    std::int64_t max_version = 0;     // writer only
    bool versions_increasing = true;  // writer only: every version exceeded the previous ones
  };

  MemIndex() = default;
  MemIndex(const MemIndex&) = delete;
  MemIndex& operator=(const MemIndex&) = delete;

  // ---- Writer ----

  // Indexes the event at `position` (the next position). `stream_id` is null without a stream.
  void AddEvent(std::int64_t position, std::string_view type,
                std::span<const std::string_view> tags, const std::string_view* stream_id,
                std::int64_t version);
  void SetMaxTrackingId(std::string_view application_name, std::int64_t notification_id);

  // ---- Readers (positions bounded by `head`) ----

  // Sets `out` to the positions > after and <= head matching `query`, in ascending order without
  // duplicates, at most `limit`.
  void Match(const Query& query, std::int64_t after, std::int64_t head, std::int64_t limit,
             std::vector<std::int64_t>* out) const;
  // Whether any position > after and <= head matches `query` (the append-condition check).
  bool AnyMatch(const Query& query, std::int64_t after, std::int64_t head) const;

  // The stream's record, or null when no event of it is indexed.
  const Stream* FindStream(std::string_view stream_id) const { return streams_.Find(stream_id); }
  std::optional<std::int64_t> MaxTrackingId(std::string_view application_name) const;
  // Every application's maximum, by name.
  std::vector<Tracking> TrackingMaxima() const;

  // ---- Checkpoints (writer only) ----

  // Begins a snapshot of the index as of `position`, the last position indexed. Until
  // EndSnapshot, AddEvent sets aside the state a stream had at `position` before changing it, so
  // that IndexCheckpoint::Write can serialize the snapshot from another thread: posting lists and
  // the type column only grow, and it reads them up to `position`. One snapshot at a time.
  void BeginSnapshot(std::int64_t position);
  void EndSnapshot();
  // Empties the index (a checkpoint failed to load part-way). No reader may exist.
  void Clear();

  // ---- Statistics (writer only) ----
  std::size_t MemoryBytes() const;
  std::size_t tag_count() const { return tags_.size(); }
  std::size_t type_count() const { return types_.size(); }
  std::size_t stream_count() const { return streams_.size(); }

 private:
  struct Type {
    PostingList positions;
    std::uint32_t id = 0;  // its value in the type column
  };

  friend class IndexCheckpoint;

  struct StreamState {
    std::int64_t max_version;
    bool versions_increasing;
  };

  // The stream's state as of the snapshot (any thread, while a snapshot is taken).
  StreamState SnapshotState(const Stream& stream) const;

  // Positions matching one item that has types or tags (or both).
  void MatchItem(const QueryItem& item, std::int64_t after, std::int64_t head, std::int64_t limit,
                 std::vector<std::int64_t>* out) const;
  void MatchTypes(std::span<const Type* const> types, std::int64_t after, std::int64_t head,
                  std::int64_t limit, std::vector<std::int64_t>* out) const;

  Arena arena_;  // every record, name and posting chunk of the tables below
  InternTable<Type> types_{&arena_};
  InternTable<PostingList> tags_{&arena_};
  InternTable<Stream> streams_{&arena_};
  SegmentedVector<std::uint32_t, 16> type_column_;  // type id of position p at p - 1

  mutable std::shared_mutex tracking_latch_;
  std::map<std::string, std::int64_t, std::less<>> max_tracking_;

  // The snapshot being taken (position 0: none). BeginSnapshot sets the first three and the
  // writer leaves them alone until EndSnapshot.
  std::int64_t snapshot_position_ = 0;
  std::size_t snapshot_type_count_ = 0;
  std::vector<std::pair<std::string, std::int64_t>> snapshot_tracking_;
  // The writer records a stream's state here before its first change after the snapshot's
  // position; a stream not in it has not changed. Readers of a stream's state hold the latch, so
  // they either find its entry or read its fields before the writer changes them.
  mutable std::mutex snapshot_latch_;
  std::unordered_map<const Stream*, StreamState> snapshot_streams_;  // guarded by snapshot_latch_
};

}  // namespace es

#endif  // ES_ENGINE_INDEX_MEM_INDEX_H_
