#include <doctest/doctest.h>

#include <memory>
#include <optional>

#include "engine/testing/test_dir.h"
#include "es/encryption.h"
#include "es/env.h"
#include "es/store.h"
#include "tests/conformance/fixture.h"

#ifdef ES_WITH_SQLITE
#include "es/sqlite.h"
#endif

#ifdef ES_WITH_POSTGRES
#include <iostream>

#include "adapters/postgres/testing/throwaway_cluster.h"
#include "es/postgres.h"
#endif

namespace es::conformance {
namespace {

// A recorder that `open` opens again on Restart() when the backend persists (`reopen`), so the
// case's next checks run on what was recovered. `storage` keeps alive what the recorder lives in
// (a temporary directory, an in-memory Env); it outlives the recorder.
class OpeningFixture final : public Fixture {
 public:
  using Opener = std::function<Result<std::unique_ptr<Recorder>>()>;

  OpeningFixture(std::shared_ptr<void> storage, Opener open, bool reopen)
      : storage_(std::move(storage)), open_(std::move(open)), reopen_(reopen) {
    Open();
  }

  Recorder& recorder() override { return *recorder_; }
  void Restart() override {
    if (!reopen_) return;
    recorder_.reset();
    Open();
  }

 private:
  void Open() {
    auto recorder = open_();
    REQUIRE_MESSAGE(recorder.ok(), recorder.status().ToString());
    recorder_ = std::move(recorder).value();
  }

  const std::shared_ptr<void> storage_;
  const Opener open_;
  const bool reopen_;
  std::unique_ptr<Recorder> recorder_;
};

std::unique_ptr<Fixture> InMemory() {
  // The reference recorder lives only in memory: there is nothing to recover.
  return std::make_unique<OpeningFixture>(
      nullptr, [] { return Result<std::unique_ptr<Recorder>>(NewInMemoryRecorder()); }, false);
}

Result<std::unique_ptr<Recorder>> OpenStore(const Options& options, const std::string& dir) {
  ES_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(options, dir));
  return std::unique_ptr<Recorder>(std::move(store));
}

enum class Storage { kMemory, kFile };

Options WithDurability(Durability durability) {
  Options options;
  options.durability = durability;
  return options;
}

// Every event's data compressed, however short, wherever it shrinks.
Options Compressed() {
  Options options;
  options.durability = Durability::kNone;
  options.compression = Compression::kZstd;
  options.compression_min_bytes = 0;
  return options;
}

// Every event encrypted (docs/encryption.md), and compressed first where it shrinks.
Options Encrypted() {
  Options options = Compressed();
  options.key_provider = FixedKeyProvider(std::string(32, 'c'));
  return options;
}

// The engine on an in-memory Env or in a temporary directory.
std::function<std::unique_ptr<Fixture>()> Engine(Storage storage, bool reopen, Options options) {
  return [=]() -> std::unique_ptr<Fixture> {
    if (storage == Storage::kMemory) {
      std::shared_ptr<Env> env = NewMemEnv();
      Options in_env = options;
      in_env.env = env.get();
      return std::make_unique<OpeningFixture>(
          env, [in_env] { return OpenStore(in_env, "/store"); }, reopen);
    }
    auto dir = std::make_shared<testing::TempDir>();
    return std::make_unique<OpeningFixture>(
        dir, [options, path = dir->path() + "/store"] { return OpenStore(options, path); }, reopen);
  };
}

#ifdef ES_WITH_SQLITE
// SQLite in a private in-memory database, or in a file of a temporary directory.
std::function<std::unique_ptr<Fixture>()> Sqlite(Storage storage, bool reopen,
                                                 bool encrypted = false) {
  return [=]() -> std::unique_ptr<Fixture> {
    SqliteOptions options;
    if (encrypted) {
      options.compression = Compression::kZstd;
      options.key_provider = FixedKeyProvider(std::string(32, 's'));
    }
    std::shared_ptr<testing::TempDir> dir;
    if (storage == Storage::kMemory) {
      options.dbname = ":memory:";
    } else {
      dir = std::make_shared<testing::TempDir>();
      options.dbname = dir->path() + "/events.sqlite";
    }
    return std::make_unique<OpeningFixture>(
        dir, [options] { return OpenSqliteRecorder(options); }, reopen);
  };
}
#endif

#ifdef ES_WITH_POSTGRES
using postgres::testing::ThrowawayCluster;
using postgres::testing::ThrowawaySchema;

// A schema of its own on the process's throwaway cluster, so that cases start empty. With
// `reopen`, Restart() closes the recorder (its pool and its listener) and opens a new one on the
// same tables. `encrypted`: data compressed and data and metadata sealed.
std::function<std::unique_ptr<Fixture>()> Postgres(bool reopen, bool encrypted = false) {
  return [=]() -> std::unique_ptr<Fixture> {
    Result<ThrowawayCluster*> cluster = ThrowawayCluster::Shared();
    REQUIRE_MESSAGE(cluster.ok(), cluster.status().ToString());
    auto schema = std::make_shared<ThrowawaySchema>(**cluster);
    PostgresOptions options = schema->Options();
    if (encrypted) {
      options.compression = Compression::kZstd;
      options.key_provider = FixedKeyProvider(std::string(32, 'p'));
    }
    return std::make_unique<OpeningFixture>(
        schema, [options] { return OpenPostgresRecorder(options); }, reopen);
  };
}

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

}  // namespace

const std::vector<Backend>& Backends() {
  static const std::vector<Backend> backends = [] {
    std::vector<Backend> list = {
        {"memory", InMemory},
        {"engine", Engine(Storage::kMemory, false, WithDurability(Durability::kNone))},
        {"engine-reopen", Engine(Storage::kMemory, true, WithDurability(Durability::kNone))},
        {"engine-posix-sync-reopen",
         Engine(Storage::kFile, true, WithDurability(Durability::kSync))},
        {"engine-zstd-reopen", Engine(Storage::kMemory, true, Compressed())},
        {"engine-zstd-aes-reopen", Engine(Storage::kMemory, true, Encrypted())},
#ifdef ES_WITH_SQLITE
        {"sqlite-memory", Sqlite(Storage::kMemory, false)},
        {"sqlite-file-reopen", Sqlite(Storage::kFile, true)},
        {"sqlite-file-zstd-aes-reopen", Sqlite(Storage::kFile, true, /*encrypted=*/true)},
#endif
    };
#ifdef ES_WITH_POSTGRES
    if (PostgresAvailable()) {
      list.push_back({"postgres", Postgres(false)});
      list.push_back({"postgres-reopen", Postgres(true)});
      list.push_back({"postgres-zstd-aes-reopen", Postgres(true, /*encrypted=*/true)});
    }
#endif
    return list;
  }();
  return backends;
}

}  // namespace es::conformance
