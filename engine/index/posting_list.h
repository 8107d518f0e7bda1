// PostingList: the ascending positions of one tag, type or stream, in append-only chunks that
// never move under readers (design.md §5). One writer appends; readers iterate a prefix.
//
// Chunks double in capacity (4, 8, ... 65536 entries) and store positions as 32-bit offsets from
// the chunk's base, so a posting costs 4 bytes plus its share of a 16-byte chunk header.
// Positions must stay below 2^58.
#ifndef ES_ENGINE_INDEX_POSTING_LIST_H_
#define ES_ENGINE_INDEX_POSTING_LIST_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "engine/util/arena.h"

namespace es {

class PostingList {
 public:
  struct Chunk;  // defined in posting_list.cc

  PostingList() = default;
  PostingList(const PostingList&) = delete;
  PostingList& operator=(const PostingList&) = delete;

  // Writer only. `position` must be >= the last one appended; appending the last one again is a
  // no-op (an event carrying a tag twice is posted once). Chunks come from `arena`, which must
  // outlive the list and every reader of it.
  void Append(std::int64_t position, Arena* arena);

  // The number of positions published (acquire): pair with a head read earlier to bound them.
  std::uint64_t size() const { return size_.load(std::memory_order_acquire); }

  // Writer only: the last position appended, 0 when empty.
  std::int64_t last() const;

  // Iterates the first `count` positions of a list.
  class Cursor {
   public:
    Cursor() = default;
    Cursor(const PostingList& list, std::uint64_t count);
    bool Valid() const { return chunk_ != nullptr; }
    std::int64_t position() const;
    void Next();
    // Moves to the first position >= target (from the current one forward), galloping.
    void SeekAtLeast(std::int64_t target);

   private:
    void EnterChunk(const Chunk* chunk);

    const Chunk* chunk_ = nullptr;
    std::uintptr_t link_ = 0;      // chunk_->next as loaded on entry
    std::uint32_t index_ = 0;      // within chunk_
    std::uint32_t in_chunk_ = 0;   // entries of chunk_ within the count
    std::uint64_t remaining_ = 0;  // entries after chunk_ within the count
  };

 private:
  std::atomic<Chunk*> head_{nullptr};
  Chunk* tail_ = nullptr;
  std::atomic<std::uint64_t> size_{0};
  std::uint32_t tail_used_ = 0;
};

}  // namespace es

#endif  // ES_ENGINE_INDEX_POSTING_LIST_H_
