// Decoded events by position, for stores whose events must be decrypted or decompressed before
// they can be read (Options::decoded_cache_bytes). An event at a position never changes once
// written, so an entry is never stale: the cache only has to stay within its memory bound.
#ifndef ES_ENGINE_CACHE_DECODED_EVENT_CACHE_H_
#define ES_ENGINE_CACHE_DECODED_EVENT_CACHE_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "es/event.h"

namespace es {

// Thread-safe. Each event is kept as one block holding its plain, uncompressed event entry
// (docs/format.md, "Event entry"), which a hit decodes outside any lock as a plain store's read
// decodes the log. Positions are spread over shards, each with its own lock and its own share of
// the capacity, which it keeps by dropping its least recently used events.
class DecodedEventCache {
 public:
  explicit DecodedEventCache(std::size_t capacity_bytes);
  ~DecodedEventCache();

  DecodedEventCache(const DecodedEventCache&) = delete;
  DecodedEventCache& operator=(const DecodedEventCache&) = delete;

  // Sets *event to the event at `position` and returns true when it is kept; a hit makes it the
  // shard's most recently used.
  bool Lookup(std::int64_t position, Event* event);

  // Keeps `event` as the one at `position` (replacing any), then drops least recently used events
  // until the shard is within its share. An event charged more than a shard's share, or one no
  // store could hold (Status of EventEntrySize), is not kept.
  void Insert(std::int64_t position, const Event& event);

  // The memory an event is charged: its encoded entry and the cache's bookkeeping around it.
  static std::size_t ChargeOf(const Event& event);

  std::size_t capacity_bytes() const { return capacity_bytes_; }
  // Sum of the charges of the events held.
  std::size_t charge() const;
  std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  struct Cached {
    std::shared_ptr<const char[]> entry;  // shared so that a hit decodes it outside the lock
    std::size_t length = 0;
    std::size_t charge = 0;
    // The shard's recency list, most recently used at its head.
    Cached* newer = nullptr;
    Cached* older = nullptr;
    std::int64_t position = 0;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::int64_t, Cached> by_position;  // nodes never move
    Cached* newest = nullptr;
    Cached* oldest = nullptr;
    std::size_t charge = 0;

    void Unlink(Cached* cached);
    void PushNewest(Cached* cached);
  };
  static constexpr std::size_t kShards = 16;

  Shard& ShardOf(std::int64_t position) {
    return shards_[static_cast<std::uint64_t>(position) % kShards];
  }

  const std::size_t capacity_bytes_;
  const std::size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

}  // namespace es

#endif  // ES_ENGINE_CACHE_DECODED_EVENT_CACHE_H_
