// SqliteOptions from a store URI and from the environment (es/sqlite.h).
#include "adapters/common/event_codec.h"
#include "api/src/environment.h"
#include "es/sqlite.h"

namespace es {

Result<SqliteOptions> SqliteOptionsFromUri(std::string_view uri) {
  constexpr std::string_view kScheme = "sqlite:";
  if (!uri.starts_with(kScheme) || uri.size() == kScheme.size()) {
    return Status::InvalidArgument("not a SQLite store URI (sqlite:PATH): '" + std::string(uri) +
                                   "'");
  }
  SqliteOptions options;
  options.dbname = uri.substr(kScheme.size());
  return options;
}

Result<SqliteOptions> SqliteOptionsFromEnvironment(std::string_view application_name) {
  const EnvironmentReader environment(application_name);
  SqliteOptions options;
  options.application_name = application_name;
  std::optional<std::string> dbname = environment.Get("SQLITE_DBNAME");
  if (!dbname || dbname->empty()) {
    return Status::InvalidArgument("SQLITE_DBNAME is not set: it names the SQLite database");
  }
  options.dbname = *dbname;
  ES_ASSIGN_OR_RETURN(std::optional<std::int64_t> lock_timeout,
                      environment.GetInt("SQLITE_LOCK_TIMEOUT"));
  if (lock_timeout) {
    if (*lock_timeout < 0 || *lock_timeout > 86400) {
      return Status::InvalidArgument("SQLITE_LOCK_TIMEOUT must be between 0 and 86400 seconds");
    }
    options.lock_timeout = std::chrono::seconds(*lock_timeout);
  }
  ES_ASSIGN_OR_RETURN(std::optional<bool> create_table, environment.GetBool("CREATE_TABLE"));
  if (create_table) options.create_table = *create_table;
  ES_ASSIGN_OR_RETURN(Options engine, OptionsFromEnvironment(application_name));
  CopyCodecOptions(engine, &options);
  return options;
}

}  // namespace es
