// SegmentedVector<T>: an append-only array whose elements never move, readable by many threads
// while one writer appends.
//
// Elements live in fixed blocks of 2^kBlockBits; a directory of block pointers grows by copying,
// and retired directories are kept until destruction so that a reader holding an old one still
// finds every block it can see. Readers may access index i only after the writer published it
// (a release store the reader acquired, e.g. the store's head or a dictionary latch).
#ifndef ES_ENGINE_INDEX_SEGMENTED_VECTOR_H_
#define ES_ENGINE_INDEX_SEGMENTED_VECTOR_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace es {

template <typename T, unsigned kBlockBits = 10>
class SegmentedVector {
 public:
  static constexpr std::size_t kBlockSize = std::size_t{1} << kBlockBits;

  SegmentedVector() {
    directories_.push_back(NewDirectory(16));
    directory_.store(directories_.back().get(), std::memory_order_relaxed);
  }
  ~SegmentedVector() { FreeBlocks(); }
  SegmentedVector(const SegmentedVector&) = delete;
  SegmentedVector& operator=(const SegmentedVector&) = delete;

  // Writer only. Returns the new, value-initialised element at index size() - 1.
  T& EmplaceBack() {
    if (size_ == blocks_ * kBlockSize) AddBlock();
    T& slot = (*this)[size_];
    ++size_;
    return slot;
  }

  // Writer only, with no reader left: removes every element.
  void Clear() {
    FreeBlocks();
    directories_.clear();
    directories_.push_back(NewDirectory(16));
    directory_.store(directories_.back().get(), std::memory_order_relaxed);
    blocks_ = 0;
    size_ = 0;
  }

  // Writer only: the number of elements appended.
  std::size_t size() const { return size_; }

  T& operator[](std::size_t i) {
    return directory_.load(std::memory_order_acquire)
        ->blocks[i >> kBlockBits]
        .load(std::memory_order_acquire)[i & (kBlockSize - 1)];
  }
  const T& operator[](std::size_t i) const { return const_cast<SegmentedVector&>(*this)[i]; }

  // Heap bytes held (writer only).
  std::size_t MemoryBytes() const {
    std::size_t n = blocks_ * kBlockSize * sizeof(T);
    for (const auto& d : directories_) n += sizeof(Directory) + d->capacity * sizeof(void*);
    return n;
  }

 private:
  struct Directory {
    std::size_t capacity;
    std::unique_ptr<std::atomic<T*>[]> blocks;
  };

  static std::unique_ptr<Directory> NewDirectory(std::size_t capacity) {
    auto d = std::make_unique<Directory>();
    d->capacity = capacity;
    d->blocks = std::make_unique<std::atomic<T*>[]>(capacity);
    return d;
  }

  void FreeBlocks() {
    Directory* d = directory_.load(std::memory_order_relaxed);
    for (std::size_t b = 0; b < blocks_; ++b) delete[] d->blocks[b].load(std::memory_order_relaxed);
  }

  void AddBlock() {
    Directory* d = directory_.load(std::memory_order_relaxed);
    if (blocks_ == d->capacity) {
      auto bigger = NewDirectory(d->capacity * 2);
      for (std::size_t b = 0; b < blocks_; ++b) {
        bigger->blocks[b].store(d->blocks[b].load(std::memory_order_relaxed),
                                std::memory_order_relaxed);
      }
      d = bigger.get();
      directories_.push_back(std::move(bigger));
      directory_.store(d, std::memory_order_release);
    }
    d->blocks[blocks_].store(new T[kBlockSize](), std::memory_order_release);
    ++blocks_;
  }

  std::atomic<Directory*> directory_{nullptr};
  std::vector<std::unique_ptr<Directory>> directories_;  // the current one is last
  std::size_t blocks_ = 0;
  std::size_t size_ = 0;
};

}  // namespace es

#endif  // ES_ENGINE_INDEX_SEGMENTED_VECTOR_H_
