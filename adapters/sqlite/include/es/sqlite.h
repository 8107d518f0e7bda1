// The SQLite recorder: every recorder interface (recorder.h) on one SQLite database, for users who
// want a single-file store that other SQLite tools can read. Schema and behaviour: docs/sqlite.md.
//
//   es::SqliteOptions options;
//   options.dbname = "/var/lib/app/events.sqlite";
//   auto recorder = es::OpenSqliteRecorder(options);
//   if (!recorder.ok()) { ... recorder.status().ToString() ... }
//
// Writes are serialised by SQLite's database write lock (BEGIN IMMEDIATE), so positions are
// gap-free and given out in commit order even when several processes append to one file. A write
// that cannot take the lock within `lock_timeout` fails with Status::Locked and writes nothing.
// Subscriptions and tracking waits are woken at once by writes made through the same recorder,
// and within `poll_interval` by writes made through another connection or process.
#ifndef ES_SQLITE_H_
#define ES_SQLITE_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "es/options.h"
#include "es/recorder.h"
#include "es/result.h"

namespace es {

struct SqliteOptions {
  // Required. A file path (the database uses WAL, so readers run beside the writer);
  // ":memory:" (private to this recorder); "file::memory:?mode=memory&cache=shared" or
  // "file:NAME?mode=memory&cache=shared" (in memory, shared by every recorder of this process
  // that opens the same name). Other "file:" URIs are passed to SQLite as they are.
  std::string dbname;

  // How long a write waits for another connection's write lock before failing with Locked.
  // SQLite's own default, as in the Python library's SQLITE_LOCK_TIMEOUT.
  std::chrono::milliseconds lock_timeout{5000};

  // Names the tables "<application_name>_events", "_tags" and "_tracking" (lower-cased), so that
  // several applications share one file. Empty: "es_events", "es_tags", "es_tracking". Letters,
  // digits and '_' only.
  std::string application_name;

  // Create the tables (and their indexes) when they are missing. When false, opening a database
  // without them fails with NotFound.
  bool create_table = true;

  // Open an existing database without ever writing to it (esdump): its connections are opened
  // read-only, the tables must exist (NotFound otherwise; create_table is ignored), the journal
  // mode is left as it is, a key is checked against the tables' recorded key id but never
  // recorded (tables that record none refuse a key with InvalidArgument), and writes fail with
  // NotSupported. Each read sees the database as it is then. In memory: InvalidArgument. (As for
  // any reader of a WAL database, SQLite makes the -shm file and an empty -wal when they are
  // missing; the database file itself is never written.)
  bool read_only = false;

  // The store default for writes that do not set one. kSync commits with PRAGMA synchronous=FULL
  // (the WAL is synced at every commit); kBuffered and kNone with NORMAL (synced at WAL
  // checkpoints: a crash of the machine may lose the latest commits, never corrupt the file).
  Durability durability = Durability::kSync;

  // How often a background connection looks for writes made by other connections (PRAGMA
  // data_version), to wake subscriptions and waits. Unused for ":memory:".
  std::chrono::milliseconds poll_interval{100};

  // Read connections kept open for concurrent readers (file databases only).
  int max_read_connections = 4;

  // Event data compressed with zstd, each event on its own, as the engine does
  // (Options::compression; no dictionaries here): data of 64 bytes or more that shrinks is stored
  // compressed, marked by the data_codec column. Applies to new writes; any is read back.
  Compression compression = Compression::kNone;
  int compression_level = 0;  // zstd's, 1 to 19; 0: zstd's default (3)

  // Encrypts each event's data and metadata with AES-256-GCM (docs/sqlite.md, "Encryption");
  // types, tags and stream ids stay plain, since queries select on them. The tables record the
  // key's id when the first open with a key finds them without events: later opens need the same
  // key (InvalidArgument otherwise, before anything is read), and tables holding plain events
  // refuse a key.
  std::shared_ptr<KeyProvider> key_provider;
};

// Opens (creating when missing) the database `options.dbname` and its tables. InvalidArgument for
// bad options; Corruption when the file is not a database or fails SQLite's checks; Locked when
// the schema cannot be read or created within the lock timeout; IOError otherwise.
Result<std::unique_ptr<Recorder>> OpenSqliteRecorder(const SqliteOptions& options);

// The options named by a store URI "sqlite:DBNAME" (DBNAME as SqliteOptions::dbname), with the
// other fields at their defaults. InvalidArgument when `uri` is not of that form.
Result<SqliteOptions> SqliteOptionsFromUri(std::string_view uri);

// The options the Python library reads from the environment: SQLITE_DBNAME (required),
// SQLITE_LOCK_TIMEOUT (whole seconds), CREATE_TABLE (y/n, yes/no, true/false, on/off, 1/0),
// COMPRESSOR_TOPIC and CIPHER_KEY (as OptionsFromEnvironment in es/options.h).
// With a non-empty `application_name`, "<APPLICATION_NAME>_<VAR>" (upper-cased) is read first and
// the plain name is the fallback; the application name also names the tables. InvalidArgument
// naming the variable when one is missing or malformed.
Result<SqliteOptions> SqliteOptionsFromEnvironment(std::string_view application_name = {});

}  // namespace es

#endif  // ES_SQLITE_H_
