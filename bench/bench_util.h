// What the benchmark programs share: timing, medians, failing loudly, and the DCB-shaped events
// of the issue-2 workload (256-byte data, one of 20 types, 1-3 tags, about 10 events per tag).
#ifndef ES_BENCH_BENCH_UTIL_H_
#define ES_BENCH_BENCH_UTIL_H_

#include <es/store.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace es::bench {

using Clock = std::chrono::steady_clock;

inline double Micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}
inline double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Exits with the status on stderr: a benchmark that measured a failure measured nothing.
inline void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// The command line most benchmarks take: --events N, --runs N and --dir DIR, each optional.
struct BenchArgs {
  std::int64_t events = 0;
  int runs = 3;
  std::string dir;
};
// Parses them over `defaults`; prints `usage` and exits with status 2 on anything else.
inline BenchArgs ParseBenchArgs(int argc, char** argv, BenchArgs defaults, const char* usage) {
  BenchArgs args = std::move(defaults);
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 < argc && flag == "--events") {
      args.events = std::atoll(argv[i + 1]);
    } else if (i + 1 < argc && flag == "--runs") {
      args.runs = std::atoi(argv[i + 1]);
    } else if (i + 1 < argc && flag == "--dir") {
      args.dir = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: %s\n", usage);
      std::exit(2);
    }
  }
  if (args.events < 1 || args.runs < 1) {
    std::fprintf(stderr, "--events and --runs must be at least 1\nusage: %s\n", usage);
    std::exit(2);
  }
  return args;
}

// `dir`, or when it is empty a directory of this process's own under the system's temporary one.
inline std::string ScratchDir(const std::string& dir, const std::string& name) {
  if (!dir.empty()) return dir;
  return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid())))
      .string();
}

struct DcbShape {
  std::mt19937_64 rng{42};
  std::string data = std::string(256, 'x');
  std::int64_t tag_pool;  // distinct tags, so that each has about 10 events

  explicit DcbShape(std::int64_t events) : tag_pool(std::max<std::int64_t>(1, events * 2 / 10)) {}

  std::string Type() { return "Type" + std::to_string(rng() % 20); }
  std::string Tag(std::int64_t i) { return "entity-" + std::to_string(i); }
  std::string RandomTag() { return Tag(static_cast<std::int64_t>(rng() % tag_pool)); }
  Event Next() {
    Event e;
    e.type = Type();
    int tags = 1 + static_cast<int>(rng() % 3);
    for (int t = 0; t < tags; ++t) e.tags.push_back(RandomTag());
    e.data = data;
    return e;
  }
};

}  // namespace es::bench

#endif  // ES_BENCH_BENCH_UTIL_H_
