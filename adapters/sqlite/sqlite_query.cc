#include "adapters/sqlite/sqlite_query.h"

#include <algorithm>
#include <set>

namespace es {
namespace {

bool MatchesEveryEvent(const Query& query) {
  return query.items.empty() ||
         std::any_of(query.items.begin(), query.items.end(),
                     [](const QueryItem& item) { return item.types.empty() && item.tags.empty(); });
}

// "?, ?, ?" binding `values`.
void AppendValueList(const std::set<std::string_view>& values, BoundSql* sql) {
  bool first = true;
  for (std::string_view value : values) {
    if (!first) sql->text += ", ";
    first = false;
    sql->text += '?';
    sql->AppendValue(value);
  }
}

// The positions > `after` of the events matching `item` (which has types or tags), ascending.
// With tags, the scan walks the (tag, position) index of one tag and probes the others, so it
// costs the postings of that tag rather than the whole log.
void AppendItemPositions(const SqliteTables& tables, const QueryItem& item, std::int64_t after,
                         BoundSql* sql) {
  const std::set<std::string_view> types(item.types.begin(), item.types.end());
  const std::set<std::string_view> tags(item.tags.begin(), item.tags.end());
  if (tags.empty()) {
    sql->text += "SELECT position FROM " + tables.events + " WHERE type IN (";
    AppendValueList(types, sql);
    sql->text += ") AND position > ?";
    sql->AppendValue(after);
    return;
  }
  auto tag = tags.begin();
  sql->text += "SELECT g.position FROM " + tables.tags + " AS g WHERE g.tag = ?";
  sql->AppendValue(*tag);
  sql->text += " AND g.position > ?";
  sql->AppendValue(after);
  for (++tag; tag != tags.end(); ++tag) {
    sql->text +=
        " AND EXISTS (SELECT 1 FROM " + tables.tags + " WHERE tag = ? AND position = g.position)";
    sql->AppendValue(*tag);
  }
  if (!types.empty()) {
    sql->text += " AND (SELECT type FROM " + tables.events + " WHERE position = g.position) IN (";
    AppendValueList(types, sql);
    sql->text += ')';
  }
}

}  // namespace

Result<SqliteTables> SqliteTablesFor(const std::string& application_name) {
  for (char c : application_name) {
    const bool allowed =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!allowed) {
      return Status::InvalidArgument("application name '" + application_name +
                                     "' may hold only letters, digits and '_'");
    }
  }
  std::string prefix = application_name.empty() ? "es" : application_name;
  std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  return SqliteTables{prefix, prefix + "_events", prefix + "_tags", prefix + "_tracking",
                      prefix + "_meta"};
}

Result<std::optional<std::int64_t>> RecordedKeyId(SqliteConnection& connection,
                                                  const SqliteTables& tables) {
  ES_ASSIGN_OR_RETURN(
      SqliteStatement select,
      connection.Prepare("SELECT value FROM " + tables.meta + " WHERE name = 'key_id'"));
  ES_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(select.ColumnInt64(0));
}

Result<SqliteSnapshot> OpenSqliteSnapshot(const SqliteOptions& options) {
  SqliteSnapshot snapshot;
  ES_ASSIGN_OR_RETURN(snapshot.tables, SqliteTablesFor(options.application_name));
  ES_ASSIGN_OR_RETURN(snapshot.db, SqliteConnection::Open(options.dbname, options.lock_timeout,
                                                          SqliteConnection::Mode::kReadSnapshot));
  return snapshot;
}

void BoundSql::AppendValue(std::int64_t value) { values.emplace_back(value); }
void BoundSql::AppendValue(std::string_view value) { values.emplace_back(value); }

Result<SqliteStatement> BoundSql::Prepare(SqliteConnection& connection) const {
  ES_ASSIGN_OR_RETURN(SqliteStatement statement, connection.Prepare(text));
  int index = 1;
  for (const auto& value : values) {
    if (const auto* number = std::get_if<std::int64_t>(&value)) {
      statement.BindInt64(index++, *number);
    } else {
      statement.BindText(index++, std::get<std::string_view>(value));
    }
  }
  return statement;
}

BoundSql SelectMatchingEvents(const SqliteTables& tables, const Query& query, std::int64_t after,
                              std::int64_t limit) {
  BoundSql sql;
  sql.text = "SELECT " + std::string(kEventColumns) + " FROM " + tables.events + " WHERE ";
  if (MatchesEveryEvent(query)) {
    sql.text += "position > ?";
    sql.AppendValue(after);
  } else {
    // IN (...) removes the duplicates of an event matched by several items before the limit.
    sql.text += "position IN (";
    for (std::size_t i = 0; i < query.items.size(); ++i) {
      if (i > 0) sql.text += " UNION ALL ";
      AppendItemPositions(tables, query.items[i], after, &sql);
    }
    sql.text += ')';
  }
  sql.text += " ORDER BY position LIMIT ?";
  sql.AppendValue(limit);
  return sql;
}

}  // namespace es
