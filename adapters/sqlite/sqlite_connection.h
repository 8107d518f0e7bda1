// Owning wrappers of a SQLite connection and its prepared statements that report every failure
// as a Status naming what was being done.
#ifndef ES_ADAPTERS_SQLITE_SQLITE_CONNECTION_H_
#define ES_ADAPTERS_SQLITE_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "es/result.h"
#include "es/status.h"

namespace es {

class SqliteConnection;

// A prepared statement of a SqliteConnection, handed out by Prepare unbound and reset, and reset
// again when this handle is destroyed: a statement left mid-way would keep its read snapshot
// open, and later reads on the connection would not see newer commits. Bind indexes are 1-based
// and column indexes 0-based, as in SQLite. Text and blob values are copied when bound; column
// views are valid until the next Step.
class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&& other) noexcept
      : connection_(other.connection_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  ~SqliteStatement();

  void BindInt64(int index, std::int64_t value);
  void BindText(int index, std::string_view value);
  void BindBlob(int index, std::string_view value);
  void BindNull(int index);

  // True with a row to read, false when the statement is done. Failures name the statement.
  Result<bool> Step();
  // Steps to completion, for statements that return no rows.
  Status Run();

  bool ColumnIsNull(int column);
  std::int64_t ColumnInt64(int column);
  std::string_view ColumnBytes(int column);  // text or blob

 private:
  friend class SqliteConnection;
  SqliteStatement(SqliteConnection* connection, sqlite3_stmt* stmt)
      : connection_(connection), stmt_(stmt) {}

  SqliteConnection* connection_;
  sqlite3_stmt* stmt_;
};

// True for the names of in-memory databases: ":memory:", and URIs with mode=memory.
bool IsInMemorySqlite(const std::string& dbname);

class SqliteConnection {
 public:
  enum class Mode {
    kReadWrite,  // creating the database when missing
    // A database that exists, never written (a read-only recorder): each statement or
    // transaction sees the database as it then is. InvalidArgument in memory.
    kReadOnly,
    // A database that exists, never written (esdump), in one read transaction for the life of
    // the connection, so that every statement sees the same snapshot. InvalidArgument in memory,
    // where it would be a new, empty database.
    kReadSnapshot,
  };

  // Opens `dbname` (a path, ":memory:" or a "file:" URI). `lock_timeout` is how long a statement
  // waits for another connection's lock.
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& dbname,
                                                        std::chrono::milliseconds lock_timeout,
                                                        Mode mode = Mode::kReadWrite);
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Runs `sql` (one or more statements; their rows are ignored).
  Status Execute(const std::string& sql);

  // Whether the database has a table named `name`.
  Result<bool> HasTable(const std::string& name);

  // The statement compiled from `sql`, kept for reuse: callers build SQL text from a query's
  // shape only (values are bound), so the same shapes find their statements compiled.
  Result<SqliteStatement> Prepare(const std::string& sql);

  // The Status for SQLite result code `rc`: Locked for a busy or locked database, Corruption for
  // a damaged file or one that is not a database, IntegrityError for a violated constraint,
  // IOError otherwise. `doing` says what failed.
  Status Error(int rc, std::string_view doing) const;

 private:
  SqliteConnection(sqlite3* db, std::chrono::milliseconds lock_timeout)
      : db_(db), lock_timeout_(lock_timeout) {}

  sqlite3* const db_;
  const std::chrono::milliseconds lock_timeout_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace es

#endif  // ES_ADAPTERS_SQLITE_SQLITE_CONNECTION_H_
