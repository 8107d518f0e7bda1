// Micro benchmark of the engine (issue 2): on a store preloaded with DCB-shaped events (256-byte
// data, one of 20 types, 1-3 tags, about 10 events per tag), durability none, measures
//   - the median latency of a single-event conditional append (one item: a type and a tag),
//   - the median latency of a one-tag read returning about 10 events,
//   - the throughput of unconditional 1,000-event appends,
//   - index bytes per event, and seconds to reopen (replaying the whole log).
// Prints one JSON object. Usage: micro_bench [--events N] [--dir DIR] [--samples N]
#include <es/store.h>

#include "bench/bench_util.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

using namespace es::bench;

int main(int argc, char** argv) {
  std::int64_t events = 1'000'000;
  int samples = 20'000;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--events")
      events = std::atoll(argv[i + 1]);
    else if (flag == "--samples")
      samples = std::atoi(argv[i + 1]);
    else if (flag == "--dir")
      dir = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: micro_bench [--events N] [--dir DIR] [--samples N]\n");
      return 2;
    }
  }
  bool temporary = dir.empty();
  dir = ScratchDir(dir, "es-micro");
  std::filesystem::remove_all(dir);

  es::Options options;
  options.durability = es::Durability::kNone;
  options.segment_bytes = 256ull << 20;
  DcbShape shape(events);

  auto opened = es::Store::Open(options, dir);
  Check(opened.status(), "open");
  std::unique_ptr<es::Store> store = std::move(opened).value();

  // Preload, and measure unconditional 1,000-event appends while doing it.
  std::vector<double> batch_rates;
  std::vector<es::Event> batch;
  for (std::int64_t done = 0; done < events; done += 1000) {
    batch.clear();
    for (int i = 0; i < 1000; ++i) batch.push_back(shape.Next());
    auto start = Clock::now();
    Check(store->Append(batch, std::nullopt).status(), "preload append");
    batch_rates.push_back(1000.0 / (Micros(Clock::now() - start) / 1e6));
  }

  es::StoreInfo preloaded = store->Info();

  // One-tag reads: each tag has about 10 events.
  std::vector<double> read_us;
  std::size_t read_events = 0;
  for (int i = 0; i < samples; ++i) {
    es::Query q{{es::QueryItem{{}, {shape.RandomTag()}}}};
    auto start = Clock::now();
    auto result = store->Read(q, {});
    read_us.push_back(Micros(Clock::now() - start));
    Check(result.status(), "read");
    read_events += result->events.size();
  }

  // Single-event conditional appends: "nothing of this type with this (new) tag after the head".
  std::vector<double> append_us;
  for (int i = 0; i < samples; ++i) {
    es::Event e = shape.Next();
    e.tags = {"fresh-" + std::to_string(i)};
    es::AppendCondition condition{{{es::QueryItem{{e.type}, {e.tags[0]}}}}, std::nullopt};
    std::vector<es::Event> one{std::move(e)};
    auto start = Clock::now();
    auto position = store->Append(one, condition);
    append_us.push_back(Micros(Clock::now() - start));
    Check(position.status(), "conditional append");
  }

  std::int64_t head = store->Info().head.value_or(0);
  store.reset();
  auto start = Clock::now();
  auto reopened = es::Store::Open(options, dir);
  double reopen_s = Micros(Clock::now() - start) / 1e6;
  Check(reopened.status(), "reopen");
  reopened->reset();
  if (temporary) std::filesystem::remove_all(dir);

  std::printf(
      "{\"events\":%lld,\"conditional_append_median_us\":%.3f,\"one_tag_read_median_us\":%.3f,"
      "\"one_tag_read_mean_events\":%.2f,\"append_1000_events_per_s_median\":%.0f,"
      "\"index_bytes_per_event_preloaded\":%.1f,\"reopen_s\":%.3f,\"tags\":%llu,\"segments\":%llu}"
      "\n",
      static_cast<long long>(head), Median(append_us), Median(read_us),
      static_cast<double>(read_events) / samples, Median(batch_rates),
      static_cast<double>(preloaded.index_bytes) / static_cast<double>(preloaded.head.value_or(1)),
      reopen_s, static_cast<unsigned long long>(preloaded.tag_count),
      static_cast<unsigned long long>(preloaded.segment_count));
  return 0;
}
