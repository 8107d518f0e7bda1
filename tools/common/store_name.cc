#include "tools/common/store_name.h"

#include <es/encryption.h>
#include <es/options.h>

#include <filesystem>
#include <string>

#if defined(ES_WITH_SQLITE) || defined(ES_WITH_POSTGRES)
#include "adapters/common/event_codec.h"
#endif

#ifdef ES_WITH_SQLITE
#include <es/sqlite.h>
#endif

#ifdef ES_WITH_POSTGRES
#include <es/postgres.h>
#endif

namespace es::tools {

Result<Options> EngineOptions(bool read_only, std::string_view key_base64) {
  ES_ASSIGN_OR_RETURN(Options options, OptionsFromEnvironment());
  options.read_only = read_only;
  // The tools write or read each event once: keeping decoded events would only cost copies.
  options.decoded_cache_bytes = 0;
  if (!key_base64.empty()) {
    Result<std::shared_ptr<KeyProvider>> key = KeyProviderFromBase64(key_base64);
    if (!key.ok()) return key.status().WithContext("--key");
    options.key_provider = std::move(key).value();
  }
  return options;
}

#ifdef ES_WITH_SQLITE
Result<SqliteOptions> SqliteOptionsNamed(std::string_view name, bool read_only,
                                         const Options& engine) {
  ES_ASSIGN_OR_RETURN(SqliteOptions sqlite, SqliteOptionsFromUri(name));
  // NotFound, naming the file, rather than SQLite's "unable to open database file".
  const bool path = !sqlite.dbname.starts_with("file:") && sqlite.dbname != ":memory:";
  if (read_only && path && !std::filesystem::exists(sqlite.dbname)) {
    return Status::NotFound("no such SQLite database: " + sqlite.dbname);
  }
  sqlite.read_only = read_only;
  CopyCodecOptions(engine, &sqlite);
  return sqlite;
}
#endif

#ifdef ES_WITH_POSTGRES
Result<PostgresOptions> PostgresOptionsNamed(std::string_view name, bool read_only,
                                             const Options& engine) {
  ES_ASSIGN_OR_RETURN(PostgresOptions postgres, PostgresOptionsFromUri(name));
  // Read-only: the tables are neither created nor given a key id (Start records one only with
  // create_table), so esdump never writes them.
  postgres.create_table = !read_only;
  CopyCodecOptions(engine, &postgres);
  return postgres;
}
#endif

std::string WithoutPassword(std::string_view name) {
  const std::size_t scheme = name.find("://");
  if (scheme == std::string_view::npos) return std::string(name);
  const std::size_t authority = scheme + 3;
  const std::size_t at = name.find('@', authority);
  const std::size_t colon = name.find(':', authority);
  if (at == std::string_view::npos || colon == std::string_view::npos || colon > at ||
      name.find('/', authority) < at) {
    return std::string(name);
  }
  return std::string(name.substr(0, colon)) + std::string(name.substr(at));
}

Result<OpenedStore> OpenStoreNamed(std::string_view name, bool read_only,
                                   std::string_view key_base64) {
  OpenedStore opened;
  ES_ASSIGN_OR_RETURN(Options options, EngineOptions(read_only, key_base64));
  if (name.starts_with("sqlite:")) {
#ifdef ES_WITH_SQLITE
    ES_ASSIGN_OR_RETURN(SqliteOptions sqlite, SqliteOptionsNamed(name, read_only, options));
    ES_ASSIGN_OR_RETURN(opened.recorder, OpenSqliteRecorder(sqlite));
    opened.backend = "sqlite";
    return opened;
#else
    return Status::InvalidArgument("this build has no SQLite recorder: " + std::string(name));
#endif
  }
  if (name.starts_with("postgresql://") || name.starts_with("postgres://")) {
#ifdef ES_WITH_POSTGRES
    ES_ASSIGN_OR_RETURN(PostgresOptions postgres, PostgresOptionsNamed(name, read_only, options));
    ES_ASSIGN_OR_RETURN(opened.recorder, OpenPostgresRecorder(postgres));
    opened.backend = "postgres";
    return opened;
#else
    return Status::InvalidArgument("this build has no PostgreSQL recorder: " + std::string(name));
#endif
  }
  if (name.find("://") != std::string_view::npos) {
    return Status::InvalidArgument(
        "unknown store URI (a directory, sqlite:PATH or postgresql://...): " + std::string(name));
  }
  ES_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(options, name));
  opened.engine = store.get();
  opened.backend = "engine";
  opened.recorder = std::move(store);
  return opened;
}

}  // namespace es::tools
