// Checking a PostgreSQL recorder's tables without changing them: what
// `esdump postgresql://... verify` runs (docs/tools.md).
#ifndef ES_POSTGRES_VERIFY_H_
#define ES_POSTGRES_VERIFY_H_

#include "es/postgres.h"
#include "es/recorder_verify.h"
#include "es/result.h"

namespace es {

// Checks the tables of `options` (schema, table_prefix) in one READ ONLY, REPEATABLE READ
// transaction (a snapshot: writers go on meanwhile, and nothing is written). Each problem is
// reported with its table, and its event's position when it concerns one event:
//  - the events, tags, head and tracking tables exist;
//  - the head table holds one row, whose position is the last event's (0 when there is none);
//  - events: positions 1, 2, 3, ... without a gap (the append function gives out head + 1, ...);
//    a non-empty type; a stream id and version both set or both null, the id not empty; tags and
//    metadata arrays one-dimensional without null elements, as many metadata values as keys and
//    no key twice;
//  - the tags table holds exactly each distinct tag of each event, and no row for another
//    position;
//  - no (stream id, version) twice (its unique index prevents it, unless the index was dropped);
//  - tracking rows: a non-empty application name;
//  - the data_codec, sealed_metadata and key_id columns exist (tables of an earlier version lack
//    them); the head's key id, when set, is a key id (1 to 2^32-1); every event row decodes as
//    a read decodes it (data_codec bits, zstd data), is sealed when the tables record a key id
//    and not otherwise, and keeps its metadata in the plain columns or sealed_metadata to match.
//    With options.key_provider every sealed value is opened (authenticated); without it, sealed
//    values are only checked to hold a nonce and a tag.
// The tables record no format version: there is nothing of it to check. Stream versions need not
// be contiguous (recorders enforce uniqueness only). InvalidArgument for a key that is not the
// tables' or a key for tables that record none, as an open would refuse; IOError when the server
// cannot be reached or a check's query fails.
Result<RecorderVerifyReport> VerifyPostgres(const PostgresOptions& options);

}  // namespace es

#endif  // ES_POSTGRES_VERIFY_H_
