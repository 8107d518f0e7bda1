// The course-subscriptions speedrun (reference §6): each iteration registers N courses (N places
// each) and N students (a limit of N courses each), then joins every student to every course:
// N + N + N * N operations (120 for N = 10), each one command of the enrolment application
// (examples/coursebooking). Prints a report in the shape of the Python library's speedrun: a line
// per second with the iterations and operations so far, microseconds per operation and
// operations per second (both averaged since the start), and the events in the store at start
// and end; then the store's own summary. It first measures this machine's fdatasync latency, so
// that durable figures can be read against the physical limit of the same run.
//
//   speedrun [--mode dcb|agg] [--store DIR|sqlite:PATH|postgresql://...|postgres|memory]
//            [--seconds S] [--durability sync|buffered|none] [--preload EVENTS] [--courses N]
//            [--json] [--compare STORE]
//
// --store: a store directory (created if missing, kept afterwards), "sqlite:PATH" for the SQLite
// recorder on the database file PATH (kept afterwards), a postgresql:// URI for the PostgreSQL
// recorder on that server, "postgres" for it on a throwaway PostgreSQL cluster started for the run
// (initdb in a temporary directory, fsync on, removed at the end), or "memory" for the in-memory
// reference recorder; the default is a fresh engine store in a temporary directory, removed at
// the end. --compare STORE runs the same speedrun on a second store right after the first (both
// reports, then one line with the two median us/op and their ratio), for side-by-side figures
// from one invocation. --durability applies to the engine and SQLite; PostgreSQL commits as its
// server is configured (synchronous_commit on: every commit flushed).
// --preload grows the store first with the events of whole iterations, appended in bulk without
// conditions (durability none), so that a run can start on a large store.
#include <es/recorder.h>
#include <es/store.h>
#include <fcntl.h>
#include <unistd.h>

#ifdef ES_WITH_SQLITE
#include <es/sqlite.h>
#include <sqlite3.h>
#endif

#ifdef ES_WITH_POSTGRES
#include <es/postgres.h>

#include "adapters/postgres/testing/throwaway_cluster.h"
#endif

#include "bench/bench_util.h"
#include "examples/coursebooking/aggregate_enrolment.h"
#include "examples/coursebooking/dcb_enrolment.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace es::bench;
using coursebooking::Enrolment;

struct Config {
  std::string mode = "dcb";
  std::string store;    // empty: a fresh temporary directory
  std::string compare;  // empty: none; else a second store run the same way after the first
  double seconds = 10;
  std::string durability = "sync";
  std::int64_t preload = 0;
  int courses = 10;  // N
  bool json = false;
};

[[noreturn]] void Usage(const char* problem) {
  std::fprintf(stderr,
               "speedrun: %s\nusage: speedrun [--mode dcb|agg] "
               "[--store DIR|sqlite:PATH|postgresql://...|postgres|memory] [--seconds S] "
               "[--durability sync|buffered|none] [--preload EVENTS] [--courses N] [--json] "
               "[--compare STORE]\n",
               problem);
  std::exit(2);
}

Config ParseArgs(int argc, char** argv) {
  Config config;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--json") {
      config.json = true;
      continue;
    }
    if (flag == "-h" || flag == "--help") Usage("the course-subscriptions speedrun");
    if (i + 1 >= argc) Usage(("missing value after " + flag).c_str());
    std::string value = argv[++i];
    if (flag == "--mode") {
      config.mode = value;
    } else if (flag == "--store") {
      config.store = value;
    } else if (flag == "--compare") {
      config.compare = value;
    } else if (flag == "--seconds") {
      config.seconds = std::atof(value.c_str());
    } else if (flag == "--durability") {
      config.durability = value;
    } else if (flag == "--preload") {
      config.preload = std::atoll(value.c_str());
    } else if (flag == "--courses") {
      config.courses = std::atoi(value.c_str());
    } else {
      Usage(("unknown option " + flag).c_str());
    }
  }
  if (config.mode != "dcb" && config.mode != "agg") Usage("--mode must be dcb or agg");
  if (config.durability != "sync" && config.durability != "buffered" &&
      config.durability != "none") {
    Usage("--durability must be sync, buffered or none");
  }
  if (config.seconds <= 0) Usage("--seconds must be positive");
  if (config.preload < 0) Usage("--preload must not be negative");
  if (config.courses < 1 || config.courses > 1000) Usage("--courses must be 1 to 1000");
  return config;
}

es::Durability DurabilityOf(const std::string& name) {
  if (name == "none") return es::Durability::kNone;
  if (name == "buffered") return es::Durability::kBuffered;
  return es::Durability::kSync;
}

// The median latency, in microseconds, of an 8 KiB pwrite followed by fdatasync, in a file of
// its own in `dir`.
double MeasureFdatasync(const std::string& dir) {
  const std::string path = dir + "/speedrun-fdatasync-probe-" + std::to_string(::getpid());
  int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror(("open " + path).c_str());
    std::exit(1);
  }
  std::vector<char> block(8192, 'x');
  std::vector<double> micros;
  for (int i = 0; i < 100; ++i) {
    auto start = Clock::now();
    if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>(i) * 8192) < 0 ||
        ::fdatasync(fd) != 0) {
      std::perror(("write and sync " + path).c_str());
      std::exit(1);
    }
    micros.push_back(Micros(Clock::now() - start));
  }
  ::close(fd);
  ::unlink(path.c_str());
  return Median(micros);
}

// Appends the events of whole iterations until the store holds at least `events` more, in
// batches of one iteration, unconditionally and without syncing: what the speedrun itself would
// have written, minus the reads.
void Preload(es::Recorder& recorder, const std::string& mode, int n, std::int64_t events) {
  std::int64_t written = 0;
  std::vector<es::Event> batch;
  const es::WriteOptions unsynced{es::Durability::kNone};
  while (written < events) {
    batch.clear();
    std::vector<std::string> students, courses;
    for (int i = 0; i < n; ++i) students.push_back(coursebooking::NewId("student"));
    for (int i = 0; i < n; ++i) courses.push_back(coursebooking::NewId("course"));
    if (mode == "dcb") {
      for (const std::string& s : students) {
        batch.push_back({.type = coursebooking::kStudentRegistered,
                         .data = coursebooking::EncodeRegistration({"student", n}),
                         .tags = {s}});
      }
      for (const std::string& c : courses) {
        batch.push_back({.type = coursebooking::kCourseRegistered,
                         .data = coursebooking::EncodeRegistration({"course", n}),
                         .tags = {c}});
      }
      for (const std::string& s : students) {
        for (const std::string& c : courses) {
          batch.push_back({.type = coursebooking::kStudentJoinedCourse, .tags = {s, c}});
        }
      }
    } else {
      const auto stream = [&](const std::string& id, const char* registered, const char* joined,
                              const std::vector<std::string>& others, const char* name) {
        batch.push_back({.type = registered,
                         .data = coursebooking::EncodeRegistration({name, n}),
                         .stream = es::StreamVersion{id, 1}});
        for (std::size_t k = 0; k < others.size(); ++k) {
          batch.push_back({.type = joined,
                           .data = others[k],
                           .stream = es::StreamVersion{id, static_cast<std::int64_t>(k) + 2}});
        }
      };
      for (const std::string& s : students) {
        stream(s, coursebooking::kStudentRegisteredTopic, coursebooking::kStudentJoinedTopic,
               courses, "student");
      }
      for (const std::string& c : courses) {
        stream(c, coursebooking::kCourseRegisteredTopic, coursebooking::kCourseAcceptedTopic,
               students, "course");
      }
    }
    Check(recorder.Write({.events = batch, .options = unsynced}).status(), "preload");
    written += static_cast<std::int64_t>(batch.size());
  }
}

std::int64_t EventCount(es::Recorder& recorder) {
  auto head = recorder.Head();
  Check(head.status(), "head");
  return head->value_or(0);
}

std::string Thousands(std::int64_t value) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits;
}

// The speedrun on one store (named as --store names it): its report, and its median us/op.
double RunSpeedrun(const Config& config, const std::string& store_name) {
  const bool in_memory = store_name == "memory";
  const bool sqlite = store_name.starts_with("sqlite:");
  const bool postgres = store_name == "postgres" || store_name.starts_with("postgresql://") ||
                        store_name.starts_with("postgres://");
  const bool temporary = store_name.empty();
  const std::string dir = temporary ? ScratchDir("", "es-speedrun") : store_name;

  std::unique_ptr<es::Recorder> recorder;
  es::Store* store = nullptr;
  std::string backend;
  if (in_memory) {
    recorder = es::NewInMemoryRecorder();
    backend = "in-memory reference recorder";
  } else if (sqlite) {
#ifdef ES_WITH_SQLITE
    auto options = es::SqliteOptionsFromUri(store_name);
    Check(options.status(), "--store");
    options->durability = DurabilityOf(config.durability);
    auto opened = es::OpenSqliteRecorder(*options);
    Check(opened.status(), ("open " + store_name).c_str());
    recorder = std::move(opened).value();
    backend = std::string("SQLite ") + sqlite3_libversion() +
              " recorder (WAL, synchronous=" + (config.durability == "sync" ? "FULL" : "NORMAL") +
              ")";
#else
    Usage("this speedrun was built without the SQLite recorder");
#endif
  } else if (postgres) {
#ifdef ES_WITH_POSTGRES
    es::PostgresOptions options;
    if (store_name == "postgres") {
      auto cluster = es::postgres::testing::ThrowawayCluster::Shared();
      Check(cluster.status(), "start a throwaway PostgreSQL cluster");
      options = (*cluster)->Options("speedrun");
    } else {
      auto parsed = es::PostgresOptionsFromUri(store_name);
      Check(parsed.status(), "--store");
      options = *parsed;
    }
    auto opened = es::OpenPostgresRecorder(options);
    Check(opened.status(), ("open " + store_name).c_str());
    recorder = std::move(opened).value();
    backend = "PostgreSQL recorder on " + options.host + ":" + std::to_string(options.port) +
              (store_name == "postgres" ? " (throwaway cluster, fsync on)" : "");
#else
    Usage("this speedrun was built without the PostgreSQL recorder");
#endif
  } else {
    es::Options options;
    options.durability = DurabilityOf(config.durability);
    auto opened = es::Store::Open(options, dir);
    Check(opened.status(), ("open " + dir).c_str());
    store = opened->get();
    recorder = std::move(opened).value();
    backend = "engine (es::Store), I/O backend " + store->Info().io_backend;
  }
  // Beside the store, on its file system: a store directory holds only the store's own files.
  const std::string probe_dir =
      in_memory || postgres
          ? std::filesystem::temp_directory_path().string()
          : std::filesystem::absolute(sqlite ? dir.substr(7) : dir).parent_path().string();
  const double fdatasync_us = MeasureFdatasync(probe_dir);

  std::unique_ptr<Enrolment> enrolment;
  if (config.mode == "dcb") {
    enrolment = std::make_unique<coursebooking::DcbEnrolment>(*recorder);
  } else {
    enrolment = std::make_unique<coursebooking::AggregateEnrolment>(*recorder);
  }
  const int n = config.courses;
  const int ops_per_iteration = n + n + n * n;

  if (config.preload > 0) {
    auto start = Clock::now();
    Preload(*recorder, config.mode, n, config.preload);
    if (store != nullptr) Check(store->Sync(), "sync after preload");
    std::printf("Preloaded %s events in %.1f s\n", Thousands(config.preload).c_str(),
                Seconds(Clock::now() - start));
  }

  std::printf("Dynamic Consistency Boundaries Speed Run: Course Subscriptions\n");
  std::printf("==============================================================\n\n");
  std::printf("Per iteration: %d courses, %d students (%d ops)\n\n", n, n, ops_per_iteration);
  std::printf("Running '%s' mode: %s\n", config.mode.c_str(),
              config.mode == "dcb" ? "DcbEnrolment" : "AggregateEnrolment");
  std::printf("    backend: %s\n", backend.c_str());
  if (!in_memory) std::printf("    store: %s%s\n", dir.c_str(), temporary ? " (temporary)" : "");
  std::printf("    durability: %s\n", in_memory  ? "n/a (memory)"
                                      : postgres ? "the server's (synchronous_commit)"
                                                 : config.durability.c_str());
  std::printf("    fdatasync latency here: %.0f us (median of 100 8 KiB writes)\n\n", fdatasync_us);
  const std::int64_t events_at_start = EventCount(*recorder);
  std::printf("Events in store at start:  %s events\n\n", Thousands(events_at_start).c_str());
  std::printf("Stopping after: %gs\n\n", config.seconds);
  std::fflush(stdout);

  std::int64_t iterations = 0;
  std::int64_t ops = 0;
  std::vector<double> interval_us_per_op;  // per reported second
  const auto start = Clock::now();
  auto last_report = start;
  std::int64_t ops_at_last_report = 0;
  int reported_seconds = 0;
  std::vector<std::string> students(n), courses(n);
  const auto count_op = [&] {
    ++ops;
    const auto now = Clock::now();
    if (Seconds(now - start) < reported_seconds + 1) return;
    ++reported_seconds;
    const double elapsed_us = Micros(now - start);
    std::printf(" [0:%02d:%02ds]  %10lld iterations  %10lld ops  %8.0f us/op  %8.0f ops/s\n",
                reported_seconds / 60, reported_seconds % 60, static_cast<long long>(iterations),
                static_cast<long long>(ops), elapsed_us / static_cast<double>(ops),
                static_cast<double>(ops) * 1e6 / elapsed_us);
    std::fflush(stdout);
    interval_us_per_op.push_back(Micros(now - last_report) /
                                 static_cast<double>(ops - ops_at_last_report));
    last_report = now;
    ops_at_last_report = ops;
  };
  while (Seconds(Clock::now() - start) < config.seconds) {
    for (int i = 0; i < n; ++i) {
      auto id = enrolment->RegisterCourse("course " + std::to_string(i), n);
      Check(id.status(), "register course");
      courses[i] = std::move(id).value();
      count_op();
    }
    for (int i = 0; i < n; ++i) {
      auto id = enrolment->RegisterStudent("student " + std::to_string(i), n);
      Check(id.status(), "register student");
      students[i] = std::move(id).value();
      count_op();
    }
    for (const std::string& student : students) {
      for (const std::string& course : courses) {
        coursebooking::JoinOutcome outcome = enrolment->JoinCourse(student, course);
        if (!outcome.ok()) {
          std::fprintf(stderr, "join refused (%s): %s\n",
                       std::string(coursebooking::RefusalName(outcome.refusal)).c_str(),
                       outcome.status.ToString().c_str());
          std::exit(1);
        }
        count_op();
      }
    }
    ++iterations;
  }
  const double elapsed = Seconds(Clock::now() - start);
  const std::int64_t events_at_end = EventCount(*recorder);
  std::printf("\nEvents in store at end:  %s events  (%s new)\n", Thousands(events_at_end).c_str(),
              Thousands(events_at_end - events_at_start).c_str());

  if (store != nullptr) {
    // The store as the next process would find it: closed (synced, checkpointed) and reopened.
    const std::uint64_t syncs = store->Info().sync_count;
    recorder.reset();
    const auto reopen_start = Clock::now();
    auto reopened = es::Store::Open(es::Options{}, dir);
    Check(reopened.status(), ("reopen " + dir).c_str());
    const double reopen_ms = Micros(Clock::now() - reopen_start) / 1000;
    const es::StoreInfo info = (*reopened)->Info();
    std::printf(
        "\nStore summary (%llu fdatasyncs of the log during the run; closed, then reopened in "
        "%.0f ms %s, replaying %llu events):\n"
        "    head %lld, durable head %lld, writer epoch %llu, I/O backend %s\n"
        "    %llu segments, %.1f MB of log, %.1f MB of index memory\n"
        "    %llu types, %llu tags, %llu streams\n",
        static_cast<unsigned long long>(syncs), reopen_ms,
        info.checkpoint_loaded
            ? ("from the index checkpoint at " + std::to_string(*info.checkpoint_loaded)).c_str()
            : "without a checkpoint",
        static_cast<unsigned long long>(info.replayed_events),
        static_cast<long long>(info.head.value_or(0)),
        static_cast<long long>(info.durable_head.value_or(0)),
        static_cast<unsigned long long>(info.writer_epoch), info.io_backend.c_str(),
        static_cast<unsigned long long>(info.segment_count), info.log_bytes / 1e6,
        info.index_bytes / 1e6, static_cast<unsigned long long>(info.type_count),
        static_cast<unsigned long long>(info.tag_count),
        static_cast<unsigned long long>(info.stream_count));
  }
  if (config.json) {
    std::printf(
        "{\"mode\":\"%s\",\"backend\":\"%s\",\"durability\":\"%s\",\"courses\":%d,"
        "\"fdatasync_us\":%.1f,\"events_at_start\":%lld,\"events_at_end\":%lld,"
        "\"iterations\":%lld,\"ops\":%lld,\"seconds\":%.3f,\"us_per_op\":%.2f,"
        "\"us_per_op_median_second\":%.2f}\n",
        config.mode.c_str(),
        in_memory  ? "memory"
        : sqlite   ? "sqlite"
        : postgres ? "postgres"
                   : "engine",
        in_memory ? "n/a" : config.durability.c_str(), n, fdatasync_us,
        static_cast<long long>(events_at_start), static_cast<long long>(events_at_end),
        static_cast<long long>(iterations), static_cast<long long>(ops), elapsed,
        elapsed * 1e6 / static_cast<double>(ops),
        interval_us_per_op.empty() ? elapsed * 1e6 / static_cast<double>(ops)
                                   : Median(interval_us_per_op));
  }
  recorder.reset();
  if (temporary) std::filesystem::remove_all(dir);
  return interval_us_per_op.empty() ? elapsed * 1e6 / static_cast<double>(ops)
                                    : Median(interval_us_per_op);
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = ParseArgs(argc, argv);
  const double us_per_op = RunSpeedrun(config, config.store);
  if (config.compare.empty()) return 0;
  std::printf("\n\n");
  const double compared_us_per_op = RunSpeedrun(config, config.compare);
  const std::string first = config.store.empty() ? "engine (temporary store)" : config.store;
  std::printf("\nSide by side: %s %.1f us/op, %s %.1f us/op (median seconds): %.2fx\n",
              first.c_str(), us_per_op, config.compare.c_str(), compared_us_per_op,
              compared_us_per_op / us_per_op);
  if (config.json) {
    std::printf(
        "{\"compare\":{\"first_us_per_op\":%.2f,\"second_us_per_op\":%.2f,"
        "\"ratio\":%.3f}}\n",
        us_per_op, compared_us_per_op, compared_us_per_op / us_per_op);
  }
  return 0;
}
