// The recorder's tables, its append function and its statements, as SQL text (docs/postgres.md
// explains the design).
//
// Queries reach the server in one of four shapes, chosen on the client so that each statement has
// a plan that fits it (a tag lookup never scans the events table, a type lookup never touches the
// tags table):
//  - kAll: the query matches every event (no items, or an item with neither types nor tags);
//  - kTypes: every item has types and no tags: one list of types;
//  - kTags: every item has tags;
//  - kTagsAndTypes: both of the last two kinds of item.
#ifndef ES_ADAPTERS_POSTGRES_SRC_SCHEMA_H_
#define ES_ADAPTERS_POSTGRES_SRC_SCHEMA_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/postgres/src/connection.h"
#include "es/postgres.h"

namespace es::postgres {

enum class QueryShape : std::int32_t { kAll = 1, kTypes = 2, kTags = 3, kTagsAndTypes = 4 };

// What the append function reports (its `outcome` column).
enum class AppendOutcome : std::int32_t {
  kWritten = 0,           // last_position: the position of the last event (0: none)
  kConditionFailed = 1,   // last_position: the first matching event; detail: its type
  kStreamConflict = 2,    // detail: which stream version
  kTrackingConflict = 3,  // last_position: the application's recorded maximum
  kKeyMismatch = 4,       // last_position: the tables' key id (null: none)
  kHeadMoved = 5          // last_position: the head (not the one the values were sealed after)
};

// The event columns of every read, in this order: position, type, data, tags, stream_id,
// stream_version, uuid, metadata_keys, metadata_values, data_codec, sealed_metadata.
inline constexpr int kEventColumnCount = 11;

// The HKDF purpose of the tables' event data key (EventDataKeyFrom).
inline constexpr std::string_view kDataKeyPurpose = "es postgres event data v1";

// The qualified names of one application's tables and the statements on them.
class Schema {
 public:
  // InvalidArgument unless the schema and prefix are identifiers of [a-z0-9_] not starting with a
  // digit (upper case is lowered) that fit PostgreSQL's 63-byte limit with the suffixes added.
  static Result<Schema> Make(const PostgresOptions& options);

  // CREATE ... IF NOT EXISTS for the schema, the tables and the append function, in one
  // transaction serialised by an advisory lock (several processes may open at once).
  std::string CreateScript() const;
  // The qualified name of the table "<prefix>_<name>" ("events", "tags", "head", "tracking").
  std::string Table(std::string_view name) const;
  // The schema, empty for the server's search_path, and the table prefix, unquoted.
  std::string schema_name() const;
  const std::string& prefix() const { return prefix_; }
  // The LISTEN/NOTIFY channel, unquoted.
  const std::string& channel() const { return channel_; }
  std::string ListenCommand() const;

  // Parameters: $1 after, $2 limit (null: none), then the shape's match arguments (see
  // AddReadMatchParams in postgres_recorder.cc). Columns: the head, then the event columns.
  Statement Read(QueryShape shape) const;
  // Parameters: $1 stream id, $2 gt, $3 lte, $4 limit (each may be null). Columns: the event
  // columns.
  Statement ReadStream(bool descending) const;
  // One row: the head position (0: empty) and the count of writes (which changes on every write).
  Statement Head() const;
  // Parameter: $1 application name. Zero rows or one: its maximum tracking id.
  Statement MaxTrackingId() const;
  // No parameters. Columns: application name, maximum tracking id; by application name.
  Statement TrackingRecords() const;
  // Calls the append function; parameters as its declaration in CreateScript(). One row:
  // outcome, last_position, detail.
  Statement Append() const;
  // Inside a transaction: locks the head row (as the append function does) and returns its
  // position, so that an encrypted write knows the positions it seals its values for.
  Statement LockHead() const;
  // One row: the head position and the key id the tables record (null: none).
  Statement KeyId() const;
  // Parameter: $1 key id. Records it when the tables record none and hold no event.
  Statement RecordKeyId() const;
  // Parameters: $1 events table, $2 head table (qualified names). One row: how many of the
  // columns compression and encryption added (3 when the tables have them all).
  Statement CodecColumns() const;
  // Parameters: $1 after, $2 limit. Columns: the event columns of the events after `after`, in
  // position order (verify's walk).
  Statement EventPage() const;

 private:
  std::string schema_;  // quoted and followed by '.', or empty
  std::string prefix_;
  std::string channel_;
};

}  // namespace es::postgres

#endif  // ES_ADAPTERS_POSTGRES_SRC_SCHEMA_H_
