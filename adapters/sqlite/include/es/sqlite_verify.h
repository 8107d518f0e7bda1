// Checking a SQLite recorder's database without changing it: what `esdump sqlite:PATH verify`
// runs (docs/tools.md).
#ifndef ES_SQLITE_VERIFY_H_
#define ES_SQLITE_VERIFY_H_

#include "es/recorder_verify.h"
#include "es/result.h"
#include "es/sqlite.h"

namespace es {

// Checks the tables of `options.application_name` in the database `options.dbname`, opened
// read-only (nothing is written, not even a key id), in one read transaction (a snapshot: a
// writer may go on meanwhile). Each problem is reported with its table, and its event's position
// when it concerns one event; the walk goes on past every problem:
//  - PRAGMA integrity_check: each line it returns but "ok" (the file's pages, records and indexes);
//  - the events, tags and tracking tables exist; the meta table's key id, when present, is a
//    key id (1 to 2^32-1);
//  - events: positions 1, 2, 3, ... without a gap; every row decodes as a read decodes it
//    (data_codec bits, tag and metadata lists, uuid, zstd data), a non-empty type, a stream id
//    and version both set or both null; every row sealed when the tables record a key id and
//    none otherwise. With options.key_provider every sealed data and metadata value is opened
//    (authenticated); without it, sealed values are only checked to hold a nonce and a tag;
//  - the tags table holds exactly each distinct tag of each event, and no row for another
//    position;
//  - no (stream id, version) twice (its unique index prevents it, unless the index is damaged);
//  - tracking rows: a non-empty application name and an integer notification id.
// Stream versions need not be contiguous (recorders enforce uniqueness only), and the tables
// record no format version: neither is checked.
// InvalidArgument for an in-memory database, for a key that is not the tables' (their key id
// differs) or a key for tables that record none, as an open would refuse; IOError or Corruption
// when the database cannot be opened or read at all (not a database). Everything else is a
// problem in the report.
Result<RecorderVerifyReport> VerifySqlite(const SqliteOptions& options);

}  // namespace es

#endif  // ES_SQLITE_VERIFY_H_
