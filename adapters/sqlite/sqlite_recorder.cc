// The SQLite recorder (es/sqlite.h). File databases: one write connection behind a mutex (SQLite
// has one writer anyway), a pool of read connections that run beside it in WAL mode, and a poller
// connection that notices other processes' commits. In-memory databases: one connection, and
// every operation on it exclusive, shared by every recorder of the process that opens the same
// shared-cache name (SQLite's table locks would otherwise fail such operations at once rather than
// wait).
#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "adapters/common/event_codec.h"
#include "adapters/common/string_list_codec.h"
#include "adapters/sqlite/sqlite_connection.h"
#include "adapters/sqlite/sqlite_event_row.h"
#include "adapters/sqlite/sqlite_query.h"
#include "api/src/validation.h"
#include "engine/compress/event_compressor.h"
#include "engine/crypto/aes_gcm.h"
#include "es/encryption.h"
#include "es/sqlite.h"

namespace es {
namespace {

// The mutex every recorder of a shared-cache in-memory database `dbname` shares (a private one
// for anything else).
std::shared_ptr<std::mutex> ExclusiveMutexFor(const std::string& dbname) {
  static std::mutex registry_mu;
  static std::map<std::string, std::weak_ptr<std::mutex>> registry;
  if (dbname == ":memory:") return std::make_shared<std::mutex>();
  std::lock_guard lock(registry_mu);
  std::shared_ptr<std::mutex> mu = registry[dbname].lock();
  if (mu == nullptr) {
    mu = std::make_shared<std::mutex>();
    registry[dbname] = mu;
  }
  return mu;
}

std::string SchemaSql(const SqliteTables& t) {
  // position is the rowid: events are stored in position order, and max(position) is one probe.
  // The write transaction gives out head + 1, ..., so positions are gap-free (an AUTOINCREMENT
  // or rowid default would also be, but only as a side effect of the write lock).
  return "CREATE TABLE IF NOT EXISTS " + t.events +
         " (position INTEGER PRIMARY KEY, type TEXT NOT NULL, data BLOB NOT NULL,"
         " tags BLOB NOT NULL, stream_id TEXT, stream_version INTEGER, uuid BLOB,"
         " metadata BLOB, data_codec INTEGER NOT NULL DEFAULT 0);"
         "CREATE UNIQUE INDEX IF NOT EXISTS " +
         t.events + "_stream ON " + t.events +
         " (stream_id, stream_version) WHERE stream_id IS NOT NULL;"
         "CREATE INDEX IF NOT EXISTS " +
         t.events + "_type ON " + t.events +
         " (type, position);"
         "CREATE TABLE IF NOT EXISTS " +
         t.tags +
         " (tag TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (tag, position))"
         " WITHOUT ROWID;"
         "CREATE TABLE IF NOT EXISTS " +
         t.tracking +
         " (application_name TEXT PRIMARY KEY, notification_id INTEGER NOT NULL)"
         " WITHOUT ROWID;"
         "CREATE TABLE IF NOT EXISTS " +
         t.meta + " (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;";
}

Result<std::vector<SequencedEvent>> ReadEventRows(SqliteStatement& statement,
                                                  const AesGcm* cipher) {
  std::vector<SequencedEvent> events;
  while (true) {
    ES_ASSIGN_OR_RETURN(bool row, statement.Step());
    if (!row) return events;
    ES_ASSIGN_OR_RETURN(SequencedEvent event, ReadEventRow(statement, cipher));
    events.push_back(std::move(event));
  }
}

SqliteConnection::Mode ConnectionMode(const SqliteOptions& options) {
  return options.read_only ? SqliteConnection::Mode::kReadOnly : SqliteConnection::Mode::kReadWrite;
}

std::string Describe(const StreamVersion& stream) {
  return "stream '" + stream.id + "' version " + std::to_string(stream.version);
}

class SqliteRecorder final : public Recorder {
 public:
  SqliteRecorder(const SqliteOptions& options, SqliteTables tables,
                 std::unique_ptr<SqliteConnection> writer)
      : options_(options),
        tables_(std::move(tables)),
        in_memory_(IsInMemorySqlite(options.dbname)),
        exclusive_(in_memory_ ? ExclusiveMutexFor(options.dbname) : nullptr),
        compressor_(CompressorFor(options.compression, options.compression_level)),
        writer_(std::move(writer)) {}

  ~SqliteRecorder() override {
    {
      std::lock_guard lock(poller_mu_);
      stopping_ = true;
    }
    poller_wake_.notify_all();
    if (poller_.joinable()) poller_.join();
  }

  Status Start() {
    if (!in_memory_ && !options_.read_only) {
      // WAL: readers do not block the writer nor it them; it persists in the file.
      ES_RETURN_IF_ERROR(writer_->Execute("PRAGMA journal_mode=WAL"));
    }
    {
      Lease lease = Writer();
      if (options_.create_table && !options_.read_only) {
        ES_RETURN_IF_ERROR(writer_->Execute("BEGIN IMMEDIATE;" + SchemaSql(tables_) + "COMMIT;")
                               .WithContext("creating the tables"));
      } else {
        ES_RETURN_IF_ERROR(CheckTablesExist());
      }
      ES_RETURN_IF_ERROR(SetSynchronous(options_.durability));
      ES_RETURN_IF_ERROR(SetUpEncryption());
    }
    if (options_.dbname != ":memory:") {
      ES_ASSIGN_OR_RETURN(
          poll_connection_,
          SqliteConnection::Open(options_.dbname, options_.lock_timeout, ConnectionMode(options_)));
      poller_ = std::thread([this] { Poll(); });
    }
    return Status::OK();
  }

  Result<std::int64_t> Write(const AppendRequest& request) override {
    if (options_.read_only) {
      return Status::NotSupported("SQLite database '" + options_.dbname + "' is open read-only");
    }
    ES_RETURN_IF_ERROR(ValidateWriteRequest(request));
    // Before the write lock: compressing takes microseconds per event.
    const std::vector<std::optional<std::string>> compressed =
        CompressEventData(compressor_ ? &*compressor_ : nullptr, request.events);
    Result<std::int64_t> written = [&]() -> Result<std::int64_t> {
      Lease lease = Writer();
      ES_RETURN_IF_ERROR(SetSynchronous(request.options.durability.value_or(options_.durability)));
      ES_RETURN_IF_ERROR(Begin(*lease.connection, "BEGIN IMMEDIATE"));
      const Status unkeyed = CheckStillUnkeyed(*lease.connection);
      Result<std::int64_t> last = unkeyed.ok()
                                      ? WriteInTransaction(*lease.connection, request, compressed)
                                      : Result<std::int64_t>(unkeyed);
      if (!last.ok()) {
        Rollback(*lease.connection);
        return last;
      }
      ES_RETURN_IF_ERROR(Commit(*lease.connection));
      // The tables hold events now, so no open can record a key for them any more.
      if (*last > 0) may_get_key_ = false;
      return last;
    }();
    if (written.ok()) append_listeners().Notify();
    return written;
  }

  Result<ReadResult> Read(const Query& query, const ReadOptions& options) override {
    ES_RETURN_IF_ERROR(ValidateReadOptions(options));
    Lease lease = Reader();
    SqliteConnection& connection = *lease.connection;
    // One transaction: the head below is of the same snapshot as the events.
    ES_RETURN_IF_ERROR(Begin(connection, "BEGIN"));
    Result<ReadResult> result = [&]() -> Result<ReadResult> {
      BoundSql sql = SelectMatchingEvents(tables_, query, options.after.value_or(0),
                                          options.limit.value_or(-1));
      ReadResult read;
      ES_ASSIGN_OR_RETURN(SqliteStatement statement, sql.Prepare(connection));
      ES_ASSIGN_OR_RETURN(read.events, ReadEventRows(statement, cipher_.get()));
      if (options.limit) {
        if (!read.events.empty()) read.head = read.events.back().position;
      } else {
        ES_ASSIGN_OR_RETURN(read.head, HeadOn(connection));
      }
      return read;
    }();
    Rollback(connection);  // a read-only transaction: ending it either way releases the snapshot
    return result;
  }

  Result<std::vector<SequencedEvent>> ReadStream(std::string_view stream_id,
                                                 const SelectEventsOptions& options) override {
    ES_RETURN_IF_ERROR(ValidateSelectEventsOptions(options));
    Lease lease = Reader();
    ES_ASSIGN_OR_RETURN(SqliteStatement statement,
                        lease.connection->Prepare("SELECT " + std::string(kEventColumns) +
                                                  " FROM " + tables_.events +
                                                  " WHERE stream_id = ? AND stream_version > ? AND"
                                                  " stream_version <= ? ORDER BY stream_version " +
                                                  (options.desc ? "DESC" : "ASC") + " LIMIT ?"));
    statement.BindText(1, stream_id);
    statement.BindInt64(2, options.gt.value_or(std::numeric_limits<std::int64_t>::min()));
    statement.BindInt64(3, options.lte.value_or(std::numeric_limits<std::int64_t>::max()));
    statement.BindInt64(4, options.limit.value_or(-1));
    return ReadEventRows(statement, cipher_.get());
  }

  Result<std::optional<std::int64_t>> Head() override {
    Lease lease = Reader();
    return HeadOn(*lease.connection);
  }

  Result<std::optional<std::int64_t>> MaxTrackingId(std::string_view application_name) override {
    Lease lease = Reader();
    return MaxTrackingIdOn(*lease.connection, application_name);
  }

  Result<std::vector<Tracking>> TrackingRecords() override {
    Lease lease = Reader();
    ES_ASSIGN_OR_RETURN(SqliteStatement statement,
                        lease.connection->Prepare("SELECT application_name, notification_id FROM " +
                                                  tables_.tracking + " ORDER BY application_name"));
    std::vector<Tracking> records;
    while (true) {
      ES_ASSIGN_OR_RETURN(bool row, statement.Step());
      if (!row) return records;
      records.push_back(Tracking{std::string(statement.ColumnBytes(0)), statement.ColumnInt64(1)});
    }
  }

 private:
  // A connection for one operation, held with whatever lock guards it; a pooled read connection
  // goes back to the pool when the lease ends.
  struct Lease {
    SqliteConnection* connection = nullptr;
    std::unique_lock<std::mutex> lock;
    std::unique_ptr<SqliteConnection> pooled;
    SqliteRecorder* owner = nullptr;

    Lease() = default;
    Lease(Lease&&) = default;
    ~Lease() {
      if (pooled != nullptr) owner->ReturnReader(std::move(pooled));
    }
  };

  Lease Writer() {
    Lease lease;
    lease.lock = std::unique_lock(in_memory_ ? *exclusive_ : writer_mu_);
    lease.connection = writer_.get();
    return lease;
  }

  // A read connection; in memory, the one connection, exclusively. Opening a new one can fail
  // (too many open files, say): the write connection then serves the read.
  Lease Reader() {
    if (in_memory_) return Writer();
    Lease lease;
    {
      std::lock_guard lock(pool_mu_);
      if (!readers_.empty()) {
        lease.pooled = std::move(readers_.back());
        readers_.pop_back();
      }
    }
    if (lease.pooled == nullptr) {
      auto opened =
          SqliteConnection::Open(options_.dbname, options_.lock_timeout, ConnectionMode(options_));
      if (!opened.ok()) return Writer();
      lease.pooled = std::move(opened).value();
    }
    lease.connection = lease.pooled.get();
    lease.owner = this;
    return lease;
  }

  void ReturnReader(std::unique_ptr<SqliteConnection> connection) {
    std::lock_guard lock(pool_mu_);
    if (static_cast<int>(readers_.size()) < options_.max_read_connections) {
      readers_.push_back(std::move(connection));
    }
  }

  static Status Begin(SqliteConnection& connection, const std::string& begin) {
    ES_ASSIGN_OR_RETURN(SqliteStatement statement, connection.Prepare(begin));
    return statement.Run();
  }

  static Status Commit(SqliteConnection& connection) {
    ES_ASSIGN_OR_RETURN(SqliteStatement statement, connection.Prepare("COMMIT"));
    Status committed = statement.Run();
    if (!committed.ok()) Rollback(connection);
    return committed;
  }

  static void Rollback(SqliteConnection& connection) {
    // Fails only when no transaction is open (SQLite may have rolled back already), which is the
    // state wanted.
    auto statement = connection.Prepare("ROLLBACK");
    if (statement.ok()) statement->Run().IgnoreError();
  }

  // Under the write lock (the writer connection's mutex).
  Status SetSynchronous(Durability durability) {
    const char* mode = durability == Durability::kSync ? "FULL" : "NORMAL";
    if (synchronous_ == mode) return Status::OK();
    ES_RETURN_IF_ERROR(writer_->Execute(std::string("PRAGMA synchronous=") + mode));
    synchronous_ = mode;
    return Status::OK();
  }

  // Checks the key against the one the tables record (the writer lease held): an open without
  // it, with another, or with one for tables that hold plain events fails here; the first open
  // with a key of tables without events records it.
  Status SetUpEncryption() {
    const std::string name = "SQLite tables '" + tables_.events + "'";
    ES_ASSIGN_OR_RETURN(const bool meta_exists, writer_->HasTable(tables_.meta));
    std::optional<std::int64_t> recorded;
    if (meta_exists) {
      ES_ASSIGN_OR_RETURN(recorded, RecordedKeyId(*writer_, tables_));
    }
    if (options_.key_provider == nullptr) {
      // Only tables with a meta table and no events can still have a key recorded.
      if (meta_exists && !recorded) {
        ES_ASSIGN_OR_RETURN(std::optional<std::int64_t> head, HeadOn(*writer_));
        may_get_key_ = !head.has_value();
      }
      return CheckKeyAgainstRecorded(name, recorded, {});
    }
    ES_ASSIGN_OR_RETURN(EventDataKey data_key,
                        EventDataKeyFrom(*options_.key_provider, kSqliteDataKeyPurpose));
    const std::int64_t key_id = data_key.key_id;
    ES_RETURN_IF_ERROR(CheckKeyAgainstRecorded(name, recorded, key_id));
    if (!recorded && options_.read_only) {
      return Status::InvalidArgument(name + " record no key id (their events are not encrypted), " +
                                     "and a read-only open records none: open them without a key");
    }
    if (!recorded) {
      if (!meta_exists) {
        return Status::InvalidArgument(name + " have no " + tables_.meta +
                                       " table to record their key in (open them once with "
                                       "create_table)");
      }
      ES_RETURN_IF_ERROR(Begin(*writer_, "BEGIN IMMEDIATE"));
      Status recorded_now = [&]() -> Status {
        ES_ASSIGN_OR_RETURN(std::optional<std::int64_t> head, HeadOn(*writer_));
        if (head) return PlainEventsRefuseKey(name);
        ES_ASSIGN_OR_RETURN(SqliteStatement insert,
                            writer_->Prepare("INSERT INTO " + tables_.meta +
                                             " (name, value) VALUES ('key_id', ?)"
                                             " ON CONFLICT (name) DO NOTHING"));
        insert.BindInt64(1, key_id);
        ES_RETURN_IF_ERROR(insert.Run());
        ES_ASSIGN_OR_RETURN(std::optional<std::int64_t> now, RecordedKeyId(*writer_, tables_));
        if (now != key_id) {
          return Status::InvalidArgument(name + " were just encrypted under another key");
        }
        return Status::OK();
      }();
      if (!recorded_now.ok()) {
        Rollback(*writer_);
        return recorded_now;
      }
      ES_RETURN_IF_ERROR(Commit(*writer_));
    }
    cipher_ = std::move(data_key.cipher);
    return Status::OK();
  }

  // In a write transaction of a recorder without a key: InvalidArgument when an open with a key
  // has recorded one since this recorder's open (the tables were empty then), which would
  // otherwise mix plain events into encrypted tables. A query only until the tables hold events.
  Status CheckStillUnkeyed(SqliteConnection& connection) {
    if (!may_get_key_) return Status::OK();
    ES_ASSIGN_OR_RETURN(std::optional<std::int64_t> recorded, RecordedKeyId(connection, tables_));
    if (!recorded) return Status::OK();
    return Status::InvalidArgument("SQLite tables '" + tables_.events + "' record key id " +
                                   std::to_string(*recorded) +
                                   " since this recorder opened them without a key: open a new "
                                   "recorder with their key");
  }

  Status CheckTablesExist() {
    for (const std::string* table : {&tables_.events, &tables_.tags, &tables_.tracking}) {
      ES_ASSIGN_OR_RETURN(bool exists, writer_->HasTable(*table));
      if (!exists) {
        return Status::NotFound("table " + *table + " is missing from '" + options_.dbname +
                                "' and create_table is off");
      }
    }
    return Status::OK();
  }

  Result<std::optional<std::int64_t>> HeadOn(SqliteConnection& connection) {
    ES_ASSIGN_OR_RETURN(SqliteStatement statement,
                        connection.Prepare("SELECT max(position) FROM " + tables_.events));
    ES_RETURN_IF_ERROR(statement.Step().status());
    if (statement.ColumnIsNull(0)) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(statement.ColumnInt64(0));
  }

  Result<std::optional<std::int64_t>> MaxTrackingIdOn(SqliteConnection& connection,
                                                      std::string_view application_name) {
    ES_ASSIGN_OR_RETURN(SqliteStatement statement,
                        connection.Prepare("SELECT notification_id FROM " + tables_.tracking +
                                           " WHERE application_name = ?"));
    statement.BindText(1, application_name);
    ES_ASSIGN_OR_RETURN(bool found, statement.Step());
    if (!found) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(statement.ColumnInt64(0));
  }

  // The checks in the order every backend makes them (condition, streams, tracking), then the
  // inserts; the caller commits or rolls back.
  // `compressed`: per event, its data compressed when that shrank it (empty: no compression).
  Result<std::int64_t> WriteInTransaction(
      SqliteConnection& connection, const AppendRequest& request,
      const std::vector<std::optional<std::string>>& compressed) {
    if (request.condition != nullptr) {
      BoundSql sql = SelectMatchingEvents(tables_, request.condition->fail_if_events_match,
                                          request.condition->after.value_or(0), 1);
      ES_ASSIGN_OR_RETURN(SqliteStatement statement, sql.Prepare(connection));
      ES_ASSIGN_OR_RETURN(bool matched, statement.Step());
      if (matched) {
        return Status::ConditionFailed("append condition matched the event at position " +
                                       std::to_string(statement.ColumnInt64(0)) + " (type '" +
                                       std::string(statement.ColumnBytes(1)) + "')");
      }
    }
    ES_RETURN_IF_ERROR(CheckStreams(connection, request.events));
    if (request.tracking != nullptr) {
      ES_ASSIGN_OR_RETURN(std::optional<std::int64_t> max,
                          MaxTrackingIdOn(connection, request.tracking->application_name));
      if (max && request.tracking->notification_id <= *max) {
        return Status::IntegrityError("tracking id " +
                                      std::to_string(request.tracking->notification_id) +
                                      " of application '" + request.tracking->application_name +
                                      "' is not greater than its maximum " + std::to_string(*max));
      }
    }
    ES_ASSIGN_OR_RETURN(std::optional<std::int64_t> head, HeadOn(connection));
    std::int64_t position = head.value_or(0);
    for (std::size_t i = 0; i < request.events.size(); ++i) {
      const std::string* stored = compressed.empty() || !compressed[i] ? nullptr : &*compressed[i];
      ES_RETURN_IF_ERROR(InsertEvent(connection, ++position, request.events[i], stored));
    }
    if (request.tracking != nullptr) {
      ES_ASSIGN_OR_RETURN(SqliteStatement statement,
                          connection.Prepare("INSERT INTO " + tables_.tracking +
                                             " (application_name, notification_id) VALUES (?, ?)"
                                             " ON CONFLICT (application_name) DO UPDATE SET"
                                             " notification_id = excluded.notification_id"));
      statement.BindText(1, request.tracking->application_name);
      statement.BindInt64(2, request.tracking->notification_id);
      ES_RETURN_IF_ERROR(statement.Run());
    }
    return request.events.empty() ? 0 : position;
  }

  Status CheckStreams(SqliteConnection& connection, std::span<const Event> events) {
    std::set<std::pair<std::string_view, std::int64_t>> in_request;
    for (const Event& event : events) {
      if (!event.stream) continue;
      const StreamVersion& stream = *event.stream;
      ES_ASSIGN_OR_RETURN(SqliteStatement statement,
                          connection.Prepare("SELECT 1 FROM " + tables_.events +
                                             " WHERE stream_id = ? AND stream_version = ?"));
      statement.BindText(1, stream.id);
      statement.BindInt64(2, stream.version);
      ES_ASSIGN_OR_RETURN(bool exists, statement.Step());
      if (exists) return Status::IntegrityError(Describe(stream) + " already exists");
      if (!in_request.emplace(stream.id, stream.version).second) {
        return Status::IntegrityError(Describe(stream) + " appears twice in the request");
      }
    }
    return Status::OK();
  }

  // `compressed_data`: the event's data compressed, stored in its place; null: stored as given.
  Status InsertEvent(SqliteConnection& connection, std::int64_t position, const Event& event,
                     const std::string* compressed_data) {
    ES_ASSIGN_OR_RETURN(
        SqliteStatement statement,
        connection.Prepare("INSERT INTO " + tables_.events + " (" + std::string(kEventColumns) +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    statement.BindInt64(1, position);
    statement.BindText(2, event.type);
    StoredValues stored;
    ES_RETURN_IF_ERROR(SealEventValues(cipher_.get(), position, event, compressed_data, &stored));
    statement.BindBlob(3, stored.data);
    statement.BindInt64(9, stored.codec);
    statement.BindBlob(4, EncodeTags(event.tags));
    if (event.stream) {
      statement.BindText(5, event.stream->id);
      statement.BindInt64(6, event.stream->version);
    }
    if (event.uuid) {
      statement.BindBlob(7, std::string_view(reinterpret_cast<const char*>(event.uuid->data()),
                                             event.uuid->size()));
    }
    if (!stored.metadata.empty()) statement.BindBlob(8, stored.metadata);
    ES_RETURN_IF_ERROR(statement.Run());
    // The tags table holds each distinct tag of an event once: a query item's tags are a set.
    const std::set<std::string_view> tags(event.tags.begin(), event.tags.end());
    for (std::string_view tag : tags) {
      ES_ASSIGN_OR_RETURN(
          SqliteStatement insert,
          connection.Prepare("INSERT INTO " + tables_.tags + " (tag, position) VALUES (?, ?)"));
      insert.BindText(1, tag);
      insert.BindInt64(2, position);
      ES_RETURN_IF_ERROR(insert.Run());
    }
    return Status::OK();
  }

  // Wakes subscriptions and waits when another connection commits (PRAGMA data_version changes
  // only for other connections' commits, ours included since this is a connection of its own).
  // A failed poll is retried at the next interval.
  void Poll() {
    std::optional<std::int64_t> last_version;
    std::unique_lock lock(poller_mu_);
    while (!stopping_) {
      poller_wake_.wait_for(lock, options_.poll_interval);
      if (stopping_) break;
      lock.unlock();
      std::optional<std::int64_t> version = DataVersion();
      lock.lock();
      if (!version) continue;
      if (last_version && *version != *last_version) append_listeners().Notify();
      last_version = version;
    }
  }

  std::optional<std::int64_t> DataVersion() {
    std::unique_lock<std::mutex> exclusive;
    if (in_memory_) exclusive = std::unique_lock(*exclusive_);
    auto statement = poll_connection_->Prepare("PRAGMA data_version");
    if (!statement.ok()) return std::nullopt;
    auto row = statement->Step();
    if (!row.ok() || !*row) return std::nullopt;
    return statement->ColumnInt64(0);
  }

  const SqliteOptions options_;
  const SqliteTables tables_;
  const bool in_memory_;
  const std::shared_ptr<std::mutex> exclusive_;      // in memory: guards every use of writer_
  const std::optional<EventCompressor> compressor_;  // with Compression::kZstd
  std::unique_ptr<AesGcm> cipher_;                   // set by Start when the tables are encrypted
  // Without a key: the tables recorded no key id at open and may not hold events yet, so another
  // open may still record a key for them (guarded by the writer lease).
  bool may_get_key_ = false;

  std::mutex writer_mu_;  // file databases: guards writer_ and synchronous_
  const std::unique_ptr<SqliteConnection> writer_;
  std::string synchronous_;  // the PRAGMA synchronous mode writer_ is in

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<SqliteConnection>> readers_;  // guarded by pool_mu_

  std::unique_ptr<SqliteConnection> poll_connection_;  // used by poller_ only
  std::thread poller_;
  std::mutex poller_mu_;
  std::condition_variable poller_wake_;
  bool stopping_ = false;  // guarded by poller_mu_
};

}  // namespace

Result<std::unique_ptr<Recorder>> OpenSqliteRecorder(const SqliteOptions& options) {
  if (options.dbname.empty()) return Status::InvalidArgument("SQLite dbname is empty");
  if (options.lock_timeout.count() < 0) {
    return Status::InvalidArgument("SQLite lock_timeout must not be negative");
  }
  if (options.poll_interval.count() < 1) {
    return Status::InvalidArgument("SQLite poll_interval must be at least 1 ms");
  }
  if (options.max_read_connections < 0) {
    return Status::InvalidArgument("SQLite max_read_connections must not be negative");
  }
  if (options.compression_level < 0 || options.compression_level > 19) {
    return Status::InvalidArgument("SQLite compression_level must be between 0 and 19");
  }
  ES_ASSIGN_OR_RETURN(SqliteTables tables, SqliteTablesFor(options.application_name));
  ES_ASSIGN_OR_RETURN(
      std::unique_ptr<SqliteConnection> writer,
      SqliteConnection::Open(options.dbname, options.lock_timeout, ConnectionMode(options)));
  auto recorder = std::make_unique<SqliteRecorder>(options, std::move(tables), std::move(writer));
  ES_RETURN_IF_ERROR(
      recorder->Start().WithContext("opening SQLite database '" + options.dbname + "'"));
  return std::unique_ptr<Recorder>(std::move(recorder));
}

}  // namespace es
