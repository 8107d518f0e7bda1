// What a STORE argument of esdump and esload names (design.md §8): an engine store directory, or
// the URI of another recorder ("sqlite:PATH", "postgresql://user:password@host:port/db?...").
#ifndef ES_TOOLS_COMMON_STORE_NAME_H_
#define ES_TOOLS_COMMON_STORE_NAME_H_

#include <es/options.h>
#include <es/recorder.h>
#include <es/store.h>

#ifdef ES_WITH_SQLITE
#include <es/sqlite.h>
#endif
#ifdef ES_WITH_POSTGRES
#include <es/postgres.h>
#endif

#include <memory>
#include <string>
#include <string_view>

namespace es::tools {

struct OpenedStore {
  std::unique_ptr<Recorder> recorder;
  Store* engine = nullptr;  // the same object when `name` was an engine store directory
  std::string backend;      // "engine", "sqlite" or "postgres"
};

// Opens the store `name` names. With `read_only` (esdump), an engine store is opened read-only
// (Options::read_only) and a SQLite database or PostgreSQL schema must already hold the tables
// (nothing is created);
// otherwise (esload) the store or database is created when missing. An engine store takes its
// options from the environment (OptionsFromEnvironment: CIPHER_KEY, COMPRESSOR_TOPIC), and
// `key_base64` (base64 of its key, as CIPHER_KEY), when not empty, overrides CIPHER_KEY.
// InvalidArgument for a URI of a recorder this build lacks.
Result<OpenedStore> OpenStoreNamed(std::string_view name, bool read_only,
                                   std::string_view key_base64 = {});

#ifdef ES_WITH_SQLITE
// The options OpenStoreNamed opens the "sqlite:" URI `name` with: compression and key from
// `engine` (EngineOptions). With `read_only`, NotFound for a database file that does not exist
// (SQLite would create it) and no tables created.
Result<SqliteOptions> SqliteOptionsNamed(std::string_view name, bool read_only,
                                         const Options& engine);
#endif

#ifdef ES_WITH_POSTGRES
// The options OpenStoreNamed opens the "postgresql://" URI `name` with: compression and key from
// `engine` (EngineOptions). With `read_only`, no tables are created and no key id is recorded.
Result<PostgresOptions> PostgresOptionsNamed(std::string_view name, bool read_only,
                                             const Options& engine);
#endif

// `name` with the password of a "scheme://user:password@host..." URI left out, for output.
std::string WithoutPassword(std::string_view name);

// The engine options OpenStoreNamed opens a store directory with: OptionsFromEnvironment, then
// `read_only`, no decoded-event cache, and the key of `key_base64` (when not empty).
Result<Options> EngineOptions(bool read_only, std::string_view key_base64);

}  // namespace es::tools

#endif  // ES_TOOLS_COMMON_STORE_NAME_H_
