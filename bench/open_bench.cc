// Open-time benchmark (issue 3, bounded open): builds a store of DCB-shaped events (256-byte data,
// one of 20 types, 1-3 tags, about 10 events per tag; durability none, as micro_bench), syncs and
// closes it, which writes an index checkpoint, then opens it alternately from the checkpoint and
// with a forced full replay (Options::ignore_checkpoints), three times each, and prints one JSON
// object with the medians. Usage: open_bench [--events N] [--dir DIR] [--runs N]
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

namespace {

using namespace es::bench;

// Opens the store, checks what it loaded, and returns the seconds Open took.
double TimedOpen(const es::Options& options, const std::string& dir, bool from_checkpoint,
                 std::int64_t head, es::StoreInfo* info) {
  auto start = Clock::now();
  auto store = es::Store::Open(options, dir);
  double seconds = Seconds(Clock::now() - start);
  Check(store.status(), "open");
  *info = (*store)->Info();
  const bool loaded = info->checkpoint_loaded == head && info->replayed_events == 0;
  if (info->head != head || loaded != from_checkpoint) {
    std::fprintf(stderr, "open_bench: open %s checkpoint: head %lld, loaded %lld, replayed %llu\n",
                 from_checkpoint ? "with" : "without",
                 static_cast<long long>(info->head.value_or(0)),
                 static_cast<long long>(info->checkpoint_loaded.value_or(0)),
                 static_cast<unsigned long long>(info->replayed_events));
    std::exit(1);
  }
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const BenchArgs args = ParseBenchArgs(argc, argv, {.events = 10'000'000},
                                        "open_bench [--events N] [--dir DIR] [--runs N]");
  const std::int64_t events = args.events;
  const int runs = args.runs;
  std::string dir = args.dir;
  const bool temporary = dir.empty();
  dir = ScratchDir(dir, "es-open");
  std::filesystem::remove_all(dir);

  es::Options options;
  options.durability = es::Durability::kNone;
  options.segment_bytes = 256ull << 20;
  DcbShape shape(events);

  // Build: background checkpoints every checkpoint_interval_events, the last one at close.
  auto start = Clock::now();
  auto opened = es::Store::Open(options, dir);
  Check(opened.status(), "create");
  std::unique_ptr<es::Store> store = std::move(opened).value();
  std::vector<es::Event> batch;
  for (std::int64_t done = 0; done < events; done += 1000) {
    batch.clear();
    for (std::int64_t i = 0; i < std::min<std::int64_t>(1000, events - done); ++i) {
      batch.push_back(shape.Next());
    }
    Check(store->Append(batch, std::nullopt).status(), "append");
  }
  const double preload_s = Seconds(Clock::now() - start);
  Check(store->Sync(), "sync");
  const es::StoreInfo built = store->Info();
  const std::int64_t head = built.head.value_or(0);
  start = Clock::now();
  store.reset();
  const double close_s = Seconds(Clock::now() - start);

  // The newest checkpoint (names sort by position) is the one at the head, as the opens check.
  std::filesystem::path newest;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".ckpt" && entry.path() > newest) newest = entry.path();
  }
  if (newest.empty()) {
    std::fprintf(stderr, "open_bench: no checkpoint after close\n");
    return 1;
  }
  const std::uintmax_t checkpoint_bytes = std::filesystem::file_size(newest);

  // Alternate the two ways of opening, so that both see the same state of the page cache. Neither
  // writes a checkpoint at close.
  es::Options measured = options;
  measured.checkpoint_interval_events = 0;
  es::Options replay = measured;
  replay.ignore_checkpoints = true;
  std::vector<double> checkpoint_s, replay_s;
  es::StoreInfo from_checkpoint, from_replay;
  for (int run = 0; run < runs; ++run) {
    checkpoint_s.push_back(TimedOpen(measured, dir, true, head, &from_checkpoint));
    replay_s.push_back(TimedOpen(replay, dir, false, head, &from_replay));
  }
  if (from_checkpoint.tag_count != from_replay.tag_count ||
      from_checkpoint.type_count != from_replay.type_count ||
      from_checkpoint.log_bytes != from_replay.log_bytes) {
    std::fprintf(stderr, "open_bench: the two opens disagree on counts\n");
    return 1;
  }
  if (temporary) std::filesystem::remove_all(dir);

  const double checkpoint_median = Median(checkpoint_s);
  const double replay_median = Median(replay_s);
  std::printf(
      "{\"events\":%lld,\"segments\":%llu,\"tags\":%llu,\"log_bytes\":%llu,"
      "\"preload_s\":%.3f,\"background_checkpoints\":%llu,\"close_with_checkpoint_s\":%.3f,"
      "\"checkpoint_bytes\":%llu,\"open_checkpoint_median_s\":%.3f,"
      "\"open_replay_median_s\":%.3f,\"speedup\":%.1f,\"runs\":%d}\n",
      static_cast<long long>(head), static_cast<unsigned long long>(built.segment_count),
      static_cast<unsigned long long>(built.tag_count),
      static_cast<unsigned long long>(built.log_bytes), preload_s,
      static_cast<unsigned long long>(built.checkpoints_written), close_s,
      static_cast<unsigned long long>(checkpoint_bytes), checkpoint_median, replay_median,
      replay_median / checkpoint_median, runs);
  return 0;
}
