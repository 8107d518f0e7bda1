// The conformance suite's performance cases (reference §5.2 and §5.5, `test_performance`) on
// every recorder built (PostgreSQL on a throwaway cluster started for the run), side by side in
// one run: 100 single-event inserts after 10 warm-up inserts (application recorder), and 100
// inserts of one event with a tracking record (process recorder). Each case runs `--rounds` times
// on a fresh recorder; the median round is reported. The "-aes" recorders encrypt event data
// (Options::key_provider, SqliteOptions::key_provider, PostgresOptions::key_provider).
//
//   recorder_bench [--rounds N]
//
// Output, one line per recorder and case:
//   <recorder>  <case>  <median us per insert>  <inserts per second>
#include <es/encryption.h>
#include <es/recorder.h>
#include <es/store.h>

#ifdef ES_WITH_SQLITE
#include <es/sqlite.h>
#endif

#ifdef ES_WITH_POSTGRES
#include <es/postgres.h>

#include "adapters/postgres/testing/throwaway_cluster.h"
#endif

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"

namespace {

using namespace es::bench;

// A fresh, empty recorder and whatever it lives in, removed when it is destroyed.
class FreshRecorder {
 public:
  virtual ~FreshRecorder() = default;
  virtual es::Recorder& recorder() = 0;
};

class MemoryRecorder final : public FreshRecorder {
 public:
  es::Recorder& recorder() override { return *recorder_; }

 private:
  std::unique_ptr<es::Recorder> recorder_ = es::NewInMemoryRecorder();
};

// A recorder in a scratch directory of its own.
class DirectoryRecorder final : public FreshRecorder {
 public:
  using Open = std::function<es::Result<std::unique_ptr<es::Recorder>>(const std::string& dir)>;

  explicit DirectoryRecorder(const Open& open) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto opened = open(dir_);
    Check(opened.status(), ("open in " + dir_).c_str());
    recorder_ = std::move(opened).value();
  }
  ~DirectoryRecorder() override {
    recorder_.reset();
    std::filesystem::remove_all(dir_);
  }
  es::Recorder& recorder() override { return *recorder_; }

 private:
  const std::string dir_ = ScratchDir("", "es-recorder-bench");
  std::unique_ptr<es::Recorder> recorder_;
};

struct RecorderKind {
  std::string name;
  std::function<std::unique_ptr<FreshRecorder>()> make;
};

// The key of the "-aes" kinds: every recorder encrypts event data with it.
std::shared_ptr<es::KeyProvider> Key(bool encrypted) {
  return encrypted ? es::FixedKeyProvider(std::string(32, 'k')) : nullptr;
}

std::function<std::unique_ptr<FreshRecorder>()> Engine(es::Durability durability,
                                                       bool encrypted = false) {
  return [durability, encrypted] {
    return std::make_unique<DirectoryRecorder>(
        [durability,
         encrypted](const std::string& dir) -> es::Result<std::unique_ptr<es::Recorder>> {
          es::Options options;
          options.durability = durability;
          options.key_provider = Key(encrypted);
          ES_ASSIGN_OR_RETURN(std::unique_ptr<es::Store> store,
                              es::Store::Open(options, dir + "/store"));
          return std::unique_ptr<es::Recorder>(std::move(store));
        });
  };
}

#ifdef ES_WITH_SQLITE
std::function<std::unique_ptr<FreshRecorder>()> Sqlite(es::Durability durability,
                                                       bool encrypted = false) {
  return [durability, encrypted] {
    return std::make_unique<DirectoryRecorder>([durability, encrypted](const std::string& dir) {
      es::SqliteOptions options;
      options.dbname = dir + "/events.sqlite";
      options.durability = durability;
      options.key_provider = Key(encrypted);
      return es::OpenSqliteRecorder(options);
    });
  };
}
#endif

#ifdef ES_WITH_POSTGRES
// A schema of its own on a throwaway cluster started once for the run (fsync on).
class PostgresRecorder final : public FreshRecorder {
 public:
  PostgresRecorder(es::postgres::testing::ThrowawayCluster& cluster, bool encrypted)
      : schema_(cluster) {
    es::PostgresOptions options = schema_.Options();
    options.key_provider = Key(encrypted);
    auto opened = es::OpenPostgresRecorder(options);
    Check(opened.status(), "open the PostgreSQL recorder");
    recorder_ = std::move(opened).value();
  }
  es::Recorder& recorder() override { return *recorder_; }

 private:
  es::postgres::testing::ThrowawaySchema schema_;  // dropped after the recorder below closes
  std::unique_ptr<es::Recorder> recorder_;
};
#endif

std::vector<RecorderKind> Kinds() {
  std::vector<RecorderKind> kinds = {
      {"memory", [] { return std::make_unique<MemoryRecorder>(); }},
      {"engine-sync", Engine(es::Durability::kSync)},
      {"engine-none", Engine(es::Durability::kNone)},
      {"engine-sync-aes", Engine(es::Durability::kSync, true)},
      {"engine-none-aes", Engine(es::Durability::kNone, true)},
  };
#ifdef ES_WITH_SQLITE
  kinds.push_back({"sqlite-sync", Sqlite(es::Durability::kSync)});
  kinds.push_back({"sqlite-none", Sqlite(es::Durability::kNone)});
  kinds.push_back({"sqlite-sync-aes", Sqlite(es::Durability::kSync, true)});
  kinds.push_back({"sqlite-none-aes", Sqlite(es::Durability::kNone, true)});
#endif
#ifdef ES_WITH_POSTGRES
  if (auto cluster = es::postgres::testing::ThrowawayCluster::Shared(); cluster.ok()) {
    for (bool encrypted : {false, true}) {
      kinds.push_back({encrypted ? "postgres-aes" : "postgres", [cluster = *cluster, encrypted] {
                         return std::make_unique<PostgresRecorder>(*cluster, encrypted);
                       }});
    }
  } else {
    std::fprintf(stderr, "recorder_bench: no PostgreSQL: %s\n",
                 cluster.status().ToString().c_str());
  }
#endif
  return kinds;
}

constexpr int kWarmUp = 10, kTimed = 100;

// Microseconds per insert of the timed inserts; each insert carries a tracking record (the
// process recorder's case) when `with_tracking`.
double TimeInserts(es::Recorder& recorder, bool with_tracking) {
  Clock::time_point start;
  for (int i = 0; i < kWarmUp + kTimed; ++i) {
    if (i == kWarmUp) start = Clock::now();
    std::vector<es::StoredEvent> events = {
        {"originator-" + std::to_string(i), 1, "topic", std::string(100, 's')}};
    Check(with_tracking ? recorder.InsertEvents(events, es::Tracking{"upstream", i + 1}).status()
                        : recorder.InsertEvents(events).status(),
          "insert");
  }
  return Micros(Clock::now() - start) / kTimed;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: recorder_bench [--rounds N]\n");
      return 2;
    }
  }
  if (rounds < 1) rounds = 1;
  const struct {
    const char* name;
    bool with_tracking;
  } cases[] = {{"application: 100 single-event inserts", false},
               {"process: 100 inserts with tracking", true}};
  for (const RecorderKind& kind : Kinds()) {
    for (const auto& c : cases) {
      std::vector<double> micros;
      for (int r = 0; r < rounds; ++r) {
        std::unique_ptr<FreshRecorder> fresh = kind.make();
        micros.push_back(TimeInserts(fresh->recorder(), c.with_tracking));
      }
      const double median = Median(micros);
      std::printf("%-12s  %-40s  %9.1f us/insert  %9.0f inserts/s\n", kind.name.c_str(), c.name,
                  median, 1e6 / median);
      std::fflush(stdout);
    }
  }
  return 0;
}
