// The PostgreSQL recorder: the core of es::Recorder as one prepared statement per call (docs/
// postgres.md). Every write is one call of the append function, so it is one round trip and one
// transaction; every read is one statement, so it sees one snapshot.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/postgres/src/connection.h"
#include "adapters/postgres/src/notification_listener.h"
#include "adapters/postgres/src/pool.h"
#include "adapters/postgres/src/schema.h"
#include "adapters/postgres/src/wire.h"
#include "api/src/validation.h"
#include "es/postgres.h"

namespace es {
namespace {

using postgres::AppendOutcome;
using postgres::ExecError;
using postgres::GetBytes;
using postgres::GetInt4;
using postgres::GetInt8;
using postgres::GetTextArray;
using postgres::GetUuid;
using postgres::IsNull;
using postgres::Params;
using postgres::PgResult;
using postgres::QueryShape;
using postgres::Statement;

// Which failures a statement may be repeated after, on a fresh connection.
enum class Retry {
  kAlways,        // reads: repeating them changes nothing
  kIfNotApplied,  // writes: only when the first attempt certainly did not commit
  kNever,         // the listener's poll: it polls again anyway
};

// A failed statement is repeated every kRetryPause for up to kRetryWindow, long enough for a
// server restart (the Python library tries 10 times, 0.2 s apart).
constexpr auto kRetryWindow = std::chrono::seconds(5);
constexpr auto kRetryPause = std::chrono::milliseconds(200);

// A DCB query in the form the statements take (see MatchNames in schema.cc).
struct MatchArgs {
  QueryShape shape = QueryShape::kAll;
  std::vector<std::string> plain_types;
  std::vector<std::int32_t> tag_item;
  std::vector<std::string> tag;
  std::vector<std::int32_t> tag_count;
  std::vector<std::int32_t> type_item;
  std::vector<std::string> type;
};

MatchArgs Analyse(const Query& query) {
  MatchArgs args;
  std::int32_t tagged = 0;
  for (const QueryItem& item : query.items) {
    if (item.tags.empty()) {
      // An item with neither types nor tags matches every event, and so does the query.
      if (item.types.empty()) return MatchArgs{};
      args.plain_types.insert(args.plain_types.end(), item.types.begin(), item.types.end());
      continue;
    }
    ++tagged;
    // The item's tags are a set: an event matches when it has each distinct tag.
    std::vector<std::string> tags = item.tags;
    std::sort(tags.begin(), tags.end());
    tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
    for (std::string& tag : tags) {
      args.tag_item.push_back(tagged);
      args.tag.push_back(std::move(tag));
    }
    args.tag_count.push_back(static_cast<std::int32_t>(tags.size()));
    for (const std::string& type : item.types) {
      args.type_item.push_back(tagged);
      args.type.push_back(type);
    }
  }
  // Types are OR'ed: each is looked up once.
  std::sort(args.plain_types.begin(), args.plain_types.end());
  args.plain_types.erase(std::unique(args.plain_types.begin(), args.plain_types.end()),
                         args.plain_types.end());
  if (tagged == 0) {
    args.shape = args.plain_types.empty() ? QueryShape::kAll : QueryShape::kTypes;
  } else {
    args.shape = args.plain_types.empty() ? QueryShape::kTags : QueryShape::kTagsAndTypes;
  }
  return args;
}

void AddTagArgs(Params& params, const MatchArgs& args) {
  params.Int4Array(args.tag_item);
  params.TextArray(args.tag);
  params.Int4Array(args.tag_count);
  params.Int4Array(args.type_item);
  params.TextArray(args.type);
}

// A read's match parameters, from $3 on, as Schema::Read numbers them for the shape.
void AddReadMatchParams(Params& params, const MatchArgs& args) {
  switch (args.shape) {
    case QueryShape::kAll:
      break;
    case QueryShape::kTypes:
      params.TextArray(args.plain_types);
      break;
    case QueryShape::kTags:
      AddTagArgs(params, args);
      break;
    case QueryShape::kTagsAndTypes:
      AddTagArgs(params, args);
      params.TextArray(args.plain_types);
      break;
  }
}

// The event whose columns start at `column` (the order of Schema's event columns).
SequencedEvent EventAt(const PGresult* result, int row, int column) {
  SequencedEvent sequenced;
  sequenced.position = GetInt8(result, row, column).value_or(0);
  Event& event = sequenced.event;
  event.type = GetBytes(result, row, column + 1);
  event.data = GetBytes(result, row, column + 2);
  event.tags = GetTextArray(result, row, column + 3);
  if (!IsNull(result, row, column + 4)) {
    event.stream = StreamVersion{GetBytes(result, row, column + 4),
                                 GetInt8(result, row, column + 5).value_or(0)};
  }
  event.uuid = GetUuid(result, row, column + 6);
  std::vector<std::string> keys = GetTextArray(result, row, column + 7);
  std::vector<std::string> values = GetTextArray(result, row, column + 8);
  for (std::size_t i = 0; i < keys.size() && i < values.size(); ++i) {
    event.metadata.emplace(std::move(keys[i]), std::move(values[i]));
  }
  return sequenced;
}

class PostgresRecorder final : public Recorder {
 public:
  PostgresRecorder(const PostgresOptions& options, postgres::Schema schema)
      : options_(options), schema_(std::move(schema)), pool_(options) {}

  // Stops the listener before the pool it polls through goes.
  ~PostgresRecorder() override { listener_.reset(); }

  Status Start() {
    if (options_.create_table) {
      ES_ASSIGN_OR_RETURN(postgres::PooledConnection connection, pool_.Acquire());
      ES_RETURN_IF_ERROR(connection->ExecuteScript(schema_.CreateScript())
                             .WithContext("creating the PostgreSQL tables"));
    }
    // Proves the tables are there (and the server answers) before the recorder is handed out.
    ES_RETURN_IF_ERROR(WriteCount(Retry::kAlways).status().WithContext("opening the tables"));
    listener_ = std::make_unique<postgres::NotificationListener>(
        options_, schema_, [this] { return WriteCount(Retry::kNever); },
        [this] { append_listeners().Notify(); });
    return Status::OK();
  }

  Result<std::int64_t> Write(const AppendRequest& request) override {
    ES_RETURN_IF_ERROR(ValidateWriteRequest(request));
    Params params = AppendParams(request);
    ES_ASSIGN_OR_RETURN(PgResult result, Run(append_, params, Retry::kIfNotApplied));
    const auto outcome = static_cast<AppendOutcome>(GetInt4(result.get(), 0, 0));
    const std::optional<std::int64_t> position = GetInt8(result.get(), 0, 1);
    const std::string detail = GetBytes(result.get(), 0, 2);
    switch (outcome) {
      case AppendOutcome::kWritten:
        append_listeners().Notify();
        return request.events.empty() ? 0 : position.value_or(0);
      case AppendOutcome::kConditionFailed:
        return Status::ConditionFailed("append condition matched the event at position " +
                                       std::to_string(position.value_or(0)) + " (type '" + detail +
                                       "')");
      case AppendOutcome::kStreamConflict:
        return Status::IntegrityError(detail);
      case AppendOutcome::kTrackingConflict:
        return Status::IntegrityError(
            "tracking id " + std::to_string(request.tracking->notification_id) +
            " of application '" + request.tracking->application_name +
            "' is not greater than its maximum " + std::to_string(position.value_or(0)));
    }
    return Status::IOError("PostgreSQL append function returned an unknown outcome");
  }

  Result<ReadResult> Read(const Query& query, const ReadOptions& options) override {
    ES_RETURN_IF_ERROR(ValidateReadOptions(options));
    const MatchArgs args = Analyse(query);
    Params params;
    params.Int8(options.after.value_or(0));
    params.OptionalInt8(options.limit);
    AddReadMatchParams(params, args);
    ES_ASSIGN_OR_RETURN(PgResult result,
                        Run(reads_[static_cast<int>(args.shape) - 1], params, Retry::kAlways));
    ReadResult read;
    const int rows = PQntuples(result.get());
    for (int row = 0; row < rows; ++row) {
      if (IsNull(result.get(), row, 1)) continue;  // the head row alone: no match
      read.events.push_back(EventAt(result.get(), row, 1));
    }
    if (options.limit) {
      if (!read.events.empty()) read.head = read.events.back().position;
    } else if (rows > 0) {
      const std::int64_t head = GetInt8(result.get(), 0, 0).value_or(0);
      if (head > 0) read.head = head;
    }
    return read;
  }

  Result<std::vector<SequencedEvent>> ReadStream(std::string_view stream_id,
                                                 const SelectEventsOptions& options) override {
    ES_RETURN_IF_ERROR(ValidateSelectEventsOptions(options));
    Params params;
    params.Text(stream_id);
    params.OptionalInt8(options.gt);
    params.OptionalInt8(options.lte);
    params.OptionalInt8(options.limit);
    ES_ASSIGN_OR_RETURN(PgResult result, Run(options.desc ? read_stream_desc_ : read_stream_,
                                             params, Retry::kAlways));
    std::vector<SequencedEvent> events;
    const int rows = PQntuples(result.get());
    events.reserve(static_cast<std::size_t>(rows));
    for (int row = 0; row < rows; ++row) events.push_back(EventAt(result.get(), row, 0));
    return events;
  }

  Result<std::optional<std::int64_t>> Head() override {
    ES_ASSIGN_OR_RETURN(PgResult result, Run(head_, Params(), Retry::kAlways));
    const std::int64_t head = GetInt8(result.get(), 0, 0).value_or(0);
    if (head == 0) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(head);
  }

  Result<std::optional<std::int64_t>> MaxTrackingId(std::string_view application_name) override {
    Params params;
    params.Text(application_name);
    ES_ASSIGN_OR_RETURN(PgResult result, Run(max_tracking_id_, params, Retry::kAlways));
    if (PQntuples(result.get()) == 0) return std::optional<std::int64_t>();
    return GetInt8(result.get(), 0, 0);
  }

  Result<std::vector<Tracking>> TrackingRecords() override {
    ES_ASSIGN_OR_RETURN(PgResult result, Run(tracking_records_, Params(), Retry::kAlways));
    std::vector<Tracking> records;
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      records.push_back(
          Tracking{GetBytes(result.get(), row, 0), GetInt8(result.get(), row, 1).value_or(0)});
    }
    return records;
  }

 private:
  // The head row's write counter, which every committed write changes.
  Result<std::int64_t> WriteCount(Retry retry) {
    ES_ASSIGN_OR_RETURN(PgResult result, Run(head_, Params(), retry));
    if (PQntuples(result.get()) != 1) {
      return Status::Corruption("the PostgreSQL head table does not hold exactly one row");
    }
    return GetInt8(result.get(), 0, 1).value_or(0);
  }

  // The append function's 20 arguments (Schema::CreateScript declares them).
  static Params AppendParams(const AppendRequest& request) {
    std::vector<std::string> types, data, tags, meta_keys, meta_values;
    std::vector<std::int32_t> tag_counts, meta_counts;
    std::vector<std::optional<std::string>> stream_ids;
    std::vector<std::optional<std::int64_t>> stream_versions;
    std::vector<std::optional<Uuid>> uuids;
    for (const Event& event : request.events) {
      types.push_back(event.type);
      data.push_back(event.data);
      tag_counts.push_back(static_cast<std::int32_t>(event.tags.size()));
      tags.insert(tags.end(), event.tags.begin(), event.tags.end());
      stream_ids.push_back(event.stream ? std::optional(event.stream->id) : std::nullopt);
      stream_versions.push_back(event.stream ? std::optional(event.stream->version) : std::nullopt);
      uuids.push_back(event.uuid);
      meta_counts.push_back(static_cast<std::int32_t>(event.metadata.size()));
      for (const auto& [key, value] : event.metadata) {
        meta_keys.push_back(key);
        meta_values.push_back(value);
      }
    }
    Params params;
    params.TextArray(types);
    params.ByteaArray(data);
    params.Int4Array(tag_counts);
    params.TextArray(tags);
    params.OptionalTextArray(stream_ids);
    params.OptionalInt8Array(stream_versions);
    params.OptionalUuidArray(uuids);
    params.Int4Array(meta_counts);
    params.TextArray(meta_keys);
    params.TextArray(meta_values);
    // The condition: shape 0 means none.
    MatchArgs args;
    std::int32_t shape = 0;
    if (request.condition != nullptr) {
      args = Analyse(request.condition->fail_if_events_match);
      shape = static_cast<std::int32_t>(args.shape);
    }
    params.Int4(shape);
    params.Int8(request.condition != nullptr ? request.condition->after.value_or(0) : 0);
    params.TextArray(args.plain_types);
    AddTagArgs(params, args);
    if (request.tracking != nullptr) {
      params.Text(request.tracking->application_name);
      params.Int8(request.tracking->notification_id);
    } else {
      params.OptionalText(std::nullopt);
      params.OptionalInt8(std::nullopt);
    }
    return params;
  }

  // Runs `statement` on a pooled connection, repeating it on a fresh one as `retry` allows.
  Result<PgResult> Run(const Statement& statement, const Params& params, Retry retry) {
    const auto give_up = std::chrono::steady_clock::now() + kRetryWindow;
    while (true) {
      ExecError error;
      Result<postgres::PooledConnection> connection = pool_.Acquire();
      if (connection.ok()) {
        PgResult result = (**connection).Execute(statement, params, error);
        if (result != nullptr) return result;
        if (PQstatus((**connection).raw()) != CONNECTION_OK) connection->Discard();
      } else if (connection.status().IsIOError()) {
        error = ExecError{connection.status(), /*not_applied=*/true, /*transient=*/true};
      } else {
        return connection.status();  // the pool's Timeout: every connection is busy
      }
      const bool may_retry =
          error.transient &&
          (retry == Retry::kAlways || (retry == Retry::kIfNotApplied && error.not_applied));
      if (!may_retry || std::chrono::steady_clock::now() >= give_up) {
        if (retry == Retry::kIfNotApplied && !error.not_applied) {
          return Status::IOError(error.status.message() +
                                 " (the write may or may not have been applied: read to find out)");
        }
        return error.status;
      }
      std::this_thread::sleep_for(kRetryPause);
    }
  }

  const PostgresOptions options_;
  const postgres::Schema schema_;
  postgres::Pool pool_;
  const Statement reads_[4] = {schema_.Read(QueryShape::kAll), schema_.Read(QueryShape::kTypes),
                               schema_.Read(QueryShape::kTags),
                               schema_.Read(QueryShape::kTagsAndTypes)};
  const Statement read_stream_ = schema_.ReadStream(false);
  const Statement read_stream_desc_ = schema_.ReadStream(true);
  const Statement head_ = schema_.Head();
  const Statement max_tracking_id_ = schema_.MaxTrackingId();
  const Statement tracking_records_ = schema_.TrackingRecords();
  const Statement append_ = schema_.Append();
  std::unique_ptr<postgres::NotificationListener> listener_;
};

}  // namespace

Result<std::unique_ptr<Recorder>> OpenPostgresRecorder(const PostgresOptions& options) {
  if (options.dbname.empty()) return Status::InvalidArgument("PostgresOptions::dbname is empty");
  if (options.pool_size < 1 || options.pool_max_overflow < 0) {
    return Status::InvalidArgument("pool_size must be at least 1 and pool_max_overflow at least 0");
  }
  ES_ASSIGN_OR_RETURN(postgres::Schema schema, postgres::Schema::Make(options));
  auto recorder = std::make_unique<PostgresRecorder>(options, std::move(schema));
  ES_RETURN_IF_ERROR(recorder->Start());
  return std::unique_ptr<Recorder>(std::move(recorder));
}

}  // namespace es
