// The decoded-event cache of a store that encrypts or compresses (Options::decoded_cache_bytes):
// reads give the same events whether they come from the cache or from the log, writes and reads
// fill it, stream reads keep their version bounds, and readers race a writer through it.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/cache/decoded_event_cache.h"
#include "engine/testing/test_dir.h"
#include "es/encryption.h"
#include "es/store.h"

namespace es {
namespace {

constexpr char kDir[] = "/store";

// The event at position `n` of these tests: everything in it follows from n.
Event NumberedEvent(std::int64_t n) {
  std::string data;
  while (data.size() < 256) data += "{\"event\":" + std::to_string(n) + ",\"course\":\"c-7\"},";
  Event event = testing::MakeEvent("Numbered", {"all", "n:" + std::to_string(n % 10)}, data);
  event.stream = StreamVersion{"stream-" + std::to_string(n % 3), n};
  event.metadata = {{"n", std::to_string(n)}};
  return event;
}

struct Codec {
  std::string_view name;
  bool encrypted;
  Compression compression;
};
constexpr Codec kCodecs[] = {{"aes", true, Compression::kNone},
                             {"zstd", false, Compression::kZstd},
                             {"zstd+aes", true, Compression::kZstd}};

Options OptionsFor(Env* env, const Codec& codec) {
  Options options;
  options.env = env;
  options.durability = Durability::kNone;
  options.checkpoint_interval_events = 0;
  options.prepare_spare_segment = false;
  options.segment_bytes = 4 << 20;
  options.max_write_bytes = options.segment_bytes / 2;
  options.compression = codec.compression;
  if (codec.encrypted) options.key_provider = FixedKeyProvider(std::string(32, 'K'));
  return options;
}

std::unique_ptr<Store> OpenOk(const Options& options) {
  auto store = Store::Open(options, kDir);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  return std::move(store).value();
}

std::vector<SequencedEvent> ReadAll(Store& store) {
  Result<ReadResult> read = store.Read(Query{}, {});
  REQUIRE_MESSAGE(read.ok(), read.status().ToString());
  return std::move(read->events);
}

// Appends NumberedEvent(1 .. last) in writes of `per_write` events (last a multiple of it).
void AppendNumbered(Store& store, std::int64_t last, std::int64_t per_write) {
  for (std::int64_t n = 1; n <= last; n += per_write) {
    std::vector<Event> write;
    for (std::int64_t i = n; i < n + per_write; ++i) write.push_back(NumberedEvent(i));
    REQUIRE(store.Append(write, std::nullopt).ok());
  }
}

std::vector<SequencedEvent> Expected(std::int64_t first, std::int64_t last) {
  std::vector<SequencedEvent> events;
  for (std::int64_t n = first; n <= last; ++n) events.push_back({n, NumberedEvent(n)});
  return events;
}

TEST_CASE("decoded cache: reads are the same from the cache as from the log, for every codec") {
  constexpr std::int64_t kEvents = 60;
  for (const Codec& codec : kCodecs) {
    CAPTURE(codec.name);
    std::unique_ptr<Env> env = NewMemEnv();
    Options options = OptionsFor(env.get(), codec);
    {
      auto store = OpenOk(options);
      AppendNumbered(*store, kEvents, 3);
      // Every write kept its events: the first read finds them all.
      CHECK(store->Info().decoded_cache_bytes > 0);
      CHECK(ReadAll(*store) == Expected(1, kEvents));
      CHECK(store->Info().decoded_cache_hits == kEvents);
      CHECK(store->Info().decoded_cache_misses == 0);
    }
    {
      // A new open starts empty: the first read decodes and keeps, the second finds.
      auto store = OpenOk(options);
      CHECK(store->Info().decoded_cache_bytes == 0);
      CHECK(ReadAll(*store) == Expected(1, kEvents));
      CHECK(store->Info().decoded_cache_misses == kEvents);
      CHECK(ReadAll(*store) == Expected(1, kEvents));
      CHECK(store->Info().decoded_cache_hits == kEvents);
      // Queries select the same events from either.
      Result<ReadResult> some = store->Read(Query{{testing::Item({}, {"n:4"})}}, {.after = 20});
      REQUIRE(some.ok());
      std::vector<SequencedEvent> expected;
      for (std::int64_t n = 24; n <= kEvents; n += 10) expected.push_back({n, NumberedEvent(n)});
      CHECK(some->events == expected);
    }
    for (bool cached : {false, true}) {
      // Stream reads keep their version bounds whether the events come from the cache or not.
      CAPTURE(cached);
      auto store = OpenOk(options);
      if (cached) ReadAll(*store);
      Result<std::vector<SequencedEvent>> stream =
          store->ReadStream("stream-1", {.gt = 10, .lte = 40, .desc = true});
      REQUIRE(stream.ok());
      std::vector<SequencedEvent> expected;
      for (std::int64_t n = 40; n > 10; --n) {
        if (n % 3 == 1) expected.push_back({n, NumberedEvent(n)});
      }
      CHECK(*stream == expected);
    }
    {
      options.decoded_cache_bytes = 0;
      auto store = OpenOk(options);
      CHECK(ReadAll(*store) == Expected(1, kEvents));
      CHECK(ReadAll(*store) == Expected(1, kEvents));
      const StoreInfo info = store->Info();
      CHECK(info.decoded_cache_bytes == 0);
      CHECK(info.decoded_cache_hits == 0);
      CHECK(info.decoded_cache_misses == 0);
    }
    {
      // Room for about 3 events per shard: reads still give everything, within the bound.
      const std::size_t bound = 16 * 3 * DecodedEventCache::ChargeOf(NumberedEvent(1));
      options.decoded_cache_bytes = bound;
      auto store = OpenOk(options);
      for (int round = 0; round < 2; ++round) CHECK(ReadAll(*store) == Expected(1, kEvents));
      CHECK(store->Info().decoded_cache_bytes <= bound);
      CHECK(store->Info().decoded_cache_bytes > 0);
    }
  }
}

TEST_CASE("decoded cache: reads of more than 100 events find kept events but keep none") {
  constexpr std::int64_t kEvents = 150;
  for (const Codec& codec : kCodecs) {
    CAPTURE(codec.name);
    std::unique_ptr<Env> env = NewMemEnv();
    Options options = OptionsFor(env.get(), codec);
    { AppendNumbered(*OpenOk(options), kEvents, 1); }
    auto store = OpenOk(options);
    auto misses = [&] { return store->Info().decoded_cache_misses; };
    auto hits = [&] { return store->Info().decoded_cache_hits; };
    // A scan, twice: nothing kept.
    for (int round = 1; round <= 2; ++round) CHECK(ReadAll(*store) == Expected(1, kEvents));
    CHECK(misses() == 2 * kEvents);
    CHECK(store->Info().decoded_cache_bytes == 0);
    // Stream 0 holds 50 events (kept), stream 1 as many (also), all three 150: a scan.
    auto stream = store->ReadStream("stream-0", {});
    REQUIRE(stream.ok());
    CHECK(stream->size() == kEvents / 3);
    CHECK(store->ReadStream("stream-0", {}).ok());
    CHECK(hits() == kEvents / 3);
    // A read of 100 events keeps them; the scan after finds those, and stream 0's 17 after them.
    Result<ReadResult> page = store->Read(Query{}, {.limit = 100});
    REQUIRE(page.ok());
    CHECK(page->events == Expected(1, 100));
    const std::uint64_t hits_before = hits();
    CHECK(ReadAll(*store) == Expected(1, kEvents));
    CHECK(hits() == hits_before + 100 + 17);
  }
}

TEST_CASE("decoded cache: a store that neither encrypts nor compresses has none") {
  std::unique_ptr<Env> env = NewMemEnv();
  Options options = OptionsFor(env.get(), {"none", false, Compression::kNone});
  auto store = OpenOk(options);
  REQUIRE(store->Append(std::vector<Event>{NumberedEvent(1)}, std::nullopt).ok());
  CHECK(ReadAll(*store) == Expected(1, 1));
  const StoreInfo info = store->Info();
  CHECK(info.decoded_cache_bytes == 0);
  CHECK(info.decoded_cache_hits + info.decoded_cache_misses == 0);
}

TEST_CASE("decoded cache: readers race a writer through a cache that keeps dropping events") {
  constexpr std::int64_t kEvents = 1'500;
  for (const Codec& codec : kCodecs) {
    CAPTURE(codec.name);
    std::unique_ptr<Env> env = NewMemEnv();
    Options options = OptionsFor(env.get(), codec);
    options.decoded_cache_bytes = 16 * 4 * DecodedEventCache::ChargeOf(NumberedEvent(1));
    auto store = OpenOk(options);
    std::atomic<bool> done{false};
    std::atomic<int> wrong{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
      readers.emplace_back([&, r] {
        std::int64_t after = 0;
        while (!done.load() || after < kEvents) {
          // One reader follows the head; the other rereads older events by tag.
          Result<ReadResult> read =
              r == 0 ? store->Read(Query{}, {.after = after, .limit = 50})
                     : store->Read(Query{{testing::Item({}, {"n:" + std::to_string(after % 10)})}},
                                   {.limit = 50});
          if (!read.ok()) {
            ++wrong;
            return;
          }
          for (const SequencedEvent& e : read->events) {
            if (e.event != NumberedEvent(e.position)) ++wrong;
          }
          if (r == 0 && !read->events.empty()) after = read->events.back().position;
          if (r == 1) after = (after + 1) % kEvents + (done.load() ? kEvents : 0);
        }
      });
    }
    AppendNumbered(*store, kEvents, 2);
    done = true;
    for (std::thread& reader : readers) reader.join();
    CHECK(wrong.load() == 0);
    CHECK(store->Info().decoded_cache_bytes <= options.decoded_cache_bytes);
  }
}

}  // namespace
}  // namespace es
