// Segment: one segment file of the log, mapped whole, with its position index (docs/format.md).
//
// The writer encodes frames directly into the mapping (no system call per write unless it
// syncs); readers decode events from it through the position index.
#ifndef ES_ENGINE_LOG_SEGMENT_H_
#define ES_ENGINE_LOG_SEGMENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/format/event_entry.h"
#include "engine/format/file_headers.h"
#include "es/env.h"
#include "es/result.h"

namespace es {

class Segment {
 public:
  // "<base, 20 digits>.seg" and ".pidx".
  static std::string FileName(std::int64_t base_position);
  static std::string IndexFileName(std::int64_t base_position);
  // Parses a segment file name; false for any other name.
  static bool ParseFileName(const std::string& name, std::int64_t* base_position);

  // The files of a segment made ahead of the roll that needs them: a segment file of `size`
  // bytes and a position index for `capacity_events`, allocated, their first block written and
  // synced, under temporary names (removed by Open when a store closes without using them).
  struct Spare {
    std::unique_ptr<File> file;
    std::unique_ptr<File> index_file;
  };
  static Result<Spare> PrepareSpare(Env* env, const std::string& dir, std::uint64_t size,
                                    std::uint32_t capacity_events);
  // Removes the files of a spare that was not used.
  static Status RemoveSpare(Env* env, const std::string& dir);

  // Creates a segment of `size` bytes with `header`, and its position index, from `spare` (made
  // by PrepareSpare with the same size and capacity) when given, else from new files: headers
  // written and synced, files under their names, `dir` synced. A spare then costs two small
  // synced writes, two renames and the directory sync; new files add creating and allocating.
  static Result<std::unique_ptr<Segment>> Create(Env* env, const std::string& dir,
                                                 const SegmentHeader& header, std::uint64_t size,
                                                 std::optional<Spare> spare);

  // Opens and maps an existing segment; Corruption when its header is invalid. The position
  // index is opened by OpenPositionIndex, or kept in memory (read-only opens). A read-only
  // segment must not be written through data().
  static Result<std::unique_ptr<Segment>> Open(Env* env, const std::string& dir,
                                               std::int64_t base_position, bool writable = true);

  // Opens the position index, recreating it (zeroed, its header and size synced) when it is
  // missing, the wrong size or its header does not match this segment. Its entries are checked
  // by recovery. Not `writable`: maps it read-only, and instead of recreating it uses an empty one
  // in memory (position_index_recreated() then says so).
  Status OpenPositionIndex(bool writable = true);
  // A position index in memory, all entries absent, for an open that writes no file.
  void UseMemoryPositionIndex();
  // Replaces a position index mapped read-only by a copy in memory, so that an open that writes
  // no file can go on setting entries (a read-only open resuming after a checkpoint).
  void CopyPositionIndexToMemory();
  // Whether the position index had to be recreated (all its entries are then absent).
  bool position_index_recreated() const { return index_recreated_; }

  const SegmentHeader& header() const { return header_; }
  const std::string& path() const { return path_; }
  char* data() { return map_->data(); }
  const char* data() const { return map_->data(); }
  std::uint64_t size() const { return map_->size(); }

  // Position index entries, for positions base .. base + capacity - 1.
  void SetIndexEntry(std::int64_t position, std::uint32_t frame_offset, std::uint32_t entry_offset);
  void GetIndexEntry(std::int64_t position, std::uint32_t* frame_offset,
                     std::uint32_t* entry_offset) const;

  // Decodes the event at `position` (which this segment holds, per the index) into `view`,
  // verifying its entry check. Corruption when the index or the entry is wrong. An encrypted
  // event is opened with `key` (Corruption when it does not authenticate), and the view then
  // points into a buffer of the calling thread, valid until its next ReadEvent; without a key its
  // view stays encrypted (EventView::encrypted).
  Status ReadEvent(std::int64_t position, EventView* view, const AesGcm* key = nullptr) const;

  // Hints that ReadEvent(position) follows soon: readers of many events issue these first so
  // that the cache misses of the index entries, then of the events, overlap.
  void PrefetchIndexEntry(std::int64_t position) const { __builtin_prefetch(IndexSlot(position)); }
  void PrefetchEvent(std::int64_t position) const;

  // Writes `bytes` at `offset` through the file rather than the mapping: for large frames one
  // system call costs less than a page fault per page of a mapping that was never touched.
  Status WriteAt(std::uint64_t offset, std::string_view bytes) {
    return file_->Write(offset, bytes);
  }

  // Makes the bytes [begin, end) written through the mapping durable.
  Status Sync(std::uint64_t begin, std::uint64_t end) const;
  // Makes the position index entries of positions first .. last durable.
  Status SyncPositionIndex(std::int64_t first, std::int64_t last) const;

 private:
  Segment(Env* env, std::string dir, std::string path)
      : env_(env), dir_(std::move(dir)), path_(std::move(path)) {}
  std::vector<char> PositionIndexHeader() const;
  // Writes the position index header and syncs it (with the file's size).
  Status WritePositionIndexHeader();
  char* IndexSlot(std::int64_t position) const;

  Env* env_;
  std::string dir_;
  std::string path_;
  SegmentHeader header_;
  std::unique_ptr<File> file_;
  std::unique_ptr<MappedRegion> map_;
  std::unique_ptr<File> index_file_;
  std::unique_ptr<MappedRegion> index_map_;
  bool index_recreated_ = false;
};

}  // namespace es

#endif  // ES_ENGINE_LOG_SEGMENT_H_
