// SQL for DCB queries on the SQLite schema (docs/sqlite.md). The text depends only on the shape
// of a query (how many items, types and tags), so statements are reused across values; the
// values are bound in the order they appear.
#ifndef ES_ADAPTERS_SQLITE_SQLITE_QUERY_H_
#define ES_ADAPTERS_SQLITE_SQLITE_QUERY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "adapters/sqlite/sqlite_connection.h"
#include "es/query.h"
#include "es/sqlite.h"

namespace es {

// The tables of one application (SqliteOptions::application_name).
struct SqliteTables {
  std::string prefix;  // of every name below: the lower-cased application name, or "es"
  std::string events;
  std::string tags;
  std::string tracking;
  std::string meta;  // settings of the tables: the id of the key that encrypts them
};

// The tables of `application_name` (SqliteOptions::application_name). InvalidArgument unless it
// holds only letters, digits and '_'.
Result<SqliteTables> SqliteTablesFor(const std::string& application_name);

// The key id the meta table of `tables` records (it must exist), or none: the tables are not
// encrypted.
Result<std::optional<std::int64_t>> RecordedKeyId(SqliteConnection& connection,
                                                  const SqliteTables& tables);

// The tables of `options` and a connection that reads them without changing them, in one
// snapshot (SqliteConnection::Mode::kReadSnapshot): what InspectSqlite and VerifySqlite look at.
struct SqliteSnapshot {
  SqliteTables tables;
  std::unique_ptr<SqliteConnection> db;
};
Result<SqliteSnapshot> OpenSqliteSnapshot(const SqliteOptions& options);

// SQL text with its values, bound in order.
struct BoundSql {
  std::string text;
  std::vector<std::variant<std::int64_t, std::string_view>> values;

  void AppendValue(std::int64_t value);
  void AppendValue(std::string_view value);
  // Prepares the text on `connection` and binds the values. The string values must outlive the
  // statement's next Step.
  Result<SqliteStatement> Prepare(SqliteConnection& connection) const;
};

// The columns every event read selects, in the order ReadEventRow expects them.
inline constexpr std::string_view kEventColumns =
    "position, type, data, tags, stream_id, stream_version, uuid, metadata, data_codec";

// SELECT kEventColumns of the events matching `query` with position > `after`, ascending, at most
// `limit` (negative: no limit). Every shape of query: no items matches every event, an item with
// no types and no tags too; an item's types are alternatives and its tags all required (as a
// set: repeats change nothing).
BoundSql SelectMatchingEvents(const SqliteTables& tables, const Query& query, std::int64_t after,
                              std::int64_t limit);

}  // namespace es

#endif  // ES_ADAPTERS_SQLITE_SQLITE_QUERY_H_
