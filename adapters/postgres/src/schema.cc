#include "adapters/postgres/src/schema.h"

#include <cctype>

namespace es::postgres {
namespace {

constexpr std::size_t kMaxIdentifier = 63;  // PostgreSQL's NAMEDATALEN - 1

Result<std::string> Identifier(std::string_view what, std::string_view text, std::size_t room) {
  std::string lower;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '_') {
      return Status::InvalidArgument(std::string(what) + " '" + std::string(text) +
                                     "' may hold only letters, digits and '_'");
    }
    lower += static_cast<char>(std::tolower(u));
  }
  if (!lower.empty() && std::isdigit(static_cast<unsigned char>(lower.front()))) {
    return Status::InvalidArgument(std::string(what) + " '" + std::string(text) +
                                   "' must not start with a digit");
  }
  if (lower.size() > room) {
    return Status::InvalidArgument(std::string(what) + " '" + std::string(text) +
                                   "' is longer than " + std::to_string(room) + " characters");
  }
  return lower;
}

// Replaces every "{name}" in `text` by `value`.
std::string Substitute(std::string text, std::string_view name, std::string_view value) {
  const std::string key = "{" + std::string(name) + "}";
  for (std::size_t at = text.find(key); at != std::string::npos;
       at = text.find(key, at + value.size())) {
    text.replace(at, key.size(), value);
  }
  return text;
}

// The names a match fragment refers to: statement parameters ($n) in a read, function arguments
// in the append function.
struct MatchNames {
  std::string after;
  std::string limit;        // int8: at most this many matches are needed (null: all)
  std::string plain_types;  // text[]: the types of the items without tags
  std::string tag_item;     // int4[]: for each (tagged item, distinct tag) pair, the item's number
  std::string tag;          // text[]: ... and the tag
  std::string tag_count;    // int4[]: per tagged item, its number of distinct tags
  std::string type_item;    // int4[]: for each (tagged item, type) pair, the item's number
  std::string type;         // text[]: ... and the type
};

// Positions > after of the events matching some item with tags: for each (item, distinct tag)
// one range scan of the (tag, position) B-tree; an event matches an item when it has as many of
// the item's distinct tags as the item has, and its type is one of the item's (if it names any),
// checked on the covering (position) INCLUDE (type) index.
//
// The plans must not depend on statistics: prepared statements run on generic plans, which
// estimate array parameters blindly, and a stale estimate once chose a hash join over a scan of the
// whole tags table. So the per-tag scans are LATERAL subqueries kept from being flattened (OFFSET
// 0), and the type check is a scalar subquery (never turned into a join or a hashed subplan):
// both always run as index lookups, bounded by the size of the consistency boundary, whatever
// the table's size.
std::string TagsFragment(const MatchNames& n) {
  std::string sql = R"sql(
    SELECT h.position FROM (
      SELECT t.position, q.item
      FROM unnest({tag_item}::int4[], {tag}::text[]) AS q(item, tag)
      CROSS JOIN LATERAL (SELECT tt.position FROM {tags} tt
                          WHERE tt.tag = q.tag AND tt.position > {after} OFFSET 0) t
      GROUP BY t.position, q.item
      HAVING count(*) = ({tag_count}::int4[])[q.item]) h
    WHERE CASE WHEN NOT ({type_item}::int4[] @> ARRAY[h.item]) THEN true
          ELSE (SELECT e.type FROM {events} e WHERE e.position = h.position)
               = ANY(ARRAY(SELECT y.type FROM unnest({type_item}::int4[], {type}::text[])
                           AS y(item, type) WHERE y.item = h.item)) END)sql";
  sql = Substitute(sql, "tag_item", n.tag_item);
  sql = Substitute(sql, "tag_count", n.tag_count);
  sql = Substitute(sql, "tag", n.tag);
  sql = Substitute(sql, "type_item", n.type_item);
  sql = Substitute(sql, "type", n.type);
  return Substitute(sql, "after", n.after);
}

// For each type (distinct: the client removes duplicates), the first `limit` positions after
// `after` from the (type, position) index.
std::string TypesFragment(const MatchNames& n) {
  std::string sql = R"sql(
    SELECT x.position FROM unnest({plain_types}::text[]) AS ty(type)
    CROSS JOIN LATERAL (SELECT e.position FROM {events} e
                        WHERE e.type = ty.type AND e.position > {after}
                        ORDER BY e.position LIMIT {limit}) x)sql";
  sql = Substitute(sql, "plain_types", n.plain_types);
  sql = Substitute(sql, "limit", n.limit);
  return Substitute(sql, "after", n.after);
}

std::string AllFragment(const MatchNames& n) {
  return "SELECT e.position FROM {events} e WHERE e.position > " + n.after;
}

// The positions matching a query of `shape`, without duplicates, in no particular order.
std::string MatchingPositions(QueryShape shape, const MatchNames& n) {
  switch (shape) {
    case QueryShape::kAll:
      return AllFragment(n);
    case QueryShape::kTypes:
      return TypesFragment(n);
    case QueryShape::kTags:
      // An event may match several items: duplicates go before the limit.
      return "SELECT DISTINCT m.position FROM (" + TagsFragment(n) + ") m";
    case QueryShape::kTagsAndTypes:
      return TagsFragment(n) + " UNION " + TypesFragment(n);
  }
  return AllFragment(n);
}

// Read parameters: $1 after, $2 limit, then the shape's own.
MatchNames ReadNames(QueryShape shape) {
  MatchNames n;
  n.after = "$1::int8";
  n.limit = "$2::int8";
  switch (shape) {
    case QueryShape::kAll:
      break;
    case QueryShape::kTypes:
      n.plain_types = "$3";
      break;
    case QueryShape::kTags:
    case QueryShape::kTagsAndTypes:
      n.tag_item = "$3";
      n.tag = "$4";
      n.tag_count = "$5";
      n.type_item = "$6";
      n.type = "$7";
      n.plain_types = "$8";
      break;
  }
  return n;
}

constexpr char kEventColumns[] =
    "e.position, e.type, e.data, e.tags, e.stream_id, e.stream_version, e.uuid, "
    "e.metadata_keys, e.metadata_values, e.data_codec, e.sealed_metadata";

// The append function. One call is one transaction (or part of the caller's, for an encrypted
// write): it takes the head row's lock (so appends commit one at a time, in position order),
// checks the writer's key id against the tables' (so that no writer that opened before a key was
// recorded writes plain events beside sealed ones) and the positions the values were sealed for,
// then the condition, the stream versions and the tracking record, and only then writes the
// events, their tags, the tracking record and the new head, and notifies listeners. A failed
// check returns its outcome having written nothing.
constexpr char kAppendFunction[] = R"sql(
CREATE OR REPLACE FUNCTION {append}(
    ev_type text[], ev_data bytea[], ev_tag_count int4[], ev_tag text[], ev_stream_id text[],
    ev_stream_version int8[], ev_uuid uuid[], ev_meta_count int4[], ev_meta_key text[],
    ev_meta_value text[], ev_codec int4[], ev_sealed_metadata bytea[],
    cond_shape int4, cond_after int8, cond_plain_types text[], cond_tag_item int4[],
    cond_tag text[], cond_tag_count int4[], cond_type_item int4[], cond_type text[],
    tracking_application text, tracking_id int8, writer_key_id int8, sealed_after int8,
    OUT outcome int4, OUT last_position int8, OUT detail text)
LANGUAGE plpgsql AS $fn$
DECLARE
  old_head int8;
  tables_key_id int8;
  event_count int4 := cardinality(ev_type);
  matched int8;
  conflict text;
  max_tracking int8;
BEGIN
  SELECT hd.position, hd.key_id INTO old_head, tables_key_id FROM {head} hd FOR UPDATE;
  IF tables_key_id IS DISTINCT FROM writer_key_id THEN
    outcome := 4;
    last_position := tables_key_id;
    RETURN;
  END IF;
  IF sealed_after IS DISTINCT FROM NULL AND sealed_after <> old_head THEN
    outcome := 5;
    last_position := old_head;
    RETURN;
  END IF;
  IF cond_shape = 1 THEN
    SELECT m.position INTO matched FROM ({match_all}) m ORDER BY m.position LIMIT 1;
  ELSIF cond_shape = 2 THEN
    SELECT m.position INTO matched FROM ({match_types}) m ORDER BY m.position LIMIT 1;
  ELSIF cond_shape = 3 THEN
    SELECT m.position INTO matched FROM ({match_tags}) m ORDER BY m.position LIMIT 1;
  ELSIF cond_shape = 4 THEN
    SELECT m.position INTO matched FROM ({match_tags_and_types}) m ORDER BY m.position LIMIT 1;
  END IF;
  IF matched IS NOT NULL THEN
    outcome := 1;
    last_position := matched;
    SELECT e.type INTO detail FROM {events} e WHERE e.position = matched;
    RETURN;
  END IF;

  SELECT format('stream %L version %s already exists', u.s, u.v) INTO conflict
    FROM unnest(ev_stream_id, ev_stream_version) AS u(s, v)
    JOIN {events} e ON e.stream_id = u.s AND e.stream_version = u.v LIMIT 1;
  IF conflict IS NULL THEN
    SELECT format('stream %L version %s appears twice in the request', u.s, u.v) INTO conflict
      FROM unnest(ev_stream_id, ev_stream_version) AS u(s, v)
      WHERE u.s IS NOT NULL GROUP BY u.s, u.v HAVING count(*) > 1 LIMIT 1;
  END IF;
  IF conflict IS NOT NULL THEN
    outcome := 2;
    detail := conflict;
    RETURN;
  END IF;

  IF tracking_application IS NOT NULL THEN
    SELECT k.notification_id INTO max_tracking FROM {tracking} k
      WHERE k.application_name = tracking_application;
    IF max_tracking >= tracking_id THEN
      outcome := 3;
      last_position := max_tracking;
      RETURN;
    END IF;
    INSERT INTO {tracking} AS k (application_name, notification_id)
      VALUES (tracking_application, tracking_id)
      ON CONFLICT (application_name) DO UPDATE SET notification_id = EXCLUDED.notification_id;
  END IF;

  IF event_count > 0 THEN
    -- One statement writes both tables from the arguments: the tags need no second look at the
    -- events table. Each event's tags and metadata are its slice of the flattened arrays.
    WITH input AS (
      SELECT r.*, (sum(r.tc) OVER w - r.tc)::int4 AS tag_start,
             (sum(r.mc) OVER w - r.mc)::int4 AS meta_start
      FROM unnest(ev_type, ev_data, ev_tag_count, ev_stream_id, ev_stream_version, ev_uuid,
                  ev_meta_count, ev_codec, ev_sealed_metadata)
           WITH ORDINALITY AS r(t, d, tc, s, v, u, mc, c, sm, i)
      WINDOW w AS (ORDER BY r.i)),
    inserted AS (
      INSERT INTO {events} (position, type, data, tags, stream_id, stream_version, uuid,
                            metadata_keys, metadata_values, data_codec, sealed_metadata)
      SELECT old_head + x.i, x.t, x.d, ev_tag[x.tag_start + 1 : x.tag_start + x.tc], x.s, x.v,
             x.u, ev_meta_key[x.meta_start + 1 : x.meta_start + x.mc],
             ev_meta_value[x.meta_start + 1 : x.meta_start + x.mc], x.c, nullif(x.sm, ''::bytea)
      FROM input x)
    INSERT INTO {tags} (tag, position)
    SELECT DISTINCT g.tag, old_head + x.i
    FROM input x, unnest(ev_tag[x.tag_start + 1 : x.tag_start + x.tc]) AS g(tag);
  END IF;
  UPDATE {head} SET position = old_head + event_count, writes = writes + 1;
  PERFORM pg_notify('{channel}', (old_head + event_count)::text);
  outcome := 0;
  last_position := old_head + event_count;
END
$fn$;
)sql";

MatchNames FunctionNames() {
  return MatchNames{"cond_after",     "1",        "cond_plain_types",
                    "cond_tag_item",  "cond_tag", "cond_tag_count",
                    "cond_type_item", "cond_type"};
}

}  // namespace

Result<Schema> Schema::Make(const PostgresOptions& options) {
  constexpr std::size_t kLongestSuffix = sizeof("_tracking_pkey") - 1;
  Schema schema;
  ES_ASSIGN_OR_RETURN(std::string name, Identifier("schema", options.schema, kMaxIdentifier));
  if (options.table_prefix.empty()) return Status::InvalidArgument("empty table prefix");
  ES_ASSIGN_OR_RETURN(schema.prefix_, Identifier("table prefix", options.table_prefix,
                                                 kMaxIdentifier - kLongestSuffix));
  if (!name.empty()) schema.schema_ = "\"" + name + "\".";
  schema.channel_ = (name.empty() ? "" : name + "_") + schema.prefix_ + "_events";
  if (schema.channel_.size() > kMaxIdentifier) {
    return Status::InvalidArgument("schema and table prefix together are too long for a channel: " +
                                   schema.channel_);
  }
  return schema;
}

std::string Schema::CreateScript() const {
  std::string sql = "BEGIN;\nSELECT pg_advisory_xact_lock(hashtext('es.create_table'));\n";
  if (!schema_.empty()) {
    sql += "CREATE SCHEMA IF NOT EXISTS " + schema_.substr(0, schema_.size() - 1) + ";\n";
  }
  // Tables of the version before compression and encryption get their columns first, and only
  // when they lack them: ALTER TABLE locks a table exclusively even when it changes nothing, and
  // taken while a writer holds the head row (locked first by every append) it would deadlock with
  // that writer. Here, before the script locks anything else, it waits for the writers instead.
  // A default needs no rewrite. Append-only tables: ANALYZE often (1% new rows) so plans follow
  // the growth.
  sql += R"sql(
DO $upgrade$ DECLARE c record; BEGIN
  FOR c IN SELECT * FROM (VALUES ('{head}', 'key_id', 'bigint'),
      ('{events}', 'data_codec', 'integer NOT NULL DEFAULT 0'),
      ('{events}', 'sealed_metadata', 'bytea')) AS added (tab, col, def) LOOP
    IF to_regclass(c.tab) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_attribute
        WHERE attrelid = to_regclass(c.tab) AND attname = c.col AND NOT attisdropped) THEN
      EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', c.tab, c.col, c.def);
    END IF;
  END LOOP;
END $upgrade$;
CREATE TABLE IF NOT EXISTS {events} (
  position bigint NOT NULL,
  type text NOT NULL,
  data bytea NOT NULL,
  tags text[] NOT NULL,
  stream_id text,
  stream_version bigint,
  uuid uuid,
  metadata_keys text[] NOT NULL,
  metadata_values text[] NOT NULL,
  data_codec integer NOT NULL DEFAULT 0,
  sealed_metadata bytea,
  CONSTRAINT {prefix}_events_pkey PRIMARY KEY (position) INCLUDE (type)
) WITH (autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 1000);
CREATE UNIQUE INDEX IF NOT EXISTS {prefix}_events_stream ON {events} (stream_id, stream_version)
  WHERE stream_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS {prefix}_events_type ON {events} (type, position);
CREATE TABLE IF NOT EXISTS {tags} (
  tag text NOT NULL,
  position bigint NOT NULL,
  CONSTRAINT {prefix}_tags_pkey PRIMARY KEY (tag, position)
) WITH (autovacuum_analyze_scale_factor = 0.01, autovacuum_analyze_threshold = 1000);
CREATE TABLE IF NOT EXISTS {head} (
  one boolean NOT NULL DEFAULT true CHECK (one),
  position bigint NOT NULL,
  writes bigint NOT NULL,
  key_id bigint,
  CONSTRAINT {prefix}_head_pkey PRIMARY KEY (one)
);
INSERT INTO {head} (one, position, writes) VALUES (true, 0, 0) ON CONFLICT DO NOTHING;
-- The earlier version's append function: a process of that version would write plain events
-- into tables that may now be encrypted, so it goes.
DROP FUNCTION IF EXISTS {append}(text[], bytea[], int4[], text[], text[], int8[], uuid[], int4[],
  text[], text[], int4, int8, text[], int4[], text[], int4[], int4[], text[], text, int8);
CREATE TABLE IF NOT EXISTS {tracking} (
  application_name text NOT NULL,
  notification_id bigint NOT NULL,
  CONSTRAINT {prefix}_tracking_pkey PRIMARY KEY (application_name)
);
)sql";
  sql += kAppendFunction;
  sql += "COMMIT;\n";
  const MatchNames names = FunctionNames();
  sql = Substitute(sql, "match_all", MatchingPositions(QueryShape::kAll, names));
  sql = Substitute(sql, "match_types", MatchingPositions(QueryShape::kTypes, names));
  sql = Substitute(sql, "match_tags", MatchingPositions(QueryShape::kTags, names));
  sql =
      Substitute(sql, "match_tags_and_types", MatchingPositions(QueryShape::kTagsAndTypes, names));
  sql = Substitute(sql, "channel", channel_);
  sql = Substitute(sql, "append", schema_ + prefix_ + "_append");
  sql = Substitute(sql, "events", schema_ + prefix_ + "_events");
  sql = Substitute(sql, "tags", schema_ + prefix_ + "_tags");
  sql = Substitute(sql, "head", schema_ + prefix_ + "_head");
  sql = Substitute(sql, "tracking", schema_ + prefix_ + "_tracking");
  return Substitute(sql, "prefix", prefix_);
}

std::string Schema::Table(std::string_view name) const {
  return schema_ + prefix_ + "_" + std::string(name);
}

std::string Schema::schema_name() const {
  return schema_.empty() ? "" : schema_.substr(1, schema_.size() - 3);
}

std::string Schema::ListenCommand() const { return "LISTEN \"" + channel_ + "\""; }

Statement Schema::Read(QueryShape shape) const {
  // One statement, so one snapshot: the head and the events agree. The head row is joined to
  // the matches so that it comes back even when nothing matched.
  std::string sql =
      "SELECT hd.position, " + std::string(kEventColumns) +
      " FROM {head} hd LEFT JOIN (SELECT p.position FROM (" +
      MatchingPositions(shape, ReadNames(shape)) +
      ") p ORDER BY p.position LIMIT $2::int8) page ON true "
      "LEFT JOIN LATERAL (SELECT * FROM {events} ev WHERE ev.position = page.position "
      "OFFSET 0) e ON true ORDER BY e.position";
  sql = Substitute(sql, "events", schema_ + prefix_ + "_events");
  sql = Substitute(sql, "tags", schema_ + prefix_ + "_tags");
  sql = Substitute(sql, "head", schema_ + prefix_ + "_head");
  return Statement{"read" + std::to_string(static_cast<int>(shape)), sql};
}

Statement Schema::ReadStream(bool descending) const {
  const std::string order = descending ? " DESC" : "";
  return Statement{descending ? "read_stream_desc" : "read_stream",
                   "SELECT " + std::string(kEventColumns) + " FROM " + schema_ + prefix_ +
                       "_events e WHERE e.stream_id = $1::text "
                       "AND ($2::int8 IS NULL OR e.stream_version > $2::int8) "
                       "AND ($3::int8 IS NULL OR e.stream_version <= $3::int8) "
                       "ORDER BY e.stream_version" +
                       order + " LIMIT $4::int8"};
}

Statement Schema::Head() const {
  return Statement{"head", "SELECT position, writes FROM " + schema_ + prefix_ + "_head"};
}

Statement Schema::MaxTrackingId() const {
  return Statement{"max_tracking_id", "SELECT notification_id FROM " + schema_ + prefix_ +
                                          "_tracking WHERE application_name = $1::text"};
}

Statement Schema::TrackingRecords() const {
  return Statement{"tracking_records", "SELECT application_name, notification_id FROM " + schema_ +
                                           prefix_ +
                                           "_tracking ORDER BY application_name COLLATE \"C\""};
}

Statement Schema::Append() const {
  std::string sql = "SELECT outcome, last_position, detail FROM " + schema_ + prefix_ + "_append(";
  for (int i = 1; i <= 24; ++i) sql += (i > 1 ? ", $" : "$") + std::to_string(i);
  return Statement{"append", sql + ")"};
}

Statement Schema::LockHead() const {
  return Statement{"lock_head", "SELECT position FROM " + schema_ + prefix_ + "_head FOR UPDATE"};
}

Statement Schema::KeyId() const {
  return Statement{"key_id", "SELECT position, key_id FROM " + schema_ + prefix_ + "_head"};
}

Statement Schema::RecordKeyId() const {
  return Statement{"record_key_id", "UPDATE " + schema_ + prefix_ +
                                        "_head SET key_id = $1::int8"
                                        " WHERE key_id IS NULL AND position = 0"};
}

Statement Schema::EventPage() const {
  return Statement{"event_page", "SELECT " + std::string(kEventColumns) + " FROM " + schema_ +
                                     prefix_ +
                                     "_events e WHERE e.position > $1::int8 ORDER BY e.position"
                                     " LIMIT $2::int8"};
}

Statement Schema::CodecColumns() const {
  return Statement{"codec_columns",
                   "SELECT count(*)::int8 FROM pg_attribute WHERE NOT attisdropped AND ("
                   "(attrelid = to_regclass($1::text) AND attname IN ('data_codec', "
                   "'sealed_metadata')) OR (attrelid = to_regclass($2::text) AND attname = "
                   "'key_id'))"};
}

}  // namespace es::postgres
