#include "tools/esdump/dump.h"

#include <algorithm>
#include <iomanip>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "tools/common/event_json.h"
#include "tools/common/progress.h"
#include "tools/common/store_name.h"

#include <es/recorder_verify.h>

#ifdef ES_WITH_SQLITE
#include <es/sqlite_inspect.h>
#include <es/sqlite_verify.h>
#endif

#ifdef ES_WITH_POSTGRES
#include <es/postgres_inspect.h>
#include <es/postgres_verify.h>
#endif

namespace es::tools {
namespace {

using Json = nlohmann::ordered_json;

// Events are read in pages, so that a store of any size streams through bounded memory.
constexpr std::int64_t kPageEvents = 10'000;

Json OptionalPosition(const std::optional<std::int64_t>& position) {
  return position ? Json(*position) : Json(nullptr);
}

Status WriteText(const Result<std::string>& line, std::ostream& out) {
  ES_RETURN_IF_ERROR(line.status());
  out << *line << '\n';
  return out ? Status::OK() : Status::IOError("writing the output failed");
}

Status WriteLine(const Json& json, std::ostream& out) { return WriteText(JsonLine(json), out); }

// The data for a table: the text when it is short and printable, else its size.
std::string DataPreview(const std::string& data) {
  const bool printable =
      std::all_of(data.begin(), data.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
  if (printable && data.size() <= 40) return data;
  return "<" + std::to_string(data.size()) + " bytes>";
}

std::string Joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ",") + item;
  return text;
}

void PrettyEvent(const SequencedEvent& sequenced, std::ostream& out) {
  const Event& event = sequenced.event;
  out << std::setw(10) << sequenced.position << "  " << std::left << std::setw(24) << event.type
      << ' ' << std::setw(32) << Joined(event.tags) << ' ' << std::setw(24)
      << (event.stream ? event.stream->id + "@" + std::to_string(event.stream->version) : "-")
      << ' ' << DataPreview(event.data) << std::right << '\n';
}

// One "key value" line for each field of `json` but its arrays (which get tables of their own).
void PrettyFields(const Json& json, std::ostream& out) {
  for (const auto& [key, value] : json.items()) {
    if (value.is_array()) continue;
    out << std::left << std::setw(16) << key << std::right << ' '
        << (value.is_string() ? value.get<std::string>() : value.dump()) << '\n';
  }
}

// Calls `visit` for every event matching `query` after `after`, at most `limit`, page by page.
template <typename Visit>
Status ForEachEvent(Recorder& store, const Query& query, std::optional<std::int64_t> after,
                    std::optional<std::int64_t> limit, Visit&& visit) {
  std::int64_t left = limit.value_or(-1);
  while (left != 0) {
    const std::int64_t page = left < 0 ? kPageEvents : std::min(left, kPageEvents);
    ES_ASSIGN_OR_RETURN(ReadResult result, store.Read(query, {after, page}));
    for (const SequencedEvent& event : result.events) ES_RETURN_IF_ERROR(visit(event));
    if (static_cast<std::int64_t>(result.events.size()) < page) break;
    after = result.events.back().position;
    if (left > 0) left -= page;
  }
  return Status::OK();
}

}  // namespace

Status DumpInfo(Store& store, std::ostream& out, bool pretty) {
  const StoreInfo info = store.Info();
  Json segments = Json::array();
  for (const SegmentInfo& segment : info.segments) {
    segments.push_back({{"file", segment.file},
                        {"base_position", segment.base_position},
                        {"events", segment.events},
                        {"bytes", segment.file_bytes},
                        {"state", segment.active ? "active" : "sealed"}});
  }
  Json json = {
      {"format_version", info.format_version},
      {"store_id", info.store_id},
      {"head", OptionalPosition(info.head)},
      {"durable_head", OptionalPosition(info.durable_head)},
      {"events", info.head.value_or(0)},
      {"writer_epoch", info.writer_epoch},
      {"segment_count", info.segment_count},
      {"segments", segments},
      {"log_bytes", info.log_bytes},
      {"index_bytes", info.index_bytes},
      {"types", info.type_count},
      {"tags", info.tag_count},
      {"streams", info.stream_count},
      {"io_backend", info.io_backend},
      {"encryption", info.encryption},
      {"key_id", info.key_id == 0 ? Json(nullptr) : Json(info.key_id)},
      // Compression is chosen per open (Options::compression) and marked per event; what
      // the store itself holds are its dictionaries.
      {"compression_dictionaries", info.compression_dictionaries},
      {"compression_dictionary",
       info.compression_dictionary == 0 ? Json(nullptr) : Json(info.compression_dictionary)}};
  if (!pretty) return WriteLine(json, out);
  PrettyFields(json, out);
  out << "\n  base position      events          bytes  state   file\n";
  for (const SegmentInfo& segment : info.segments) {
    out << std::setw(15) << segment.base_position << ' ' << std::setw(11) << segment.events << ' '
        << std::setw(14) << segment.file_bytes << "  " << std::left << std::setw(7)
        << (segment.active ? "active" : "sealed") << std::right << ' ' << segment.file << '\n';
  }
  return out ? Status::OK() : Status::IOError("writing the output failed");
}

Status DumpRecorderInfo(std::string_view store, std::string_view key_base64, std::ostream& out,
                        bool pretty) {
  ES_ASSIGN_OR_RETURN(Options options, EngineOptions(/*read_only=*/true, key_base64));
  Json json = {{"store", WithoutPassword(store)}};
  if (store.starts_with("sqlite:")) {
#ifdef ES_WITH_SQLITE
    ES_ASSIGN_OR_RETURN(SqliteOptions sqlite, SqliteOptionsNamed(store, true, options));
    ES_ASSIGN_OR_RETURN(SqliteInfo info, InspectSqlite(sqlite));
    json.update({{"backend", "sqlite"},
                 {"table_prefix", info.table_prefix},
                 {"head", OptionalPosition(info.head)},
                 {"events", info.head.value_or(0)},
                 {"streams", info.streams},
                 {"tracking_records", info.tracking_records},
                 {"encryption", info.key_id ? "aes-256-gcm" : "none"},
                 {"key_id", OptionalPosition(info.key_id)},
                 {"journal_mode", info.journal_mode},
                 {"page_size", info.page_size},
                 {"page_count", info.page_count},
                 {"freelist_pages", info.freelist_pages},
                 {"database_bytes", info.page_size * info.page_count},
                 {"file_bytes", info.file_bytes ? Json(*info.file_bytes) : Json(nullptr)},
                 {"wal_bytes", info.wal_bytes ? Json(*info.wal_bytes) : Json(nullptr)}});
#endif
  } else {
#ifdef ES_WITH_POSTGRES
    ES_ASSIGN_OR_RETURN(PostgresOptions postgres, PostgresOptionsNamed(store, true, options));
    ES_ASSIGN_OR_RETURN(PostgresInfo info, InspectPostgres(postgres));
    Json table_bytes = Json::object();
    std::int64_t total = 0;
    for (const auto& [table, bytes] : info.table_bytes) {
      table_bytes[table] = bytes;
      total += bytes;
    }
    json.update({{"backend", "postgres"},
                 {"schema", info.schema},
                 {"table_prefix", info.table_prefix},
                 {"head", OptionalPosition(info.head)},
                 {"events", info.head.value_or(0)},
                 {"writes", info.writes},
                 {"streams", info.streams},
                 {"tracking_records", info.tracking_records},
                 {"encryption", info.key_id ? "aes-256-gcm" : "none"},
                 {"key_id", OptionalPosition(info.key_id)},
                 {"total_bytes", total},
                 {"table_bytes", table_bytes},
                 {"server_version", info.server_version}});
#endif
  }
  if (!json.contains("backend")) {
    return Status::InvalidArgument("this build has no recorder for " + std::string(store));
  }
  if (!pretty) return WriteLine(json, out);
  PrettyFields(json, out);
  return out ? Status::OK() : Status::IOError("writing the output failed");
}

Result<bool> DumpRecorderVerify(std::string_view store, std::string_view key_base64,
                                std::ostream& out, bool pretty) {
  ES_ASSIGN_OR_RETURN(Options options, EngineOptions(/*read_only=*/true, key_base64));
  Result<RecorderVerifyReport> verified =
      Status::InvalidArgument("this build has no recorder for " + std::string(store));
  if (store.starts_with("sqlite:")) {
#ifdef ES_WITH_SQLITE
    ES_ASSIGN_OR_RETURN(SqliteOptions sqlite, SqliteOptionsNamed(store, true, options));
    verified = VerifySqlite(sqlite);
#endif
  } else {
#ifdef ES_WITH_POSTGRES
    ES_ASSIGN_OR_RETURN(PostgresOptions postgres, PostgresOptionsNamed(store, true, options));
    verified = VerifyPostgres(postgres);
#endif
  }
  ES_RETURN_IF_ERROR(verified.status());
  const RecorderVerifyReport& report = *verified;
  for (const RecorderProblem& problem : report.problems) {
    if (pretty) {
      out << "PROBLEM " << (problem.table.empty() ? "(database)" : problem.table);
      if (problem.position) out << " at position " << *problem.position;
      out << ": " << problem.message << '\n';
      continue;
    }
    ES_RETURN_IF_ERROR(
        WriteLine(Json{{"problem", problem.message},
                       {"table", problem.table.empty() ? Json(nullptr) : Json(problem.table)},
                       {"position", OptionalPosition(problem.position)}},
                  out));
  }
  Json summary = {{"clean", report.clean()},
                  {"problems", report.problems.size()},
                  {"events", report.events},
                  {"tag_rows", report.tag_rows},
                  {"tracking_records", report.tracking_records}};
  if (pretty) {
    out << (report.clean() ? "clean: " : "NOT clean: ") << report.problems.size() << " problems; "
        << report.events << " events, " << report.tag_rows << " tag rows, "
        << report.tracking_records << " tracking records checked\n";
  } else {
    ES_RETURN_IF_ERROR(WriteLine(summary, out));
  }
  if (!out) return Status::IOError("writing the output failed");
  return report.clean();
}

Status DumpRead(Recorder& store, const Query& query, const ReadOptions& options, bool with_head,
                std::ostream& out, bool pretty) {
  if ((options.after && *options.after < 0) || (options.limit && *options.limit < 0)) {
    return Status::InvalidArgument("--after and --limit must not be negative");
  }
  std::optional<std::int64_t> last;
  ES_RETURN_IF_ERROR(
      ForEachEvent(store, query, options.after, options.limit, [&](const SequencedEvent& event) {
        last = event.position;
        if (pretty) {
          PrettyEvent(event, out);
          return Status::OK();
        }
        return WriteText(EventLine(event), out);
      }));
  if (with_head) {
    // The head rule of ReadResult: with a limit, the last event returned; without, the store's.
    std::optional<std::int64_t> head = last;
    if (!options.limit) {
      ES_ASSIGN_OR_RETURN(head, store.Head());
    }
    if (pretty) {
      out << "head " << (head ? std::to_string(*head) : "null") << '\n';
    } else {
      ES_RETURN_IF_ERROR(WriteLine(Json{{"head", OptionalPosition(head)}}, out));
    }
  }
  return out ? Status::OK() : Status::IOError("writing the output failed");
}

Status DumpExport(Recorder& store, std::ostream& out) {
  ES_ASSIGN_OR_RETURN(std::optional<std::int64_t> head, store.Head());
  Progress progress("export", static_cast<std::uint64_t>(head.value_or(0)));
  std::uint64_t done = 0;
  ES_RETURN_IF_ERROR(
      ForEachEvent(store, Query{}, std::nullopt, std::nullopt, [&](const SequencedEvent& e) {
        progress.Update(++done);
        return WriteText(EventLine(e), out)
            .WithContext("event " + std::to_string(e.position) + " cannot be exported");
      }));
  ES_ASSIGN_OR_RETURN(std::vector<Tracking> tracking, store.TrackingRecords());
  for (const Tracking& record : tracking) {
    ES_RETURN_IF_ERROR(WriteLine(TrackingLineToJson(record), out)
                           .WithContext("the tracking record of '" + record.application_name +
                                        "' cannot be exported"));
  }
  return Status::OK();
}

Status DumpStats(Recorder& store, Store* engine, std::size_t top, std::ostream& out, bool pretty) {
  const std::vector<SegmentInfo> segments =
      engine != nullptr ? engine->Info().segments : std::vector<SegmentInfo>();
  ES_ASSIGN_OR_RETURN(std::optional<std::int64_t> head, store.Head());
  Progress progress("stats", static_cast<std::uint64_t>(head.value_or(0)));
  std::map<std::string, std::uint64_t> by_type;
  std::unordered_map<std::string, std::uint64_t> by_tag;
  std::uint64_t events = 0;
  ES_RETURN_IF_ERROR(
      ForEachEvent(store, Query{}, std::nullopt, std::nullopt, [&](const SequencedEvent& e) {
        progress.Update(++events);
        ++by_type[e.event.type];
        for (const std::string& tag : e.event.tags) ++by_tag[tag];
        return Status::OK();
      }));
  std::vector<std::pair<std::string, std::uint64_t>> tags(by_tag.begin(), by_tag.end());
  const auto more = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  std::vector<std::pair<std::string, std::uint64_t>> types(by_type.begin(), by_type.end());
  std::sort(types.begin(), types.end(), more);
  const std::size_t shown = std::min(top, tags.size());
  std::partial_sort(tags.begin(), tags.begin() + static_cast<std::ptrdiff_t>(shown), tags.end(),
                    more);
  tags.resize(shown);

  Json json = {{"events", events}, {"types", Json::array()}, {"distinct_tags", by_tag.size()}};
  for (const auto& [type, count] : types)
    json["types"].push_back({{"type", type}, {"events", count}});
  json["top_tags"] = Json::array();
  for (const auto& [tag, count] : tags)
    json["top_tags"].push_back({{"tag", tag}, {"events", count}});
  json["segments"] = Json::array();
  for (const SegmentInfo& segment : segments) {
    json["segments"].push_back({{"file", segment.file}, {"events", segment.events}});
  }
  if (!pretty) return WriteLine(json, out);
  out << "events " << events << ", distinct tags " << by_tag.size() << "\n\n      events  type\n";
  for (const auto& [type, count] : types) out << std::setw(12) << count << "  " << type << '\n';
  out << "\n      events  tag (the " << shown << " most frequent)\n";
  for (const auto& [tag, count] : tags) out << std::setw(12) << count << "  " << tag << '\n';
  if (segments.empty()) return out ? Status::OK() : Status::IOError("writing the output failed");
  out << "\n      events  segment\n";
  for (const SegmentInfo& segment : segments) {
    out << std::setw(12) << segment.events << "  " << segment.file << '\n';
  }
  return out ? Status::OK() : Status::IOError("writing the output failed");
}

void DumpVerifyReport(const VerifyReport& report, std::ostream& out, bool pretty) {
  for (const VerifyProblem& problem : report.problems) {
    if (pretty) {
      out << "PROBLEM " << (problem.file.empty() ? "(store)" : problem.file);
      if (problem.offset) out << " at offset " << *problem.offset;
      out << ": " << problem.message << '\n';
      continue;
    }
    Json json = {{"problem", problem.message}, {"file", problem.file}};
    json["offset"] = problem.offset ? Json(*problem.offset) : Json(nullptr);
    WriteLine(json, out).IgnoreError();
  }
  Json summary = {{"clean", report.clean()},           {"problems", report.problems.size()},
                  {"segments", report.segments},       {"frames", report.frames},
                  {"events", report.events},           {"index_entries", report.index_entries},
                  {"checkpoints", report.checkpoints}, {"torn_bytes", report.torn_bytes}};
  if (!pretty) {
    WriteLine(summary, out).IgnoreError();
    return;
  }
  out << (report.clean() ? "clean: " : "NOT clean: ") << report.problems.size() << " problems; "
      << report.segments << " segments, " << report.frames << " frames, " << report.events
      << " events, " << report.index_entries << " position index entries, " << report.checkpoints
      << " checkpoints checked";
  if (report.torn_bytes > 0) {
    out << "; " << report.torn_bytes << " torn bytes after the last frame (cut by the next open)";
  }
  out << '\n';
}

}  // namespace es::tools
