// The reference recorder: the whole log in a vector under one mutex, every read a linear scan.
// It implements reference §1.2 (matching), §1.4 (head rule), §1.5 (conditions) and §3 (streams,
// tracking) as literally as possible, so that it can serve as the oracle for the other backends.

#include <algorithm>
#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "api/src/validation.h"
#include "es/recorder.h"

namespace es {
namespace {

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// §1.2: the type is one of the item's types (or the item has none) and every tag of the item is
// among the event's tags (so the item's tags act as a set).
bool MatchesItem(const QueryItem& item, const Event& event) {
  if (!item.types.empty() && !Contains(item.types, event.type)) return false;
  return std::all_of(item.tags.begin(), item.tags.end(),
                     [&](const std::string& tag) { return Contains(event.tags, tag); });
}

bool Matches(const Query& query, const Event& event) {
  return query.items.empty() ||
         std::any_of(query.items.begin(), query.items.end(),
                     [&](const QueryItem& item) { return MatchesItem(item, event); });
}

std::string Describe(const StreamVersion& stream) {
  return "stream '" + stream.id + "' version " + std::to_string(stream.version);
}

class InMemoryRecorder final : public Recorder {
 public:
  Result<std::int64_t> Write(const AppendRequest& request) override {
    Result<std::int64_t> written = Commit(request);
    if (written.ok()) append_listeners().Notify();
    return written;
  }

  Result<ReadResult> Read(const Query& query, const ReadOptions& options) override {
    ES_RETURN_IF_ERROR(ValidateReadOptions(options));
    std::lock_guard<std::mutex> lock(mu_);
    ReadResult result;
    result.events = Scan(query, options.after.value_or(0), options.limit);
    if (options.limit) {
      if (!result.events.empty()) result.head = result.events.back().position;
    } else {
      result.head = HeadLocked();
    }
    return result;
  }

  Result<std::vector<SequencedEvent>> ReadStream(std::string_view stream_id,
                                                 const SelectEventsOptions& options) override {
    ES_RETURN_IF_ERROR(ValidateSelectEventsOptions(options));
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<SequencedEvent> result;
    auto stream = streams_.find(stream_id);
    if (stream == streams_.end()) return result;
    std::vector<std::int64_t> positions;
    for (const auto& [version, position] : stream->second) {
      if (options.gt && version <= *options.gt) continue;
      if (options.lte && version > *options.lte) continue;
      positions.push_back(position);
    }
    if (options.desc) std::reverse(positions.begin(), positions.end());
    if (options.limit && static_cast<std::int64_t>(positions.size()) > *options.limit) {
      positions.resize(static_cast<std::size_t>(*options.limit));
    }
    for (std::int64_t position : positions) result.push_back(At(position));
    return result;
  }

  Result<std::optional<std::int64_t>> Head() override {
    std::lock_guard<std::mutex> lock(mu_);
    return HeadLocked();
  }

  Result<std::vector<Tracking>> TrackingRecords() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Tracking> records;
    for (const auto& [name, id] : max_tracking_ids_) records.push_back(Tracking{name, id});
    return records;
  }

  Result<std::optional<std::int64_t>> MaxTrackingId(std::string_view application_name) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = max_tracking_ids_.find(application_name);
    if (it == max_tracking_ids_.end()) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(it->second);
  }

 private:
  // Write, under the lock; listeners are notified after it is released.
  Result<std::int64_t> Commit(const AppendRequest& request) {
    ES_RETURN_IF_ERROR(ValidateWriteRequest(request));
    std::lock_guard<std::mutex> lock(mu_);
    ES_RETURN_IF_ERROR(CheckCondition(request.condition));
    ES_RETURN_IF_ERROR(CheckStreams(request.events));
    ES_RETURN_IF_ERROR(CheckTracking(request.tracking));
    for (const Event& event : request.events) {
      const auto position = static_cast<std::int64_t>(events_.size()) + 1;
      if (event.stream) streams_[event.stream->id][event.stream->version] = position;
      events_.push_back(SequencedEvent{position, event});
    }
    if (request.tracking != nullptr) {
      max_tracking_ids_[request.tracking->application_name] = request.tracking->notification_id;
    }
    return request.events.empty() ? 0 : events_.back().position;
  }

  // Positions are 1-based and gap-free: the event at position p is events_[p - 1].
  const SequencedEvent& At(std::int64_t position) const {
    return events_[static_cast<std::size_t>(position - 1)];
  }

  std::optional<std::int64_t> HeadLocked() const {
    if (events_.empty()) return std::nullopt;
    return events_.back().position;
  }

  // The events after `after` that match `query`, ascending, at most `limit` of them.
  std::vector<SequencedEvent> Scan(const Query& query, std::int64_t after,
                                   std::optional<std::int64_t> limit) const {
    std::vector<SequencedEvent> matched;
    const std::int64_t size = static_cast<std::int64_t>(events_.size());
    for (std::int64_t position = std::min(after, size) + 1; position <= size; ++position) {
      if (limit && static_cast<std::int64_t>(matched.size()) >= *limit) break;
      if (Matches(query, At(position).event)) matched.push_back(At(position));
    }
    return matched;
  }

  // §1.5: the condition fails exactly when read(query, after, limit = 1) would return an event.
  Status CheckCondition(const AppendCondition* condition) const {
    if (condition == nullptr) return Status::OK();
    std::vector<SequencedEvent> match =
        Scan(condition->fail_if_events_match, condition->after.value_or(0), 1);
    if (match.empty()) return Status::OK();
    return Status::ConditionFailed("append condition matched the event at position " +
                                   std::to_string(match.front().position) + " (type '" +
                                   match.front().event.type + "')");
  }

  Status CheckStreams(std::span<const Event> events) const {
    std::set<std::pair<std::string_view, std::int64_t>> in_request;
    for (const Event& event : events) {
      if (!event.stream) continue;
      const StreamVersion& stream = *event.stream;
      auto existing = streams_.find(stream.id);
      if (existing != streams_.end() && existing->second.contains(stream.version)) {
        return Status::IntegrityError(Describe(stream) + " already exists");
      }
      if (!in_request.emplace(stream.id, stream.version).second) {
        return Status::IntegrityError(Describe(stream) + " appears twice in the request");
      }
    }
    return Status::OK();
  }

  Status CheckTracking(const Tracking* tracking) const {
    if (tracking == nullptr) return Status::OK();
    auto it = max_tracking_ids_.find(tracking->application_name);
    if (it == max_tracking_ids_.end() || tracking->notification_id > it->second) {
      return Status::OK();
    }
    return Status::IntegrityError("tracking id " + std::to_string(tracking->notification_id) +
                                  " of application '" + tracking->application_name +
                                  "' is not greater than its maximum " +
                                  std::to_string(it->second));
  }

  std::mutex mu_;
  std::vector<SequencedEvent> events_;
  // Stream id -> (version -> position).
  std::map<std::string, std::map<std::int64_t, std::int64_t>, std::less<>> streams_;
  // Application name -> the largest tracking id recorded.
  std::map<std::string, std::int64_t, std::less<>> max_tracking_ids_;
};

}  // namespace

std::unique_ptr<Recorder> NewInMemoryRecorder() { return std::make_unique<InMemoryRecorder>(); }

}  // namespace es
