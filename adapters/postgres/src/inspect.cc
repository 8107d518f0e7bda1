#include "es/postgres_inspect.h"

#include <string>

#include "adapters/postgres/src/connection.h"
#include "adapters/postgres/src/schema.h"

namespace es {

Result<PostgresInfo> InspectPostgres(const PostgresOptions& options) {
  using postgres::PgResult;
  ES_ASSIGN_OR_RETURN(postgres::Schema schema, postgres::Schema::Make(options));
  ES_ASSIGN_OR_RETURN(std::unique_ptr<postgres::Connection> db,
                      postgres::Connection::Open(options));
  // One snapshot, so that the figures agree with each other.
  ES_RETURN_IF_ERROR(db->ExecuteScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  const std::string events = schema.Table("events");
  ES_ASSIGN_OR_RETURN(
      PgResult row,
      db->Query(
          "SELECT h.position, h.writes, (SELECT count(DISTINCT stream_id) FROM " + events +
          "), (SELECT count(*) FROM " + schema.Table("tracking") +
          "), current_setting('server_version'), current_schema(), to_jsonb(h)->>'key_id' FROM " +
          schema.Table("head") + " h"));
  if (PQntuples(row.get()) != 1) {
    return Status::Corruption("the head table of '" + events + "' does not hold exactly one row");
  }
  const auto field = [&](int column) { return std::string(PQgetvalue(row.get(), 0, column)); };
  PostgresInfo info;
  const std::string schema_name = schema.schema_name();
  info.schema = schema_name.empty() ? field(5) : schema_name;
  info.table_prefix = schema.prefix();
  if (std::stoll(field(0)) > 0) info.head = std::stoll(field(0));
  info.writes = std::stoll(field(1));
  info.streams = std::stoll(field(2));
  info.tracking_records = std::stoll(field(3));
  info.server_version = field(4);
  // to_jsonb: tables of an earlier version have no key_id column, and read as not encrypted.
  if (!PQgetisnull(row.get(), 0, 6)) info.key_id = std::stoll(field(6));
  for (const char* name : {"events", "tags", "head", "tracking"}) {
    ES_ASSIGN_OR_RETURN(PgResult size,
                        db->Query("SELECT pg_total_relation_size('" + schema.Table(name) + "')"));
    info.table_bytes[schema.prefix() + "_" + name] = std::stoll(PQgetvalue(size.get(), 0, 0));
  }
  db->ExecuteScript("ROLLBACK").IgnoreError();
  return info;
}

}  // namespace es
