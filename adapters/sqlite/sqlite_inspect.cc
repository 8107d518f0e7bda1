#include "es/sqlite_inspect.h"

#include <filesystem>
#include <system_error>

#include "adapters/sqlite/sqlite_connection.h"
#include "adapters/sqlite/sqlite_query.h"

namespace es {
namespace {

// The statement of `sql`, stepped to its first row (Corruption when it has none).
Result<SqliteStatement> OneRow(SqliteConnection& db, const std::string& sql) {
  ES_ASSIGN_OR_RETURN(SqliteStatement statement, db.Prepare(sql));
  ES_ASSIGN_OR_RETURN(bool row, statement.Step());
  if (!row) return Status::Corruption(sql + " returned no row");
  return statement;
}

Result<std::int64_t> OneInt(SqliteConnection& db, const std::string& sql) {
  ES_ASSIGN_OR_RETURN(SqliteStatement statement, OneRow(db, sql));
  return statement.ColumnInt64(0);
}

std::optional<std::uint64_t> FileBytes(const std::string& path) {
  std::error_code error;
  const std::uintmax_t bytes = std::filesystem::file_size(path, error);
  if (error) return std::nullopt;
  return bytes;
}

}  // namespace

Result<SqliteInfo> InspectSqlite(const SqliteOptions& options) {
  ES_ASSIGN_OR_RETURN(SqliteSnapshot snapshot, OpenSqliteSnapshot(options));
  SqliteTables& tables = snapshot.tables;
  SqliteConnection* db = snapshot.db.get();
  for (const std::string* table : {&tables.events, &tables.tracking}) {
    ES_ASSIGN_OR_RETURN(bool exists, db->HasTable(*table));
    if (!exists) {
      return Status::NotFound("table " + *table + " is missing from '" + options.dbname + "'");
    }
  }
  SqliteInfo info;
  info.table_prefix = tables.prefix;
  ES_ASSIGN_OR_RETURN(SqliteStatement head,
                      OneRow(*db, "SELECT max(position) FROM " + tables.events));
  if (!head.ColumnIsNull(0)) info.head = head.ColumnInt64(0);
  // Served by the (stream_id, stream_version) index, without reading the events.
  ES_ASSIGN_OR_RETURN(info.streams,
                      OneInt(*db, "SELECT count(DISTINCT stream_id) FROM " + tables.events +
                                      " WHERE stream_id IS NOT NULL"));
  ES_ASSIGN_OR_RETURN(info.tracking_records,
                      OneInt(*db, "SELECT count(*) FROM " + tables.tracking));
  ES_ASSIGN_OR_RETURN(bool has_meta, db->HasTable(tables.meta));
  if (has_meta) {
    ES_ASSIGN_OR_RETURN(info.key_id, RecordedKeyId(*db, tables));
  }
  ES_ASSIGN_OR_RETURN(info.page_size, OneInt(*db, "PRAGMA page_size"));
  ES_ASSIGN_OR_RETURN(info.page_count, OneInt(*db, "PRAGMA page_count"));
  ES_ASSIGN_OR_RETURN(info.freelist_pages, OneInt(*db, "PRAGMA freelist_count"));
  ES_ASSIGN_OR_RETURN(SqliteStatement journal, OneRow(*db, "PRAGMA journal_mode"));
  info.journal_mode = journal.ColumnBytes(0);
  if (!options.dbname.starts_with("file:")) {
    info.file_bytes = FileBytes(options.dbname);
    info.wal_bytes = FileBytes(options.dbname + "-wal");
  }
  return info;
}

}  // namespace es
