#include "engine/cache/decoded_event_cache.h"

#include <utility>

#include "engine/format/event_entry.h"

namespace es {
namespace {

// What the hash map node, the shared block's control part and the allocator's headers cost beyond
// the entry's bytes, roughly, as libstdc++ and glibc lay them out.
constexpr std::size_t kEntryOverhead = sizeof(std::pair<const std::int64_t, int>) + 96;

}  // namespace

DecodedEventCache::DecodedEventCache(std::size_t capacity_bytes)
    : capacity_bytes_(capacity_bytes), shard_capacity_(capacity_bytes / kShards) {}

DecodedEventCache::~DecodedEventCache() = default;

std::size_t DecodedEventCache::ChargeOf(const Event& event) {
  std::size_t size = 0;
  if (!EventEntrySize(event, &size).ok()) return 0;
  return size + kEntryOverhead;
}

void DecodedEventCache::Shard::Unlink(Cached* cached) {
  (cached->newer != nullptr ? cached->newer->older : newest) = cached->older;
  (cached->older != nullptr ? cached->older->newer : oldest) = cached->newer;
  cached->newer = cached->older = nullptr;
}

void DecodedEventCache::Shard::PushNewest(Cached* cached) {
  cached->older = newest;
  cached->newer = nullptr;
  (newest != nullptr ? newest->newer : oldest) = cached;
  newest = cached;
}

bool DecodedEventCache::Lookup(std::int64_t position, Event* event) {
  Shard& shard = ShardOf(position);
  std::shared_ptr<const char[]> entry;
  std::size_t length = 0;
  {
    std::lock_guard lock(shard.mutex);
    auto found = shard.by_position.find(position);
    if (found != shard.by_position.end()) {
      Cached* cached = &found->second;
      if (shard.newest != cached) {
        shard.Unlink(cached);
        shard.PushNewest(cached);
      }
      entry = cached->entry;
      length = cached->length;
    }
  }
  EventView view;
  std::size_t parsed = 0;
  // Encoded by Insert, so it parses; were it not to, the log has the event.
  if (entry == nullptr || !ParseEventEntry(entry.get(), length, &view, &parsed).ok()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  *event = ToEvent(view);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void DecodedEventCache::Insert(std::int64_t position, const Event& event) {
  std::size_t length = 0;
  if (!EventEntrySize(event, &length).ok()) return;
  const std::size_t charge = length + kEntryOverhead;
  if (charge > shard_capacity_) return;
  std::shared_ptr<char[]> entry = std::make_shared_for_overwrite<char[]>(length);
  EncodeEventEntry(event, position, /*salt=*/0, entry.get());
  Shard& shard = ShardOf(position);
  std::lock_guard lock(shard.mutex);
  auto [slot, added] = shard.by_position.try_emplace(position);
  Cached* cached = &slot->second;
  if (!added) {
    shard.charge -= cached->charge;
    shard.Unlink(cached);
  }
  cached->entry = std::move(entry);
  cached->length = length;
  cached->charge = charge;
  cached->position = position;
  shard.PushNewest(cached);
  shard.charge += charge;
  while (shard.charge > shard_capacity_) {
    Cached* oldest = shard.oldest;
    shard.charge -= oldest->charge;
    shard.Unlink(oldest);
    shard.by_position.erase(oldest->position);
  }
}

std::size_t DecodedEventCache::charge() const {
  std::size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.charge;
  }
  return total;
}

}  // namespace es
