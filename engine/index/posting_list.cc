#include "engine/index/posting_list.h"

#include <algorithm>
#include <limits>
#include <new>

namespace es {

struct PostingList::Chunk {
  std::atomic<Chunk*> next{nullptr};
  std::int64_t base = 0;
  std::uint32_t capacity = 0;
  std::uint32_t* offsets() { return reinterpret_cast<std::uint32_t*>(this + 1); }
  const std::uint32_t* offsets() const { return reinterpret_cast<const std::uint32_t*>(this + 1); }

  static std::size_t Bytes(std::uint32_t capacity) {
    return sizeof(Chunk) + capacity * sizeof(std::uint32_t);
  }
};

namespace {
constexpr std::uint32_t kFirstChunk = 4;
constexpr std::uint32_t kMaxChunk = 1u << 16;
}  // namespace

PostingList::~PostingList() {
  Chunk* c = head_.load(std::memory_order_relaxed);
  while (c != nullptr) {
    Chunk* next = c->next.load(std::memory_order_relaxed);
    c->~Chunk();
    ::operator delete(c);
    c = next;
  }
}

std::size_t PostingList::Append(std::int64_t position) {
  if (position == last_ && size_.load(std::memory_order_relaxed) > 0) return 0;
  std::size_t allocated = 0;
  if (tail_ == nullptr || tail_used_ == tail_->capacity ||
      static_cast<std::uint64_t>(position - tail_->base) >
          std::numeric_limits<std::uint32_t>::max()) {
    std::uint32_t capacity =
        tail_ == nullptr ? kFirstChunk : std::min(tail_->capacity * 2, kMaxChunk);
    allocated = Chunk::Bytes(capacity);
    auto* chunk = new (::operator new(allocated)) Chunk();
    chunk->base = position;
    chunk->capacity = capacity;
    if (tail_ == nullptr) {
      head_.store(chunk, std::memory_order_release);
    } else {
      tail_->next.store(chunk, std::memory_order_release);
    }
    tail_ = chunk;
    tail_used_ = 0;
  }
  tail_->offsets()[tail_used_++] = static_cast<std::uint32_t>(position - tail_->base);
  last_ = position;
  size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  return allocated;
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
  index_ = 0;
  in_chunk_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(chunk->capacity, remaining_));
  remaining_ -= in_chunk_;
}

std::int64_t PostingList::Cursor::position() const {
  return chunk_->base + chunk_->offsets()[index_];
}

void PostingList::Cursor::Next() {
  if (++index_ == in_chunk_) EnterChunk(chunk_->next.load(std::memory_order_acquire));
}

void PostingList::Cursor::SeekAtLeast(std::int64_t target) {
  // Skip whole chunks whose last counted entry is below the target.
  while (chunk_ != nullptr && chunk_->base + chunk_->offsets()[in_chunk_ - 1] < target) {
    EnterChunk(chunk_->next.load(std::memory_order_acquire));
  }
  if (chunk_ == nullptr || position() >= target) return;
  // Gallop from index_ to bracket the target, then binary search the bracket.
  const std::uint32_t* offsets = chunk_->offsets();
  auto offset_target = static_cast<std::uint32_t>(target - chunk_->base);
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
