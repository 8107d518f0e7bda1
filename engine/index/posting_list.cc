#include "engine/index/posting_list.h"

#include <algorithm>
#include <limits>
#include <new>

#include "engine/util/arena.h"

namespace es {

// 16 bytes of header, then the 32-bit offsets. Positions stay below 2^58 (centuries of appends
// at a million events a second), which leaves 6 bits for the capacity's logarithm.
//
// A chunk is normally full before the next one starts. When a position is too far from the
// chunk's base for a 32-bit offset, the chunk is cut short: its last slot (unused, since it is not
// full) then holds the number of entries it has, and its `next` link carries the mark kCut.
// Both are written before the link is published, and a reader whose count reaches past a chunk
// has acquired that link.
struct PostingList::Chunk {
  static constexpr std::uintptr_t kCut = 1;  // chunks are 8-aligned: the low bit is free

  std::atomic<std::uintptr_t> next{0};
  std::uint64_t base : 58 = 0;
  std::uint64_t capacity_log2 : 6 = 0;

  static const Chunk* Target(std::uintptr_t link) {
    return reinterpret_cast<const Chunk*>(link & ~kCut);
  }
  // The entries of this chunk, given its `next` link as loaded.
  std::uint32_t used(std::uintptr_t link) const {
    return (link & kCut) != 0 ? offsets()[capacity() - 1] : capacity();
  }
  std::uint32_t capacity() const { return std::uint32_t{1} << capacity_log2; }
  std::int64_t first() const { return static_cast<std::int64_t>(base); }
  std::uint32_t* offsets() { return reinterpret_cast<std::uint32_t*>(this + 1); }
  const std::uint32_t* offsets() const { return reinterpret_cast<const std::uint32_t*>(this + 1); }

  static std::size_t Bytes(std::uint32_t capacity_log2) {
    return sizeof(Chunk) + (std::size_t{1} << capacity_log2) * sizeof(std::uint32_t);
  }
};
static_assert(sizeof(PostingList::Chunk) == 16);

namespace {
constexpr std::uint32_t kFirstChunkLog2 = 2;  // 4 entries
constexpr std::uint32_t kMaxChunkLog2 = 16;
}  // namespace

std::int64_t PostingList::last() const {
  return tail_ == nullptr ? 0 : tail_->first() + tail_->offsets()[tail_used_ - 1];
}

void PostingList::Append(std::int64_t position, Arena* arena) {
  if (tail_ != nullptr && position == last()) return;
  if (tail_ == nullptr || tail_used_ == tail_->capacity() ||
      static_cast<std::uint64_t>(position - tail_->first()) >
          std::numeric_limits<std::uint32_t>::max()) {
    std::uint32_t log2 = tail_ == nullptr
                             ? kFirstChunkLog2
                             : std::min<std::uint32_t>(tail_->capacity_log2 + 1, kMaxChunkLog2);
    auto* chunk = new (arena->Allocate(Chunk::Bytes(log2))) Chunk();
    chunk->base = static_cast<std::uint64_t>(position);
    chunk->capacity_log2 = log2 & 63;
    if (tail_ == nullptr) {
      head_.store(chunk, std::memory_order_release);
    } else {
      std::uintptr_t link = reinterpret_cast<std::uintptr_t>(chunk);
      if (tail_used_ < tail_->capacity()) {
        tail_->offsets()[tail_->capacity() - 1] = tail_used_;
        link |= Chunk::kCut;
      }
      tail_->next.store(link, std::memory_order_release);
    }
    tail_ = chunk;
    tail_used_ = 0;
  }
  tail_->offsets()[tail_used_++] = static_cast<std::uint32_t>(position - tail_->first());
  size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

PostingList::Cursor::Cursor(const PostingList& list, std::uint64_t count) : remaining_(count) {
  if (count > 0) EnterChunk(list.head_.load(std::memory_order_acquire));
}

void PostingList::Cursor::EnterChunk(const Chunk* chunk) {
  if (remaining_ == 0 || chunk == nullptr) {
    chunk_ = nullptr;
    return;
  }
  chunk_ = chunk;
  link_ = chunk->next.load(std::memory_order_acquire);
  index_ = 0;
  in_chunk_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(chunk->used(link_), remaining_));
  remaining_ -= in_chunk_;
}

std::int64_t PostingList::Cursor::position() const {
  return chunk_->first() + chunk_->offsets()[index_];
}

void PostingList::Cursor::Next() {
  if (++index_ == in_chunk_) EnterChunk(Chunk::Target(link_));
}

void PostingList::Cursor::SeekAtLeast(std::int64_t target) {
  // Skip whole chunks whose last counted entry is below the target.
  while (chunk_ != nullptr && chunk_->first() + chunk_->offsets()[in_chunk_ - 1] < target) {
    EnterChunk(Chunk::Target(link_));
  }
  if (chunk_ == nullptr || position() >= target) return;
  // Gallop from index_ to bracket the target, then binary search the bracket.
  const std::uint32_t* offsets = chunk_->offsets();
  auto offset_target = static_cast<std::uint32_t>(target - chunk_->first());
  std::uint32_t lo = index_;
  std::uint32_t step = 1;
  std::uint32_t hi = lo + step;
  while (hi < in_chunk_ && offsets[hi] < offset_target) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  hi = std::min(hi, in_chunk_ - 1);
  index_ = static_cast<std::uint32_t>(
      std::lower_bound(offsets + lo, offsets + hi + 1, offset_target) - offsets);
}

}  // namespace es
