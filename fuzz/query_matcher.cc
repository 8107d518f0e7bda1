// Fuzz target: the engine's query planner and append conditions against a naive matcher written
// here from the rule in es/query.h, independently of the engine and of the in-memory recorder.
//
// The input drives a session on a store in memory: appends of events whose types and tags come
// from small alphabets (so that queries match, and tags repeat within an event), reads of queries
// of every shape (no items; items with types only, tags only, both or neither; repeated and
// unknown types and tags) with any `after` and `limit`, conditional appends, and reopenings (which
// rebuild the indexes from an index checkpoint or by replay). Every answer (the events, the head
// of the head rule, an append's outcome or InvalidArgument for a negative bound) must be the
// naive one; any difference aborts.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "es/env.h"
#include "es/store.h"

namespace es {
namespace {

constexpr char kDir[] = "/store";
// Types and tags of events; queries also ask for the last one of each, which no event has.
const std::vector<std::string> kTypes = {"A", "B", "C", "unknown-type"};
const std::vector<std::string> kTags = {"t0", "t1", "t2", "t3", "t4", "unknown-tag"};
constexpr int kMaxOperations = 48;

// ---- The naive matcher: es/query.h, read literally ----

bool Contains(const std::vector<std::string>& strings, const std::string& s) {
  return std::find(strings.begin(), strings.end(), s) != strings.end();
}

bool ItemMatches(const QueryItem& item, const Event& event) {
  if (!item.types.empty() && !Contains(item.types, event.type)) return false;
  for (const std::string& tag : item.tags) {
    if (!Contains(event.tags, tag)) return false;
  }
  return true;
}

bool QueryMatches(const Query& query, const Event& event) {
  if (query.items.empty()) return true;
  for (const QueryItem& item : query.items) {
    if (ItemMatches(item, event)) return true;
  }
  return false;
}

// The log as the test sees it: the event at position p is log[p - 1].
using Log = std::vector<Event>;

ReadResult NaiveRead(const Log& log, const Query& query, const ReadOptions& options) {
  ReadResult result;
  const std::int64_t after = options.after.value_or(0);
  for (std::int64_t position = 1; position <= static_cast<std::int64_t>(log.size()); ++position) {
    if (options.limit && static_cast<std::int64_t>(result.events.size()) >= *options.limit) break;
    if (position <= after) continue;
    if (QueryMatches(query, log[position - 1])) {
      result.events.push_back({position, log[position - 1]});
    }
  }
  if (options.limit) {
    if (!result.events.empty()) result.head = result.events.back().position;
  } else if (!log.empty()) {
    result.head = static_cast<std::int64_t>(log.size());
  }
  return result;
}

bool NaiveConditionFails(const Log& log, const AppendCondition& condition) {
  const std::int64_t after = condition.after.value_or(0);
  for (std::int64_t position = 1; position <= static_cast<std::int64_t>(log.size()); ++position) {
    if (position > after && QueryMatches(condition.fail_if_events_match, log[position - 1])) {
      return true;
    }
  }
  return false;
}

// ---- Decoding the input ----

std::string Pick(FuzzedDataProvider& input, const std::vector<std::string>& alphabet,
                 std::size_t size) {
  return alphabet[input.ConsumeIntegralInRange<std::size_t>(0, size - 1)];
}

std::vector<Event> DecodeEvents(FuzzedDataProvider& input) {
  std::vector<Event> events(input.ConsumeIntegralInRange(1, 4));
  for (Event& event : events) {
    event.type = Pick(input, kTypes, kTypes.size() - 1);
    event.tags.resize(input.ConsumeIntegralInRange(0, 4));
    for (std::string& tag : event.tags) tag = Pick(input, kTags, kTags.size() - 1);
    event.data = input.ConsumeRandomLengthString(16);
  }
  return events;
}

Query DecodeQuery(FuzzedDataProvider& input) {
  Query query;
  query.items.resize(input.ConsumeIntegralInRange(0, 3));
  for (QueryItem& item : query.items) {
    item.types.resize(input.ConsumeIntegralInRange(0, 3));
    for (std::string& type : item.types) type = Pick(input, kTypes, kTypes.size());
    item.tags.resize(input.ConsumeIntegralInRange(0, 3));
    for (std::string& tag : item.tags) tag = Pick(input, kTags, kTags.size());
  }
  return query;
}

// A read bound: mostly within the log (and a little past it), sometimes absent, sometimes any
// 64-bit value (negative ones must be refused).
std::optional<std::int64_t> DecodeBound(FuzzedDataProvider& input, const Log& log) {
  switch (input.ConsumeIntegralInRange(0, 5)) {
    case 0:
      return std::nullopt;
    case 1:
      return input.ConsumeIntegral<std::int64_t>();
    default:
      return input.ConsumeIntegralInRange<std::int64_t>(0,
                                                        static_cast<std::int64_t>(log.size()) + 2);
  }
}

// ---- The session ----

class Session {
 public:
  Session() {
    options_.env = env_.get();
    options_.durability = Durability::kNone;
    // Small segments, so that reads and conditions cross segment boundaries.
    options_.segment_bytes = 64 * 1024;
    options_.segment_events = 7;
    options_.max_write_bytes = 32 * 1024;
    options_.max_write_events = 4;
    options_.prepare_spare_segment = false;
    Reopen();
  }

  void Reopen() {
    store_.reset();  // closing writes an index checkpoint, which the next open loads
    Result<std::unique_ptr<Store>> opened = Store::Open(options_, kDir);
    if (!opened.ok()) std::abort();
    store_ = std::move(opened).value();
  }

  void Append(FuzzedDataProvider& input) {
    const std::vector<Event> events = DecodeEvents(input);
    std::optional<AppendCondition> condition;
    if (input.ConsumeBool()) {
      condition.emplace();
      condition->fail_if_events_match = DecodeQuery(input);
      condition->after = DecodeBound(input, log_);
    }
    Result<std::int64_t> appended = store_->Append(events, condition);
    if (condition && condition->after && *condition->after < 0) {
      if (!appended.status().IsInvalidArgument()) std::abort();
      return;
    }
    if (condition && NaiveConditionFails(log_, *condition)) {
      if (!appended.status().IsConditionFailed()) std::abort();
      return;
    }
    if (!appended.ok()) std::abort();
    log_.insert(log_.end(), events.begin(), events.end());
    if (*appended != static_cast<std::int64_t>(log_.size())) std::abort();
  }

  void Read(FuzzedDataProvider& input) {
    const Query query = DecodeQuery(input);
    ReadOptions read_options;
    read_options.after = DecodeBound(input, log_);
    read_options.limit = DecodeBound(input, log_);
    Result<ReadResult> result = store_->Read(query, read_options);
    if ((read_options.after && *read_options.after < 0) ||
        (read_options.limit && *read_options.limit < 0)) {
      if (!result.status().IsInvalidArgument()) std::abort();
      return;
    }
    if (!result.ok()) std::abort();
    const ReadResult expected = NaiveRead(log_, query, read_options);
    if (result->events != expected.events || result->head != expected.head) std::abort();
  }

 private:
  std::unique_ptr<Env> env_ = NewMemEnv();
  Options options_;
  std::unique_ptr<Store> store_;
  Log log_;
};

}  // namespace
}  // namespace es

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  es::Session session;
  for (int i = 0; i < es::kMaxOperations && input.remaining_bytes() > 0; ++i) {
    switch (input.ConsumeIntegralInRange(0, 7)) {
      case 0:
        session.Reopen();
        break;
      case 1:
      case 2:
      case 3:
        session.Append(input);
        break;
      default:
        session.Read(input);
        break;
    }
  }
  return 0;
}
