#include "es/postgres_verify.h"

#include <string>
#include <vector>

#include "adapters/common/event_codec.h"
#include "adapters/postgres/src/connection.h"
#include "adapters/postgres/src/event_row.h"
#include "adapters/postgres/src/schema.h"
#include "adapters/postgres/src/wire.h"

namespace es {
namespace {

using postgres::Connection;
using postgres::ExecError;
using postgres::Params;
using postgres::PgResult;
using postgres::Schema;

// One check: a query whose rows are problems of `table` (unqualified), each (position or null,
// message).
struct Check {
  std::string table;
  std::string sql;
};

std::vector<Check> Checks(const Schema& schema) {
  const std::string events = schema.Table("events"), tags = schema.Table("tags"),
                    head = schema.Table("head"), tracking = schema.Table("tracking");
  const std::string prefix = schema.prefix() + "_";
  return {
      {prefix + "head",
       "SELECT NULL, format('the head table holds %s rows, not 1', count(*)) FROM " + head +
           " HAVING count(*) <> 1"},
      {prefix + "head",
       "SELECT NULL, format('the head row says %s, the last event is %s', h.position, "
       "coalesce(m.last, 0)) FROM " +
           head + " h, (SELECT max(position) AS last FROM " + events +
           ") m WHERE h.position <> coalesce(m.last, 0)"},
      {prefix + "events",
       "SELECT position, CASE WHEN position <= coalesce(previous, 0) THEN "
       "format('position out of order after %s', previous) ELSE format('positions %s to %s are "
       "missing', coalesce(previous, 0) + 1, position - 1) END FROM (SELECT position, "
       "lag(position) OVER (ORDER BY position) AS previous FROM " +
           events + ") g WHERE position <> coalesce(previous, 0) + 1"},
      // Each row's faults, joined; rows without any are left out.
      {prefix + "events",
       "SELECT position, faults FROM (SELECT position, concat_ws('; ', "
       "CASE WHEN type = '' THEN 'the type is empty' END, "
       "CASE WHEN (stream_id IS NULL) <> (stream_version IS NULL) THEN "
       "'stream id and stream version are not both set' END, "
       "CASE WHEN stream_id = '' THEN 'the stream id is empty' END, "
       "CASE WHEN array_ndims(tags) > 1 OR array_position(tags, NULL) IS NOT NULL THEN "
       "'the tags are not a list of strings' END, "
       "CASE WHEN array_ndims(metadata_keys) > 1 OR array_ndims(metadata_values) > 1 OR "
       "array_position(metadata_keys, NULL) IS NOT NULL OR "
       "array_position(metadata_values, NULL) IS NOT NULL OR "
       "cardinality(metadata_keys) <> cardinality(metadata_values) THEN "
       "'the metadata keys and values are not two lists of strings of one length' END, "
       "CASE WHEN cardinality(metadata_keys) > 1 AND (SELECT count(DISTINCT k) FROM "
       "unnest(metadata_keys) k) <> cardinality(metadata_keys) THEN "
       "'a metadata key appears twice' END) AS faults FROM " +
           events + ") f WHERE faults <> ''"},
      // The distinct tags of each event against its tag rows, both sorted alike.
      {prefix + "tags",
       "SELECT coalesce(e.position, t.position), CASE WHEN e.position IS NULL THEN "
       "format('tags %s of no event', t.tags) ELSE format('the tags table holds %s for the "
       "event, whose tags are %s', coalesce(t.tags, '{}'), e.tags) END FROM (SELECT position, "
       "ARRAY(SELECT DISTINCT x FROM unnest(tags) x ORDER BY x) AS tags FROM " +
           events + ") e FULL JOIN (SELECT position, array_agg(tag ORDER BY tag) AS tags FROM " +
           tags +
           " GROUP BY position) t ON t.position = e.position "
           "WHERE e.position IS NULL OR e.tags IS DISTINCT FROM coalesce(t.tags, '{}')"},
      {prefix + "events",
       "SELECT max(position), format('stream %L version %s is held by %s events', "
       "stream_id, stream_version, count(*)) FROM " +
           events +
           " WHERE stream_id IS NOT NULL GROUP BY stream_id, stream_version "
           "HAVING count(*) > 1"},
      {prefix + "tracking", "SELECT NULL, 'an application name is empty' FROM " + tracking +
                                " WHERE application_name = ''"},
  };
}

// `statement` run on `db`, its rows in binary.
Result<PgResult> Execute(Connection& db, const postgres::Statement& statement,
                         const Params& params) {
  ExecError error;
  PgResult result = db.Execute(statement, params, error);
  if (result == nullptr) return error.status;
  return result;
}

// Every event row decodes as a read decodes it, opened with `cipher` when there is one (only
// shape-checked otherwise), and is sealed exactly when the tables record a key id; walked in
// pages, in the snapshot of the caller's transaction.
Status CheckEventValues(Connection& db, const Schema& schema, const AesGcm* cipher,
                        bool key_recorded, RecorderVerifyReport& report) {
  constexpr std::int64_t kPage = 1000;
  const std::string table = schema.prefix() + "_events";
  const postgres::Statement page = schema.EventPage();
  std::int64_t after = 0;
  while (true) {
    Params params;
    params.Int8(after);
    params.Int8(kPage);
    ES_ASSIGN_OR_RETURN(PgResult result, Execute(db, page, params));
    const int rows = PQntuples(result.get());
    for (int row = 0; row < rows; ++row) {
      after = postgres::GetInt8(result.get(), row, 0).value_or(after);
      auto problem = [&](std::string message) {
        report.problems.push_back(RecorderProblem{table, after, std::move(message)});
      };
      const std::int64_t codec = postgres::GetInt4(result.get(), row, 9);
      if (std::string mismatch = SealingMismatch(codec, key_recorded); !mismatch.empty()) {
        problem(std::move(mismatch));
      }
      const bool sealed = (codec & kDataEncrypted) != 0;
      if (sealed && !postgres::GetTextArray(result.get(), row, 7).empty()) {
        problem("the event is encrypted, and its metadata is in the plain columns");
      }
      if (!sealed && !postgres::IsNull(result.get(), row, 10)) {
        problem("the event is not encrypted, and has sealed metadata");
      }
      Result<SequencedEvent> event =
          postgres::EventAt(result.get(), row, 0, cipher, SealedWithoutKey::kCheckShape);
      if (!event.ok()) problem(event.status().message());
    }
    if (rows < kPage) return Status::OK();
  }
}

Result<std::int64_t> Count(Connection& db, const std::string& table) {
  ES_ASSIGN_OR_RETURN(PgResult result, db.Query("SELECT count(*) FROM " + table));
  return std::stoll(PQgetvalue(result.get(), 0, 0));
}

}  // namespace

Result<RecorderVerifyReport> VerifyPostgres(const PostgresOptions& options) {
  ES_ASSIGN_OR_RETURN(Schema schema, Schema::Make(options));
  ES_ASSIGN_OR_RETURN(std::unique_ptr<Connection> db, Connection::Open(options));
  // One snapshot for every check, and a transaction that cannot write.
  ES_RETURN_IF_ERROR(db->ExecuteScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  RecorderVerifyReport report;
  bool tables_exist = true;
  for (const char* name : {"events", "tags", "head", "tracking"}) {
    ES_ASSIGN_OR_RETURN(PgResult result,
                        db->Query("SELECT to_regclass('" + schema.Table(name) + "') IS NULL"));
    if (std::string(PQgetvalue(result.get(), 0, 0)) == "t") {
      report.problems.push_back(
          RecorderProblem{schema.prefix() + "_" + name, std::nullopt, "the table is missing"});
      tables_exist = false;
    }
  }
  if (!tables_exist) return report;
  Params tables;
  tables.Text(schema.Table("events"));
  tables.Text(schema.Table("head"));
  ES_ASSIGN_OR_RETURN(PgResult columns, Execute(*db, schema.CodecColumns(), tables));
  if (postgres::GetInt8(columns.get(), 0, 0).value_or(0) == 3) {
    ES_ASSIGN_OR_RETURN(PgResult head, Execute(*db, schema.KeyId(), Params()));
    std::optional<std::int64_t> key_id;
    if (PQntuples(head.get()) == 1) key_id = postgres::GetInt8(head.get(), 0, 1);
    if (std::string bad = BadKeyId(key_id); !bad.empty()) {
      report.problems.push_back(RecorderProblem{schema.prefix() + "_head", std::nullopt, bad});
    }
    ES_ASSIGN_OR_RETURN(EventDataKey key,
                        VerifyKey("PostgreSQL tables '" + schema.Table("events") + "'", key_id,
                                  options.key_provider.get(), postgres::kDataKeyPurpose));
    ES_RETURN_IF_ERROR(CheckEventValues(*db, schema, key.cipher.get(), key_id.has_value(), report));
  } else {
    report.problems.push_back(RecorderProblem{
        schema.prefix() + "_events", std::nullopt,
        "the data_codec, sealed_metadata or key_id column is missing (tables of an earlier "
        "version: an open with create_table adds them)"});
  }
  for (const Check& check : Checks(schema)) {
    ES_ASSIGN_OR_RETURN(PgResult result, db->Query(check.sql));
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      std::optional<std::int64_t> position;
      if (!PQgetisnull(result.get(), row, 0))
        position = std::stoll(PQgetvalue(result.get(), row, 0));
      report.problems.push_back(
          RecorderProblem{check.table, position, PQgetvalue(result.get(), row, 1)});
    }
  }
  ES_ASSIGN_OR_RETURN(std::int64_t events, Count(*db, schema.Table("events")));
  ES_ASSIGN_OR_RETURN(std::int64_t tag_rows, Count(*db, schema.Table("tags")));
  ES_ASSIGN_OR_RETURN(std::int64_t tracking, Count(*db, schema.Table("tracking")));
  report.events = static_cast<std::uint64_t>(events);
  report.tag_rows = static_cast<std::uint64_t>(tag_rows);
  report.tracking_records = static_cast<std::uint64_t>(tracking);
  db->ExecuteScript("ROLLBACK").IgnoreError();
  return report;
}

}  // namespace es
