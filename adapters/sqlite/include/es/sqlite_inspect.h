// What `esdump sqlite:PATH info` shows of a SQLite recorder's database (docs/tools.md).
#ifndef ES_SQLITE_INSPECT_H_
#define ES_SQLITE_INSPECT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "es/result.h"
#include "es/sqlite.h"

namespace es {

struct SqliteInfo {
  std::string table_prefix;  // the tables are <table_prefix>_events, _tags, _tracking, _meta
  std::optional<std::int64_t> head;   // the last position (positions are gap-free from 1)
  std::int64_t streams = 0;           // distinct stream ids
  std::int64_t tracking_records = 0;  // applications with a tracking record
  // The key id the meta table records (the tables are encrypted), or none. Compression is not
  // recorded: each writer chooses it, and each row's data_codec marks it.
  std::optional<std::int64_t> key_id;
  std::int64_t page_size = 0;
  std::int64_t page_count = 0;      // the database's size is page_size * page_count
  std::int64_t freelist_pages = 0;  // unused pages within it
  std::string journal_mode;         // "wal" for file databases the recorder has opened
  // The sizes of the database file and its WAL (absent: no WAL file), for a dbname that is a path.
  std::optional<std::uint64_t> file_bytes;
  std::optional<std::uint64_t> wal_bytes;
};

// Reads the facts above from the database `options.dbname` (tables of
// `options.application_name`), opened read-only, in one read transaction. InvalidArgument for an
// in-memory database; NotFound when the events table is missing; IOError or Corruption when the
// database cannot be opened or read.
Result<SqliteInfo> InspectSqlite(const SqliteOptions& options);

}  // namespace es

#endif  // ES_SQLITE_INSPECT_H_
