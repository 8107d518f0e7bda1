// esload and esdump export, the binaries, on N events (issue 5's benchmark): events/s each way.
//
//   tools_bench [--events N] [--runs R] [--dir DIR]
//
// Writes N DCB-shaped events (bench_util.h: one of 20 types, 1-3 tags, 256 bytes of data) as
// export lines (data as data_b64, as `esdump export | esload` moves them) to a file, then R times:
// `esload STORE FILE` into a fresh store (one unconditional event per line: esload appends them in
// batches and syncs once at the end), then `esdump STORE export` to a file. Prints one JSON object
// with the medians:
//   {"events":N,"runs":R,"esload_events_per_s":...,"export_events_per_s":...,
//    "input_bytes":...,"export_bytes":...}
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "engine/crypto/base64.h"

namespace {

using namespace es::bench;

// Runs `command` through the shell and returns its wall time in seconds; exits on failure.
double TimeCommand(const std::string& command) {
  const auto start = Clock::now();
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "tools_bench: failed: %s\n", command.c_str());
    std::exit(1);
  }
  return Seconds(Clock::now() - start);
}

void WriteInput(const std::string& path, std::int64_t events) {
  std::ofstream out(path, std::ios::trunc);
  DcbShape shape(events);
  for (std::int64_t i = 0; i < events; ++i) {
    const es::Event event = shape.Next();
    out << R"({"type":")" << event.type << R"(","tags":[)";
    for (std::size_t t = 0; t < event.tags.size(); ++t) {
      out << (t > 0 ? "," : "") << '"' << event.tags[t] << '"';
    }
    out << R"(],"data_b64":")" << es::Base64Encode(event.data) << "\"}\n";
  }
  if (!out) {
    std::fprintf(stderr, "tools_bench: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const BenchArgs args = ParseBenchArgs(argc, argv, {.events = 1'000'000},
                                        "tools_bench [--events N] [--runs R] [--dir DIR]");
  const std::int64_t events = args.events;
  const int runs = args.runs;
  const std::string dir = ScratchDir(args.dir, "es-tools-bench");
  std::filesystem::create_directories(dir);
  const std::string input = dir + "/input.jsonl", store = dir + "/store",
                    exported = dir + "/export.jsonl";
  WriteInput(input, events);
  std::vector<double> load_rates, export_rates;
  for (int run = 0; run < runs; ++run) {
    std::filesystem::remove_all(store);
    const double load =
        TimeCommand(std::string(ES_ESLOAD) + " " + store + " " + input + " > /dev/null");
    const double dump = TimeCommand(std::string(ES_ESDUMP) + " " + store + " export > " + exported);
    load_rates.push_back(static_cast<double>(events) / load);
    export_rates.push_back(static_cast<double>(events) / dump);
  }
  std::printf(
      "{\"events\":%lld,\"runs\":%d,\"esload_events_per_s\":%.0f,\"export_events_per_s\":%.0f,"
      "\"input_bytes\":%llu,\"export_bytes\":%llu}\n",
      static_cast<long long>(events), runs, Median(load_rates), Median(export_rates),
      static_cast<unsigned long long>(std::filesystem::file_size(input)),
      static_cast<unsigned long long>(std::filesystem::file_size(exported)));
  std::filesystem::remove_all(dir);
  return 0;
}
