#include "es/sqlite_verify.h"

#include <algorithm>
#include <set>
#include <utility>

#include "adapters/sqlite/sqlite_connection.h"
#include "adapters/sqlite/sqlite_event_row.h"
#include "adapters/sqlite/sqlite_query.h"

namespace es {
namespace {

std::string Joined(const std::set<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "'" : ", '") + item + "'";
  return text.empty() ? "none" : text;
}

class SqliteVerifier {
 public:
  SqliteVerifier(SqliteConnection& db, SqliteTables tables, const AesGcm* cipher,
                 std::optional<std::int64_t> key_id)
      : db_(db), tables_(std::move(tables)), cipher_(cipher), key_id_(key_id) {}

  // Runs every check; a check that cannot read its table is one problem, and the next goes on.
  RecorderVerifyReport Run() {
    Check("", IntegrityCheck());
    bool tables_exist = true;
    for (const std::string* table : {&tables_.events, &tables_.tags, &tables_.tracking}) {
      Result<bool> exists = db_.HasTable(*table);
      if (!exists.ok() || !*exists) {
        Problem(*table, std::nullopt,
                exists.ok() ? "the table is missing" : exists.status().ToString());
        tables_exist = false;
      }
    }
    if (std::string bad = BadKeyId(key_id_); !bad.empty()) {
      Problem(tables_.meta, std::nullopt, std::move(bad));
    }
    if (tables_exist) {
      Check(tables_.events, WalkEventsAndTags());
      Check(tables_.events, DuplicateStreams());
      Check(tables_.tracking, TrackingRows());
    }
    return std::move(report_);
  }

 private:
  void Problem(const std::string& table, std::optional<std::int64_t> position,
               std::string message) {
    report_.problems.push_back(RecorderProblem{table, position, std::move(message)});
  }

  void Check(const std::string& table, const Status& status) {
    if (!status.ok()) Problem(table, std::nullopt, "cannot be read: " + status.ToString());
  }

  Status IntegrityCheck() {
    ES_ASSIGN_OR_RETURN(SqliteStatement statement, db_.Prepare("PRAGMA integrity_check"));
    while (true) {
      ES_ASSIGN_OR_RETURN(bool row, statement.Step());
      if (!row) return Status::OK();
      const std::string line(statement.ColumnBytes(0));
      if (line != "ok") Problem("", std::nullopt, "integrity_check: " + line);
    }
  }

  // Every event row in position order, and beside it the tag rows in position order: each
  // event's distinct tags against its tag rows, as a merge of the two.
  Status WalkEventsAndTags() {
    ES_ASSIGN_OR_RETURN(SqliteStatement events,
                        db_.Prepare("SELECT " + std::string(kEventColumns) +
                                    ", typeof(type), typeof(stream_id), typeof(stream_version)"
                                    " FROM " +
                                    tables_.events + " ORDER BY position"));
    ES_ASSIGN_OR_RETURN(
        SqliteStatement tags,
        db_.Prepare("SELECT position, tag FROM " + tables_.tags + " ORDER BY position, tag"));
    ES_ASSIGN_OR_RETURN(bool tag_row, tags.Step());
    std::int64_t last = 0;
    while (true) {
      ES_ASSIGN_OR_RETURN(bool row, events.Step());
      if (!row) break;
      ++report_.events;
      const std::int64_t position = events.ColumnInt64(0);
      if (position != last + 1) {
        Problem(tables_.events, position,
                last + 1 < position ? "positions " + std::to_string(last + 1) + " to " +
                                          std::to_string(position - 1) + " are missing"
                                    : "position out of order after " + std::to_string(last));
      }
      last = position;
      std::optional<std::set<std::string>> event_tags = CheckEventRow(events, position);

      // Tag rows before this position belong to no event.
      std::set<std::string> stored;
      while (tag_row && tags.ColumnInt64(0) <= position) {
        ++report_.tag_rows;
        if (tags.ColumnInt64(0) < position) {
          Problem(tables_.tags, tags.ColumnInt64(0),
                  "tag '" + std::string(tags.ColumnBytes(1)) + "' of no event");
        } else {
          stored.emplace(tags.ColumnBytes(1));
        }
        ES_ASSIGN_OR_RETURN(tag_row, tags.Step());
      }
      if (event_tags && stored != *event_tags) {
        Problem(tables_.tags, position,
                "the tags table holds " + Joined(stored) + " for the event, whose tags are " +
                    Joined(*event_tags));
      }
    }
    for (; tag_row; ++report_.tag_rows) {
      Problem(tables_.tags, tags.ColumnInt64(0),
              "tag '" + std::string(tags.ColumnBytes(1)) + "' of no event");
      ES_ASSIGN_OR_RETURN(tag_row, tags.Step());
    }
    return Status::OK();
  }

  // The checks of one event row (kEventColumns, then the types of type, stream_id and
  // stream_version); its distinct tags when they decode.
  std::optional<std::set<std::string>> CheckEventRow(SqliteStatement& row, std::int64_t position) {
    if (std::string mismatch = SealingMismatch(row.ColumnInt64(8), key_id_.has_value());
        !mismatch.empty()) {
      Problem(tables_.events, position, std::move(mismatch));
    }
    if (row.ColumnBytes(9) != "text" || row.ColumnBytes(1).empty()) {
      Problem(tables_.events, position, "the type is empty or not text");
    }
    const std::string_view stream_id_type = row.ColumnBytes(10);
    const std::string_view version_type = row.ColumnBytes(11);
    if ((stream_id_type == "null") != (version_type == "null")) {
      Problem(tables_.events, position, "stream id and stream version are not both set");
    } else if (stream_id_type != "null" && (stream_id_type != "text" || version_type != "integer" ||
                                            row.ColumnBytes(4).empty())) {
      Problem(tables_.events, position,
              "the stream id is empty or not text, or the version not an integer");
    }
    Result<SequencedEvent> event = ReadEventRow(row, cipher_, SealedWithoutKey::kCheckShape);
    if (!event.ok()) {
      Problem(tables_.events, position, event.status().message());
      return std::nullopt;
    }
    const std::vector<std::string>& tags = event->event.tags;
    return std::set<std::string>(tags.begin(), tags.end());
  }

  Status DuplicateStreams() {
    ES_ASSIGN_OR_RETURN(SqliteStatement statement,
                        db_.Prepare("SELECT stream_id, stream_version, count(*), max(position)"
                                    " FROM " +
                                    tables_.events +
                                    " WHERE stream_id IS NOT NULL GROUP BY stream_id,"
                                    " stream_version HAVING count(*) > 1"));
    while (true) {
      ES_ASSIGN_OR_RETURN(bool row, statement.Step());
      if (!row) return Status::OK();
      Problem(tables_.events, statement.ColumnInt64(3),
              "stream '" + std::string(statement.ColumnBytes(0)) + "' version " +
                  std::to_string(statement.ColumnInt64(1)) + " is held by " +
                  std::to_string(statement.ColumnInt64(2)) + " events");
    }
  }

  Status TrackingRows() {
    ES_ASSIGN_OR_RETURN(SqliteStatement statement,
                        db_.Prepare("SELECT application_name, typeof(application_name),"
                                    " typeof(notification_id) FROM " +
                                    tables_.tracking));
    while (true) {
      ES_ASSIGN_OR_RETURN(bool row, statement.Step());
      if (!row) return Status::OK();
      ++report_.tracking_records;
      const std::string name(statement.ColumnBytes(0));
      if (statement.ColumnBytes(1) != "text" || name.empty()) {
        Problem(tables_.tracking, std::nullopt,
                "application name '" + name + "' is empty or not text");
      }
      if (statement.ColumnBytes(2) != "integer") {
        Problem(tables_.tracking, std::nullopt,
                "the notification id of '" + name + "' is not an integer");
      }
    }
  }

  SqliteConnection& db_;
  const SqliteTables tables_;
  const AesGcm* const cipher_;
  const std::optional<std::int64_t> key_id_;
  RecorderVerifyReport report_;
};

}  // namespace

Result<RecorderVerifyReport> VerifySqlite(const SqliteOptions& options) {
  ES_ASSIGN_OR_RETURN(SqliteSnapshot snapshot, OpenSqliteSnapshot(options));
  SqliteTables& tables = snapshot.tables;
  SqliteConnection* db = snapshot.db.get();
  ES_ASSIGN_OR_RETURN(const bool has_meta, db->HasTable(tables.meta));
  std::optional<std::int64_t> key_id;
  if (has_meta) {
    ES_ASSIGN_OR_RETURN(key_id, RecordedKeyId(*db, tables));
  }
  ES_ASSIGN_OR_RETURN(EventDataKey key,
                      VerifyKey("SQLite tables '" + tables.events + "'", key_id,
                                options.key_provider.get(), kSqliteDataKeyPurpose));
  return SqliteVerifier(*db, std::move(tables), key.cipher.get(), key_id).Run();
}

}  // namespace es
