// Durable write benchmark of the engine (issue 3): group commit under concurrent writers.
//   - single-event conditional appends (each on its own boundary, durability sync) with 1, 4, 16
//     and 64 writer threads: appends/s and events per fdatasync;
//   - durable unconditional 1,000-event appends (256-byte data) from 1 and 4 threads: events/s.
// Both with the POSIX and the io_uring backend, run alternately so that they share the machine's
// mood. Each figure is the median of --runs runs of --seconds each, every run on a fresh store.
//   - segment rolls: one writer of single-event appends (256-byte data) through --rolls rolls,
//     with and without a spare segment made ahead (Options::prepare_spare_segment), durability
//     sync (8,192-event segments) and none (131,072-event segments, about 43 MB): the median
//     latency of an append that rolls against that of the others (POSIX backend).
// Prints one JSON object. Usage:
//   durable_bench [--dir DIR] [--seconds S] [--runs N] [--writers 1,4,16,64] [--rolls N]
#include <es/store.h>

#include "bench/bench_util.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace es::bench;

struct RunResult {
  double appends_per_s;
  double events_per_s;
  double events_per_sync;
};

// Runs `threads` writers for `seconds` on a fresh store; each append is made by `append(store,
// thread, i)` and returns how many events it wrote.
template <typename AppendFn>
RunResult Run(const std::string& dir, es::IoBackend backend, int threads, double seconds,
              AppendFn append) {
  std::filesystem::remove_all(dir);
  es::Options options;  // durability sync
  options.io_backend = backend;
  auto opened = es::Store::Open(options, dir);
  Check(opened.status(), "open");
  std::unique_ptr<es::Store> store = std::move(opened).value();

  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> appends{0};
  std::atomic<std::int64_t> events{0};
  std::vector<std::thread> workers;
  std::uint64_t syncs_before = store->Info().sync_count;
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        events.fetch_add(append(*store, t, i), std::memory_order_relaxed);
        appends.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::uint64_t syncs = store->Info().sync_count - syncs_before;
  store.reset();
  std::filesystem::remove_all(dir);
  return RunResult{
      static_cast<double>(appends) / elapsed, static_cast<double>(events) / elapsed,
      static_cast<double>(events) / static_cast<double>(std::max<std::uint64_t>(1, syncs))};
}

struct RollResult {
  double append_us;       // median latency of the appends that did not roll
  double roll_append_us;  // median latency of the appends that rolled
  double roll_append_max_us;
};

// One writer appends single events until `rolls` segments have been added after the first.
RollResult MeasureRolls(const std::string& dir, es::Durability durability, bool spare, int rolls) {
  std::filesystem::remove_all(dir);
  es::Options options;
  options.io_backend = es::IoBackend::kPosix;
  options.durability = durability;
  options.prepare_spare_segment = spare;
  options.checkpoint_interval_events = 0;  // its syncs would land on random appends
  // Segments fill by their event cap, so that the appends that roll are known by position.
  options.segment_events = durability == es::Durability::kSync ? 8192 : 131072;
  options.max_write_events = 1;
  auto opened = es::Store::Open(options, dir);
  Check(opened.status(), "open");
  std::unique_ptr<es::Store> store = std::move(opened).value();
  const es::Event event{.type = "Appended", .data = std::string(256, 'x'), .tags = {"t"}};
  std::vector<double> plain, rolled;
  while (static_cast<int>(rolled.size()) < rolls) {
    auto start = Clock::now();
    auto position = store->Append(std::span<const es::Event>(&event, 1), std::nullopt);
    double us = Micros(Clock::now() - start);
    Check(position.status(), "append");
    const bool rolls_here = *position > 1 && (*position - 1) % options.segment_events == 0;
    (rolls_here ? rolled : plain).push_back(us);
  }
  store.reset();
  std::filesystem::remove_all(dir);
  return RollResult{Median(plain), Median(rolled), *std::max_element(rolled.begin(), rolled.end())};
}

std::vector<int> ParseList(const std::string& text) {
  std::vector<int> values;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) values.push_back(std::atoi(item.c_str()));
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  double seconds = 2;
  int runs = 3;
  int rolls = 5;
  std::vector<int> writer_counts = {1, 4, 16, 64};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--dir") {
      dir = argv[i + 1];
    } else if (flag == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else if (flag == "--runs") {
      runs = std::atoi(argv[i + 1]);
    } else if (flag == "--writers") {
      writer_counts = ParseList(argv[i + 1]);
    } else if (flag == "--rolls" && std::atoi(argv[i + 1]) >= 0) {
      rolls = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr,
                   "usage: durable_bench [--dir DIR] [--seconds S] [--runs N] [--writers LIST] "
                   "[--rolls N]\n");
      return 2;
    }
  }
  dir = ScratchDir(dir, "es-durable");
  const std::string data(256, 'x');

  // Each writer appends on its own boundary: the condition "nothing with my tag since I last
  // wrote" over a tag no other writer uses.
  auto conditional = [&](es::Store& store, int thread, std::int64_t i) -> std::int64_t {
    std::string tag = "writer-" + std::to_string(thread) + "-" + std::to_string(i);
    es::Event event{.type = "Subscribed", .data = data, .tags = {tag}};
    es::AppendCondition condition{{{es::QueryItem{{"Subscribed"}, {tag}}}}, std::nullopt};
    Check(store.Append(std::span<const es::Event>(&event, 1), condition).status(), "append");
    return 1;
  };
  auto bulk = [&](es::Store& store, int thread, std::int64_t i) -> std::int64_t {
    thread_local std::vector<es::Event> batch;
    batch.resize(1000);
    for (int k = 0; k < 1000; ++k) {
      batch[k] = es::Event{.type = "Imported",
                           .data = data,
                           .tags = {"batch-" + std::to_string(thread) + "-" + std::to_string(i)}};
    }
    Check(store.Append(batch, std::nullopt).status(), "bulk append");
    return 1000;
  };

  struct Backend {
    const char* name;
    es::IoBackend backend;
  };
  const Backend backends[] = {{"posix", es::IoBackend::kPosix},
                              {"io_uring", es::IoBackend::kIoUring}};
  // One workload: per backend, the median over alternating runs of `metric`.
  auto measure = [&](int threads, auto append, auto metric) {
    std::vector<double> figures[2], per_sync[2];
    for (int r = 0; r < runs; ++r) {
      for (int b = 0; b < 2; ++b) {
        RunResult result = Run(dir, backends[b].backend, threads, seconds, append);
        figures[b].push_back(metric(result));
        per_sync[b].push_back(result.events_per_sync);
      }
    }
    return std::array<std::pair<double, double>, 2>{
        {{Median(figures[0]), Median(per_sync[0])}, {Median(figures[1]), Median(per_sync[1])}}};
  };
  auto appends_per_s = [](const RunResult& r) { return r.appends_per_s; };
  auto events_per_s = [](const RunResult& r) { return r.events_per_s; };

  std::printf("{\"seconds_per_run\":%g,\"runs\":%d,\"conditional\":[", seconds, runs);
  double one_writer[2] = {0, 0};
  for (std::size_t w = 0; w < writer_counts.size(); ++w) {
    auto figures = measure(writer_counts[w], conditional, appends_per_s);
    for (int b = 0; b < 2; ++b) {
      if (writer_counts[w] == 1) one_writer[b] = figures[b].first;
      std::printf(
          "%s{\"backend\":\"%s\",\"writers\":%d,\"appends_per_s\":%.0f,"
          "\"events_per_fdatasync\":%.1f",
          w + b ? "," : "", backends[b].name, writer_counts[w], figures[b].first,
          figures[b].second);
      if (one_writer[b] > 0) std::printf(",\"vs_1_writer\":%.1f", figures[b].first / one_writer[b]);
      std::printf("}");
    }
    std::fflush(stdout);
  }
  std::printf("],\"bulk_1000\":[");
  const int bulk_threads[] = {1, 4};
  for (int t = 0; t < 2; ++t) {
    auto figures = measure(bulk_threads[t], bulk, events_per_s);
    for (int b = 0; b < 2; ++b) {
      std::printf(
          "%s{\"backend\":\"%s\",\"writers\":%d,\"events_per_s\":%.0f,"
          "\"events_per_fdatasync\":%.0f}",
          t + b ? "," : "", backends[b].name, bulk_threads[t], figures[b].first, figures[b].second);
    }
  }
  std::printf("],\"rolls\":[");
  bool first = true;
  // --rolls 0 leaves the roll measurement out.
  for (const es::Durability durability : {es::Durability::kSync, es::Durability::kNone}) {
    for (const bool spare : {true, false}) {
      if (rolls == 0) break;
      RollResult result = MeasureRolls(dir, durability, spare, rolls);
      std::printf(
          "%s{\"durability\":\"%s\",\"spare\":%s,\"append_us_median\":%.1f,"
          "\"roll_append_us_median\":%.0f,\"roll_append_us_max\":%.0f}",
          first ? "" : ",", durability == es::Durability::kSync ? "sync" : "none",
          spare ? "true" : "false", result.append_us, result.roll_append_us,
          result.roll_append_max_us);
      first = false;
      std::fflush(stdout);
    }
  }
  std::printf("]}\n");
  return 0;
}
