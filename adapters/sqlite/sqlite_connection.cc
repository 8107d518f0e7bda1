#include "adapters/sqlite/sqlite_connection.h"

#include <algorithm>
#include <climits>

namespace es {
namespace {

// Compiled statements a connection keeps; past this many (a caller making ever new query shapes)
// the cache starts over rather than grow without bound.
constexpr std::size_t kMaxCachedStatements = 256;

int SqliteLength(std::string_view value) {
  // Values over INT_MAX bytes are refused by SQLite itself (SQLITE_TOOBIG at Step) when bound
  // with a negative length, so clamp rather than wrap.
  return value.size() > static_cast<std::size_t>(INT_MAX) ? INT_MAX
                                                          : static_cast<int>(value.size());
}

}  // namespace

bool IsInMemorySqlite(const std::string& dbname) {
  return dbname == ":memory:" || dbname.find("mode=memory") != std::string::npos;
}

SqliteStatement::~SqliteStatement() {
  if (stmt_ != nullptr) sqlite3_reset(stmt_);
}

void SqliteStatement::BindInt64(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
}

void SqliteStatement::BindText(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), SqliteLength(value), SQLITE_TRANSIENT);
}

void SqliteStatement::BindBlob(int index, std::string_view value) {
  // A null pointer would bind NULL, not an empty blob.
  static const char kEmpty = 0;
  sqlite3_bind_blob(stmt_, index, value.empty() ? &kEmpty : value.data(), SqliteLength(value),
                    SQLITE_TRANSIENT);
}

void SqliteStatement::BindNull(int index) { sqlite3_bind_null(stmt_, index); }

Result<bool> SqliteStatement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return connection_->Error(rc, sqlite3_sql(stmt_));
}

Status SqliteStatement::Run() {
  while (true) {
    ES_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::OK();
  }
}

bool SqliteStatement::ColumnIsNull(int column) {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t SqliteStatement::ColumnInt64(int column) {
  return sqlite3_column_int64(stmt_, column);
}

std::string_view SqliteStatement::ColumnBytes(int column) {
  const void* bytes = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (bytes == nullptr) return {};
  return std::string_view(static_cast<const char*>(bytes), static_cast<std::size_t>(size));
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(
    const std::string& dbname, std::chrono::milliseconds lock_timeout, Mode mode) {
  if (mode != Mode::kReadWrite && IsInMemorySqlite(dbname)) {
    return Status::InvalidArgument("an in-memory SQLite database cannot be opened read-only: " +
                                   dbname);
  }
  sqlite3* db = nullptr;
  // NOMUTEX: each connection is used by one thread at a time (the recorder's locks see to it).
  const int flags = (mode != Mode::kReadWrite ? SQLITE_OPEN_READONLY
                                              : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(dbname.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::IOError("cannot open SQLite database '" + dbname + "': " + message);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(std::min<std::int64_t>(lock_timeout.count(), INT_MAX)));
  auto connection = std::unique_ptr<SqliteConnection>(new SqliteConnection(db, lock_timeout));
  // The IN (...) of a DCB query builds its temporary index in memory. (Memory-mapped I/O,
  // PRAGMA mmap_size, made the speedrun slower here: recent pages live in the WAL anyway.)
  ES_RETURN_IF_ERROR(connection->Execute("PRAGMA temp_store=MEMORY"));
  // Closing the connection ends the transaction.
  if (mode == Mode::kReadSnapshot) ES_RETURN_IF_ERROR(connection->Execute("BEGIN"));
  return connection;
}

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status SqliteConnection::Execute(const std::string& sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::OK();
  sqlite3_free(message);  // Error() reads the same message from the connection
  return Error(rc, sql);
}

Result<bool> SqliteConnection::HasTable(const std::string& name) {
  ES_ASSIGN_OR_RETURN(SqliteStatement statement,
                      Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"));
  statement.BindText(1, name);
  return statement.Step();
}

Result<SqliteStatement> SqliteConnection::Prepare(const std::string& sql) {
  auto cached = statements_.find(sql);
  if (cached != statements_.end()) {
    sqlite3_reset(cached->second);
    sqlite3_clear_bindings(cached->second);
    return SqliteStatement(this, cached->second);
  }
  if (statements_.size() >= kMaxCachedStatements) {
    for (auto& [text, stmt] : statements_) sqlite3_finalize(stmt);
    statements_.clear();
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "preparing " + sql);
  statements_.emplace(sql, stmt);
  return SqliteStatement(this, stmt);
}

Status SqliteConnection::Error(int rc, std::string_view doing) const {
  std::string message = std::string(doing) + ": " + sqlite3_errmsg(db_);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Locked("SQLite database is locked (gave up after " +
                            std::to_string(lock_timeout_.count()) + " ms): " + message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption("SQLite database is damaged: " + message);
    case SQLITE_CONSTRAINT:
      return Status::IntegrityError(message);
    default:
      return Status::IOError(message);
  }
}

}  // namespace es
