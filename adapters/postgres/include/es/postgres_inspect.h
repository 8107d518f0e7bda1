// What `esdump postgresql://... info` shows of a PostgreSQL recorder's tables (docs/tools.md).
#ifndef ES_POSTGRES_INSPECT_H_
#define ES_POSTGRES_INSPECT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "es/postgres.h"
#include "es/result.h"

namespace es {

struct PostgresInfo {
  std::string schema;        // the schema holding the tables (options.schema, or current_schema())
  std::string table_prefix;  // the tables are <table_prefix>_events, _tags, _head, _tracking
  std::optional<std::int64_t> head;   // the head row's position (positions are gap-free from 1)
  std::int64_t writes = 0;            // the head row's count of writes
  std::int64_t streams = 0;           // distinct stream ids
  std::int64_t tracking_records = 0;  // applications with a tracking record
  // The key id the head table records (the tables are encrypted), or none. Compression is not
  // recorded: each writer chooses it, and each row's data_codec marks it.
  std::optional<std::int64_t> key_id;
  std::map<std::string, std::int64_t> table_bytes;  // pg_total_relation_size, by table name
  std::string server_version;
};

// Reads the facts above in one READ ONLY transaction. IOError when the server cannot be reached
// or the tables are missing.
Result<PostgresInfo> InspectPostgres(const PostgresOptions& options);

}  // namespace es

#endif  // ES_POSTGRES_INSPECT_H_
