// SQL for DCB queries on the SQLite schema (docs/sqlite.md). The text depends only on the shape
// of a query (how many items, types and tags), so statements are reused across values; the
// values are bound in the order they appear.
#ifndef ES_ADAPTERS_SQLITE_SQLITE_QUERY_H_
#define ES_ADAPTERS_SQLITE_SQLITE_QUERY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "adapters/sqlite/sqlite_connection.h"
#include "es/query.h"

namespace es {

// The tables of one application (SqliteOptions::application_name).
struct SqliteTables {
  std::string events;
  std::string tags;
  std::string tracking;
  std::string meta;  // settings of the tables: the id of the key that encrypts them
};

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
