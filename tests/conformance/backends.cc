#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "es/env.h"
#include "es/store.h"
#include "tests/conformance/fixture.h"

#ifdef ES_WITH_POSTGRES
#include <unistd.h>

#include <atomic>
#include <iostream>

#include "adapters/postgres/testing/throwaway_cluster.h"
#include "es/postgres.h"
#endif

namespace es::conformance {
namespace {

// The reference recorder lives only in memory: there is nothing to recover, so Restart() keeps it.
class InMemoryFixture final : public Fixture {
 public:
  Recorder& recorder() override { return *recorder_; }
  void Restart() override {}

 private:
  std::unique_ptr<Recorder> recorder_ = NewInMemoryRecorder();
};

// The engine on an in-memory Env or in a temporary directory. With `reopen`, Restart() closes the
// store and opens it again, so the case's next checks run on the recovered store.
class EngineFixture final : public Fixture {
 public:
  enum class Storage { kMemory, kPosix };

  EngineFixture(Storage storage, bool reopen, Durability durability) : reopen_(reopen) {
    options_.durability = durability;
    if (storage == Storage::kMemory) {
      env_ = NewMemEnv();
      options_.env = env_.get();
      dir_ = "/store";
    } else {
      std::string pattern = (std::filesystem::temp_directory_path() / "es-conf-XXXXXX").string();
      REQUIRE(mkdtemp(pattern.data()) != nullptr);
      temp_dir_ = pattern;
      dir_ = temp_dir_ + "/store";
    }
    Open();
  }
  ~EngineFixture() override {
    store_.reset();
    if (!temp_dir_.empty()) std::filesystem::remove_all(temp_dir_);
  }

  Recorder& recorder() override { return *store_; }
  void Restart() override {
    if (!reopen_) return;
    store_.reset();
    Open();
  }

 private:
  void Open() {
    auto store = Store::Open(options_, dir_);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    store_ = std::move(store).value();
  }

  const bool reopen_;
  Options options_;
  std::unique_ptr<Env> env_;
  std::string temp_dir_;
  std::string dir_;
  std::unique_ptr<Store> store_;
};

#ifdef ES_WITH_POSTGRES
using postgres::testing::ThrowawayCluster;

// A schema of its own on the process's throwaway cluster, dropped after the case, so cases start
// empty and independent. With `reopen`, Restart() closes the recorder (its pool and its listener)
// and opens a new one on the same tables.
class PostgresFixture final : public Fixture {
 public:
  explicit PostgresFixture(bool reopen) : reopen_(reopen) {
    Result<ThrowawayCluster*> cluster = ThrowawayCluster::Shared();
    REQUIRE_MESSAGE(cluster.ok(), cluster.status().ToString());
    cluster_ = *cluster;
    static std::atomic<int> fixtures{0};
    schema_ = "es_conformance_" + std::to_string(getpid()) + "_" + std::to_string(++fixtures);
    Open();
  }
  ~PostgresFixture() override {
    recorder_.reset();
    cluster_->Execute("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE").IgnoreError();
  }

  Recorder& recorder() override { return *recorder_; }
  void Restart() override {
    if (!reopen_) return;
    recorder_.reset();
    Open();
  }

 private:
  void Open() {
    auto recorder = OpenPostgresRecorder(cluster_->Options(schema_));
    REQUIRE_MESSAGE(recorder.ok(), recorder.status().ToString());
    recorder_ = std::move(recorder).value();
  }

  const bool reopen_;
  ThrowawayCluster* cluster_ = nullptr;
  std::string schema_;
  std::unique_ptr<Recorder> recorder_;
};

// True when the PostgreSQL backends run: the server binaries are there, or ES_REQUIRE_POSTGRES=1
// (then a cluster that cannot start fails every PostgreSQL case instead of skipping them).
bool PostgresAvailable() {
  Result<ThrowawayCluster*> cluster = ThrowawayCluster::Shared();
  if (cluster.ok() || ThrowawayCluster::RequiredByEnvironment()) return true;
  std::cerr << "skipping the PostgreSQL backends: " << cluster.status().ToString()
            << " (set ES_REQUIRE_POSTGRES=1 to fail instead)\n";
  return false;
}
#endif

template <typename... Args>
std::function<std::unique_ptr<Fixture>()> Engine(Args... args) {
  return [=]() -> std::unique_ptr<Fixture> { return std::make_unique<EngineFixture>(args...); };
}

}  // namespace

const std::vector<Backend>& Backends() {
  using Storage = EngineFixture::Storage;
  static const std::vector<Backend> backends = [] {
    std::vector<Backend> list = {
        {"memory",
         []() -> std::unique_ptr<Fixture> { return std::make_unique<InMemoryFixture>(); }},
        {"engine", Engine(Storage::kMemory, false, Durability::kNone)},
        {"engine-reopen", Engine(Storage::kMemory, true, Durability::kNone)},
        {"engine-posix-sync-reopen", Engine(Storage::kPosix, true, Durability::kSync)},
    };
#ifdef ES_WITH_POSTGRES
    if (PostgresAvailable()) {
      for (bool reopen : {false, true}) {
        list.push_back(
            {reopen ? "postgres-reopen" : "postgres", [reopen]() -> std::unique_ptr<Fixture> {
               return std::make_unique<PostgresFixture>(reopen);
             }});
      }
    }
#endif
    return list;
  }();
  return backends;
}

}  // namespace es::conformance
