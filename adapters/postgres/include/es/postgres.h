// The PostgreSQL recorder: every recorder interface over tables on a PostgreSQL server, shared by
// any number of processes on any number of machines (docs/postgres.md).
//
//   es::PostgresOptions options;
//   options.dbname = "shop";
//   options.user = "shop";
//   auto recorder = es::OpenPostgresRecorder(options);
//   if (!recorder.ok()) ...
//
// Positions are given out in commit order by every writer of the same tables, whichever process
// it runs in: each write takes one row lock, so a subscriber never skips an event. Subscriptions
// and tracking waits wake on LISTEN/NOTIFY, and poll while the notification connection is down.
//
// Text fields (types, tags, stream ids, application names, metadata) must be valid UTF-8 without
// NUL bytes, as PostgreSQL text requires; others get InvalidArgument. Event data is any bytes.
// Event data may be compressed, and data and metadata encrypted (`compression`, `key_provider`).
#ifndef ES_POSTGRES_H_
#define ES_POSTGRES_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "es/encryption.h"
#include "es/options.h"
#include "es/recorder.h"
#include "es/result.h"

namespace es {

struct PostgresOptions {
  // ---- The server ----
  std::string dbname;              // required
  std::string host = "localhost";  // a name, an address, or a Unix socket directory
  int port = 5432;
  std::string user;      // empty: libpq's default (the OS user)
  std::string password;  // empty: none, or libpq's ~/.pgpass
  // Seconds to wait for a new connection to be established (0: wait for ever).
  int connect_timeout_s = 5;

  // ---- The tables ----
  // The schema that holds the tables; it is created with them when create_table is set. Empty:
  // the server's search_path (usually "public").
  std::string schema;
  // The tables are named "<table_prefix>_events", "_tags", "_head" and "_tracking": one set per
  // application. Lower-cased; letters, digits and '_' only, not starting with a digit, at
  // most 49 characters.
  std::string table_prefix = "es";
  // Creates the schema, tables and append function when missing (CREATE ... IF NOT EXISTS).
  bool create_table = true;

  // ---- The connection pool ----
  // Connections kept open between uses.
  int pool_size = 5;
  // Connections opened beyond pool_size when all are busy; closed when returned.
  int pool_max_overflow = 10;
  // How long a call waits for a connection when pool_size + pool_max_overflow are in use, before
  // failing with Timeout.
  std::chrono::milliseconds pool_timeout = std::chrono::seconds(30);
  // Connections older than this are closed and replaced (absent: reused for ever).
  std::optional<std::chrono::seconds> max_connection_age;
  // Sends "SELECT 1" on a connection before each use, so a connection the server dropped is
  // replaced before a call relies on it (one more round trip per call). Without it a connection
  // already closed by the server is still detected, without a round trip.
  bool pre_ping = false;

  // ---- Per session ----
  // How long a write waits for the append lock before failing (0: for ever). Session setting
  // lock_timeout.
  std::chrono::milliseconds lock_timeout = std::chrono::milliseconds(0);
  // The server ends a session that stays idle inside a transaction this long (0: never). Session
  // setting idle_in_transaction_session_timeout.
  std::chrono::milliseconds idle_in_transaction_session_timeout = std::chrono::seconds(5);

  // ---- Compression and encryption (docs/postgres.md, "Encryption"), as SqliteOptions' ----
  // Event data compressed with zstd, each event on its own: data of 64 bytes or more that shrinks
  // is stored compressed, marked by the data_codec column. Applies to new writes; any is read back.
  Compression compression = Compression::kNone;
  int compression_level = 0;  // zstd's, 1 to 19; 0: zstd's default (3)
  // Encrypts each event's data and metadata with AES-256-GCM; types, tags and stream ids stay
  // plain, since the server's queries select on them. The first open with a key (and
  // create_table) of tables without events records the key's id in the head table: later opens
  // need the same key (InvalidArgument otherwise, before anything is read or written), and tables
  // holding plain events refuse a key. Each encrypted write holds the append lock for one more
  // round trip (the positions are sealed in, so they are read first).
  std::shared_ptr<KeyProvider> key_provider;
};

// Connects, creates the tables when options.create_table is set and they are missing (and adds
// the columns an earlier version's tables lack), checks the key against the tables' key id, and
// starts the notification listener. InvalidArgument for bad options, for a key the tables refuse
// (or tables that need one), and for tables of an earlier version when create_table is off;
// IOError when the server cannot be reached or the tables are missing.
Result<std::unique_ptr<Recorder>> OpenPostgresRecorder(const PostgresOptions& options);

// Options from a URI: postgresql://user:password@host:port/dbname?key=value&... (also
// "postgres://"). Percent-escapes are decoded. Keys, each optional: schema, table_prefix,
// create_table, pool_size, pool_max_overflow, pool_timeout (seconds), max_connection_age
// (seconds), pre_ping, lock_timeout (seconds), idle_in_transaction_session_timeout (seconds),
// connect_timeout (seconds), compression (zstd or none), compression_level (1 to 19). Booleans
// are y/yes/t/true/on/1 or n/no/f/false/off/0. Unknown keys are InvalidArgument. A key has no URI
// form (secrets do not belong in URIs): set key_provider, or CIPHER_KEY with
// PostgresOptionsFromEnv.
Result<PostgresOptions> PostgresOptionsFromUri(std::string_view uri);

// Looks up one environment variable; null when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Options from the environment, as the Python library reads them: POSTGRES_DBNAME (required),
// POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_SCHEMA,
// POSTGRES_CONNECT_TIMEOUT, POSTGRES_POOL_SIZE, POSTGRES_POOL_MAX_OVERFLOW (or
// POSTGRES_MAX_OVERFLOW, the name in the Python docs), POSTGRES_POOL_TIMEOUT,
// POSTGRES_CONN_MAX_AGE, POSTGRES_PRE_PING, POSTGRES_LOCK_TIMEOUT,
// POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT (times in seconds, fractions allowed),
// CREATE_TABLE, and COMPRESSOR_TOPIC, CIPHER_TOPIC and CIPHER_KEY (as OptionsFromEnvironment in
// es/options.h). With a non-empty `application_name`, each variable K is first looked up as
// <APPLICATION_NAME>_K (upper-cased), and the tables are prefixed by the lower-cased application
// name. `lookup` defaults to getenv.
Result<PostgresOptions> PostgresOptionsFromEnv(std::string_view application_name = {},
                                               const EnvLookup& lookup = nullptr);

}  // namespace es

#endif  // ES_POSTGRES_H_
