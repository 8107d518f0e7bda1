// The PostgreSQL recorder: the core of es::Recorder as one prepared statement per call (docs/
// postgres.md). Every write is one call of the append function, so it is one round trip and one
// transaction (an encrypted write: a transaction that locks the head first, since its values are
// sealed for their positions); every read is one statement, so it sees one snapshot.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/common/event_codec.h"
#include "adapters/postgres/src/connection.h"
#include "adapters/postgres/src/event_row.h"
#include "adapters/postgres/src/notification_listener.h"
#include "adapters/postgres/src/pool.h"
#include "adapters/postgres/src/schema.h"
#include "adapters/postgres/src/wire.h"
#include "api/src/validation.h"
#include "es/postgres.h"

namespace es {
namespace {

using postgres::AppendOutcome;
using postgres::EventAt;
using postgres::ExecError;
using postgres::GetBytes;
using postgres::GetInt4;
using postgres::GetInt8;
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

// A key id for messages.
std::string KeyIdText(std::optional<std::int64_t> key_id) {
  return key_id ? "key id " + std::to_string(*key_id) : "no key id";
}

class PostgresRecorder final : public Recorder {
 public:
  PostgresRecorder(const PostgresOptions& options, postgres::Schema schema)
      : options_(options),
        schema_(std::move(schema)),
        tables_name_("PostgreSQL tables '" + schema_.Table("events") + "'"),
        compressor_(CompressorFor(options.compression, options.compression_level)),
        pool_(options) {}

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
    ES_RETURN_IF_ERROR(CheckCodecColumns());
    ES_RETURN_IF_ERROR(SetUpEncryption());
    listener_ = std::make_unique<postgres::NotificationListener>(
        options_, schema_, [this] { return WriteCount(Retry::kNever); },
        [this] { append_listeners().Notify(); });
    return Status::OK();
  }

  Result<std::int64_t> Write(const AppendRequest& request) override {
    ES_RETURN_IF_ERROR(ValidateWriteRequest(request));
    // Before any lock: compressing takes microseconds per event.
    const std::vector<std::optional<std::string>> compressed =
        CompressEventData(compressor_ ? &*compressor_ : nullptr, request.events);
    PgResult result;
    if (cipher_ == nullptr) {
      ES_ASSIGN_OR_RETURN(Params params, AppendParams(request, compressed, std::nullopt));
      ES_ASSIGN_OR_RETURN(result, Run(append_, params, Retry::kIfNotApplied));
    } else {
      auto sealed_append = [&](postgres::Connection& connection, ExecError& error) {
        return SealedAppend(connection, request, compressed, error);
      };
      ES_ASSIGN_OR_RETURN(result, Run(sealed_append, Retry::kIfNotApplied));
    }
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
      case AppendOutcome::kKeyMismatch:
        return Status::InvalidArgument(tables_name_ + " record " + KeyIdText(position) +
                                       ", and this recorder opened them with " +
                                       KeyIdText(cipher_ ? std::optional(key_id_) : std::nullopt) +
                                       ": open a new recorder");
      case AppendOutcome::kHeadMoved:
        break;  // the head row is locked from LockHead to the append: cannot happen
    }
    return Status::IOError("PostgreSQL append function returned an unexpected outcome");
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
      ES_ASSIGN_OR_RETURN(SequencedEvent event, EventAt(result.get(), row, 1, cipher_.get()));
      read.events.push_back(std::move(event));
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
    for (int row = 0; row < rows; ++row) {
      ES_ASSIGN_OR_RETURN(SequencedEvent event, EventAt(result.get(), row, 0, cipher_.get()));
      events.push_back(std::move(event));
    }
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

  // Checks that the tables have the columns compression and encryption added (tables of an
  // earlier version get them from CreateScript; without create_table they are refused).
  Status CheckCodecColumns() {
    Params params;
    params.Text(schema_.Table("events"));
    params.Text(schema_.Table("head"));
    ES_ASSIGN_OR_RETURN(PgResult result, Run(codec_columns_, params, Retry::kAlways));
    if (GetInt8(result.get(), 0, 0).value_or(0) == 3) return Status::OK();
    return Status::InvalidArgument(
        tables_name_ +
        " were made by an earlier version of es, without the data_codec, sealed_metadata and "
        "key_id columns: open them once with create_table to add them");
  }

  // The head position and the key id the tables record.
  Result<std::pair<std::int64_t, std::optional<std::int64_t>>> RecordedKeyId() {
    ES_ASSIGN_OR_RETURN(PgResult result, Run(key_id_statement_, Params(), Retry::kAlways));
    return std::pair(GetInt8(result.get(), 0, 0).value_or(0), GetInt8(result.get(), 0, 1));
  }

  // Checks the key against the one the tables record: an open without it, with another, or with
  // one for tables that hold plain events fails here; the first open with a key (and
  // create_table) of tables without events records it. Two opens at once record one key id: the
  // update takes the head row's lock and records only where none is.
  Status SetUpEncryption() {
    ES_ASSIGN_OR_RETURN(auto recorded, RecordedKeyId());
    if (options_.key_provider == nullptr) {
      return CheckKeyAgainstRecorded(tables_name_, recorded.second, std::nullopt);
    }
    ES_ASSIGN_OR_RETURN(EventDataKey data_key,
                        EventDataKeyFrom(*options_.key_provider, postgres::kDataKeyPurpose));
    ES_RETURN_IF_ERROR(CheckKeyAgainstRecorded(tables_name_, recorded.second, data_key.key_id));
    if (!recorded.second) {
      if (recorded.first > 0) return PlainEventsRefuseKey(tables_name_);
      if (!options_.create_table) {
        return Status::InvalidArgument(
            tables_name_ +
            " record no key id, and an open without create_table "
            "records none: open them once with create_table and the key");
      }
      Params params;
      params.Int8(data_key.key_id);
      ES_RETURN_IF_ERROR(Run(record_key_id_, params, Retry::kAlways).status());
      ES_ASSIGN_OR_RETURN(recorded, RecordedKeyId());
      if (!recorded.second) return PlainEventsRefuseKey(tables_name_);
      if (*recorded.second != data_key.key_id) {
        return Status::InvalidArgument(tables_name_ + " were just encrypted under another key");
      }
    }
    key_id_ = data_key.key_id;
    cipher_ = std::move(data_key.cipher);
    return Status::OK();
  }

  // An encrypted write on `connection`: in one transaction, locks the head row, seals the values
  // for the positions after it, and calls the append function (which finds the same head). The
  // lock is held for two more round trips (the append call, then COMMIT) than a plain write.
  PgResult SealedAppend(postgres::Connection& connection, const AppendRequest& request,
                        const std::vector<std::optional<std::string>>& compressed,
                        ExecError& error) {
    // Until COMMIT is sent nothing can have taken effect, whatever happened to the connection.
    auto failed = [&](ExecError cause) {
      if (PQstatus(connection.raw()) == CONNECTION_OK) {
        ExecError ignored;
        connection.ExecuteText("ROLLBACK", ignored);
      }
      error = std::move(cause);
      error.not_applied = true;
      return nullptr;
    };
    // BEGIN and the lock as one simple query, one round trip; its result (the head's) is text.
    PgResult head = connection.ExecuteText("BEGIN; " + lock_head_.sql, error);
    if (head == nullptr) return failed(error);
    Result<Params> params =
        AppendParams(request, compressed, std::strtoll(PQgetvalue(head.get(), 0, 0), nullptr, 10));
    if (!params.ok()) return failed(ExecError{params.status(), true, false});
    PgResult result = connection.Execute(append_, *params, error);
    if (result == nullptr) return failed(error);
    if (static_cast<AppendOutcome>(GetInt4(result.get(), 0, 0)) != AppendOutcome::kWritten) {
      failed(error);  // nothing was written: end the transaction
      return result;
    }
    if (connection.ExecuteText("COMMIT", error) == nullptr) return nullptr;
    return result;
  }

  // The append function's 24 arguments (Schema::CreateScript declares them). `compressed`: per
  // event, its data compressed (CompressEventData). `sealed_after`: the head the values are
  // sealed after, with cipher_ (none: a plain write).
  Result<Params> AppendParams(const AppendRequest& request,
                              const std::vector<std::optional<std::string>>& compressed,
                              std::optional<std::int64_t> sealed_after) const {
    std::vector<std::string> types, data, tags, meta_keys, meta_values, sealed_metadata;
    std::vector<std::int32_t> tag_counts, meta_counts, codecs;
    std::vector<std::optional<std::string>> stream_ids;
    std::vector<std::optional<std::int64_t>> stream_versions;
    std::vector<std::optional<Uuid>> uuids;
    const AesGcm* cipher = sealed_after ? cipher_.get() : nullptr;
    for (std::size_t i = 0; i < request.events.size(); ++i) {
      const Event& event = request.events[i];
      StoredValues stored;
      const std::string* frame = compressed.empty() || !compressed[i] ? nullptr : &*compressed[i];
      const std::int64_t position = sealed_after.value_or(0) + static_cast<std::int64_t>(i) + 1;
      ES_RETURN_IF_ERROR(SealEventValues(cipher, position, event, frame, &stored));
      types.push_back(event.type);
      data.emplace_back(stored.data);
      codecs.push_back(static_cast<std::int32_t>(stored.codec));
      tag_counts.push_back(static_cast<std::int32_t>(event.tags.size()));
      tags.insert(tags.end(), event.tags.begin(), event.tags.end());
      stream_ids.push_back(event.stream ? std::optional(event.stream->id) : std::nullopt);
      stream_versions.push_back(event.stream ? std::optional(event.stream->version) : std::nullopt);
      uuids.push_back(event.uuid);
      // Sealed metadata goes in one bytea (empty: none); plain metadata in the text arrays.
      sealed_metadata.push_back(cipher != nullptr ? std::move(stored.metadata) : std::string());
      meta_counts.push_back(cipher != nullptr ? 0
                                              : static_cast<std::int32_t>(event.metadata.size()));
      if (cipher != nullptr) continue;
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
    params.Int4Array(codecs);
    params.ByteaArray(sealed_metadata);
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
    params.OptionalInt8(cipher_ != nullptr ? std::optional(key_id_) : std::nullopt);
    params.OptionalInt8(sealed_after);
    return params;
  }

  Result<PgResult> Run(const Statement& statement, const Params& params, Retry retry) {
    return Run([&](postgres::Connection& connection,
                   ExecError& error) { return connection.Execute(statement, params, error); },
               retry);
  }

  // Runs `attempt` on a pooled connection, repeating it on a fresh one as `retry` allows.
  using Attempt = std::function<PgResult(postgres::Connection& connection, ExecError& error)>;
  Result<PgResult> Run(const Attempt& attempt, Retry retry) {
    const auto give_up = std::chrono::steady_clock::now() + kRetryWindow;
    while (true) {
      ExecError error;
      Result<postgres::PooledConnection> connection = pool_.Acquire();
      if (connection.ok()) {
        PgResult result = attempt(**connection, error);
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
  const std::string tables_name_;                    // "PostgreSQL tables '...'", for messages
  const std::optional<EventCompressor> compressor_;  // with Compression::kZstd
  std::unique_ptr<AesGcm> cipher_;                   // set by Start when the tables are encrypted
  std::int64_t key_id_ = 0;                          // cipher_'s key id
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
  const Statement lock_head_ = schema_.LockHead();
  const Statement key_id_statement_ = schema_.KeyId();
  const Statement record_key_id_ = schema_.RecordKeyId();
  const Statement codec_columns_ = schema_.CodecColumns();
  std::unique_ptr<postgres::NotificationListener> listener_;
};

}  // namespace

Result<std::unique_ptr<Recorder>> OpenPostgresRecorder(const PostgresOptions& options) {
  if (options.dbname.empty()) return Status::InvalidArgument("PostgresOptions::dbname is empty");
  if (options.pool_size < 1 || options.pool_max_overflow < 0) {
    return Status::InvalidArgument("pool_size must be at least 1 and pool_max_overflow at least 0");
  }
  if (options.compression_level < 0 || options.compression_level > 19) {
    return Status::InvalidArgument("PostgreSQL compression_level must be between 0 and 19");
  }
  ES_ASSIGN_OR_RETURN(postgres::Schema schema, postgres::Schema::Make(options));
  auto recorder = std::make_unique<PostgresRecorder>(options, std::move(schema));
  ES_RETURN_IF_ERROR(recorder->Start());
  return std::unique_ptr<Recorder>(std::move(recorder));
}

}  // namespace es
