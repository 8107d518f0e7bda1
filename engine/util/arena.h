// Arena: a bump allocator for index memory that lives as long as the index (posting chunks).
// Single-threaded: only the writer allocates. Memory is released when the arena is destroyed.
#ifndef ES_ENGINE_UTIL_ARENA_H_
#define ES_ENGINE_UTIL_ARENA_H_

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

namespace es {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // `bytes` of uninitialised memory aligned to 8.
  void* Allocate(std::size_t bytes) {
    bytes = (bytes + 7) & ~std::size_t{7};
    if (bytes > remaining_) {
      std::size_t block = std::max(kBlockSize, bytes);
      blocks_.push_back(std::make_unique_for_overwrite<std::byte[]>(block));
      next_ = blocks_.back().get();
      remaining_ = block;
      allocated_ += block;
    }
    void* result = next_;
    next_ += bytes;
    remaining_ -= bytes;
    return result;
  }

  // Frees every allocation at once (nothing allocated may be used afterwards).
  void Clear() {
    blocks_.clear();
    next_ = nullptr;
    remaining_ = 0;
    allocated_ = 0;
  }

  // Bytes obtained from the heap.
  std::size_t MemoryBytes() const { return allocated_ + blocks_.capacity() * sizeof(void*); }

 private:
  static constexpr std::size_t kBlockSize = 256 * 1024;

  std::vector<std::unique_ptr<std::byte[]>> blocks_;
  std::byte* next_ = nullptr;
  std::size_t remaining_ = 0;
  std::size_t allocated_ = 0;
};

}  // namespace es

#endif  // ES_ENGINE_UTIL_ARENA_H_
