// DecodedEventCache: hits and misses, replacement, the memory bound kept by dropping the least
// recently used, and threads inserting and looking up at once.
#include "engine/cache/decoded_event_cache.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace es {
namespace {

Event MakeEvent(std::int64_t n, std::size_t data_bytes = 200) {
  Event event;
  event.type = "Type" + std::to_string(n % 7);
  event.data = std::string(data_bytes, static_cast<char>('a' + n % 26));
  event.tags = {"tag-" + std::to_string(n), "a-longer-tag-that-is-not-short-" + std::to_string(n)};
  event.stream = StreamVersion{"stream-" + std::to_string(n % 5), n};
  Uuid uuid{};
  uuid[3] = static_cast<std::uint8_t>(n);
  event.uuid = uuid;
  event.metadata = {{"key", "value"}, {"n", std::to_string(n)}};
  return event;
}

bool Has(DecodedEventCache& cache, std::int64_t position) {
  Event ignored;
  return cache.Lookup(position, &ignored);
}

TEST_CASE("decoded event cache: a miss, then the event kept whole, then replaced") {
  DecodedEventCache cache(1 << 20);
  Event found;
  CHECK_FALSE(cache.Lookup(7, &found));
  cache.Insert(7, MakeEvent(7));
  REQUIRE(cache.Lookup(7, &found));
  CHECK(found == MakeEvent(7));
  // Every field, absent ones too.
  const Event bare{.type = "T"};
  cache.Insert(8, bare);
  REQUIRE(cache.Lookup(8, &found));
  CHECK(found == bare);
  CHECK_FALSE(cache.Lookup(9, &found));
  CHECK(cache.hits() == 2);
  CHECK(cache.misses() == 2);
  CHECK(cache.charge() ==
        DecodedEventCache::ChargeOf(MakeEvent(7)) + DecodedEventCache::ChargeOf(bare));

  cache.Insert(7, MakeEvent(9));
  REQUIRE(cache.Lookup(7, &found));
  CHECK(found == MakeEvent(9));
  CHECK(cache.charge() ==
        DecodedEventCache::ChargeOf(MakeEvent(9)) + DecodedEventCache::ChargeOf(bare));
}

TEST_CASE("decoded event cache: charges count every byte held") {
  const std::size_t small = DecodedEventCache::ChargeOf(MakeEvent(1, 10));
  const std::size_t large = DecodedEventCache::ChargeOf(MakeEvent(1, 10'000));
  CHECK(large == small + 10'000 - 10);
  CHECK(small > 10 + 4 + 2 * 30);
}

TEST_CASE("decoded event cache: stays within its capacity, dropping the least recently used") {
  const std::size_t charge = DecodedEventCache::ChargeOf(MakeEvent(0));
  // Room for 4 events in each of the 16 shards, with some to spare.
  const std::size_t capacity = 16 * 4 * charge + 16 * charge / 2;
  DecodedEventCache cache(capacity);
  // Position 0 and those 16 apart share a shard: the shard holds 4 of them.
  for (std::int64_t i = 0; i < 4; ++i) cache.Insert(16 * i, MakeEvent(16 * i));
  REQUIRE(Has(cache, 0));           // now the most recently used of its shard
  cache.Insert(64, MakeEvent(64));  // drops position 16, the least recently used
  CHECK_FALSE(Has(cache, 16));
  CHECK(Has(cache, 0));
  CHECK(Has(cache, 32));
  CHECK(Has(cache, 48));
  CHECK(Has(cache, 64));
  // Replacing one keeps the count.
  cache.Insert(48, MakeEvent(48));
  CHECK(Has(cache, 0));
  CHECK(Has(cache, 32));

  for (std::int64_t i = 0; i < 10'000; ++i) cache.Insert(i, MakeEvent(i));
  CHECK(cache.charge() <= capacity);
  CHECK(cache.charge() >= capacity / 2);
  // The latest are there; the earliest went.
  Event found;
  for (std::int64_t i = 10'000 - 16 * 4; i < 10'000; ++i) {
    REQUIRE(cache.Lookup(i, &found));
    CHECK(found == MakeEvent(i));
  }
  CHECK_FALSE(Has(cache, 0));
}

TEST_CASE("decoded event cache: an event larger than a shard's share is not kept") {
  DecodedEventCache cache(16 * 1024);
  cache.Insert(1, MakeEvent(1, 2048));
  CHECK_FALSE(Has(cache, 1));
  CHECK(cache.charge() == 0);
  DecodedEventCache none(0);
  none.Insert(1, MakeEvent(1, 1));
  CHECK_FALSE(Has(none, 1));
}

TEST_CASE("decoded event cache: threads insert and look up the same positions at once") {
  const std::size_t charge = DecodedEventCache::ChargeOf(MakeEvent(0));
  DecodedEventCache cache(200 * charge);  // far fewer than the positions used: constant dropping
  constexpr std::int64_t kPositions = 2'000;
  std::atomic<bool> wrong{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Event found;
      for (int round = 0; round < 3; ++round) {
        for (std::int64_t i = 0; i < kPositions; ++i) {
          const std::int64_t position = (i * (t + 1) + round) % kPositions;
          if (cache.Lookup(position, &found)) {
            if (found != MakeEvent(position)) wrong = true;
          } else {
            cache.Insert(position, MakeEvent(position));
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK_FALSE(wrong.load());
  CHECK(cache.charge() <= 200 * charge);
  CHECK(cache.hits() + cache.misses() == 4 * 3 * kPositions);
}

}  // namespace
}  // namespace es
