#include "es/recorder.h"

#include <algorithm>

namespace es {
namespace {

Event ToEvent(const StoredEvent& stored) {
  Event event;
  event.type = stored.topic;
  event.data = stored.state;
  event.stream = StreamVersion{stored.originator_id, stored.originator_version};
  return event;
}

StoredEvent ToStoredEvent(SequencedEvent&& sequenced) {
  Event& e = sequenced.event;
  StoredEvent stored;
  if (e.stream) {
    stored.originator_id = std::move(e.stream->id);
    stored.originator_version = e.stream->version;
  }
  stored.topic = std::move(e.type);
  stored.state = std::move(e.data);
  return stored;
}

}  // namespace

Result<std::int64_t> Recorder::Append(std::span<const Event> events,
                                      const std::optional<AppendCondition>& condition) {
  if (events.empty()) return Status::InvalidArgument("append of no events");
  AppendRequest request;
  request.events = events;
  request.condition = condition ? &*condition : nullptr;
  return Write(request);
}

Result<std::vector<std::int64_t>> Recorder::InsertStoredEvents(std::span<const StoredEvent> events,
                                                               const Tracking* tracking) {
  std::vector<std::int64_t> ids;
  if (events.empty() && tracking == nullptr) return ids;
  std::vector<Event> converted;
  converted.reserve(events.size());
  for (const StoredEvent& stored : events) converted.push_back(ToEvent(stored));
  AppendRequest request;
  request.events = converted;
  request.tracking = tracking;
  ES_ASSIGN_OR_RETURN(std::int64_t last, Write(request));
  ids.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    ids.push_back(last - static_cast<std::int64_t>(events.size() - 1 - i));
  }
  return ids;
}

Result<std::vector<std::int64_t>> Recorder::InsertEvents(std::span<const StoredEvent> events) {
  return InsertStoredEvents(events, nullptr);
}

Result<std::vector<std::int64_t>> Recorder::InsertEvents(std::span<const StoredEvent> events,
                                                         const Tracking& tracking) {
  return InsertStoredEvents(events, &tracking);
}

Result<std::vector<StoredEvent>> Recorder::SelectEvents(std::string_view originator_id,
                                                        const SelectEventsOptions& options) {
  ES_ASSIGN_OR_RETURN(std::vector<SequencedEvent> sequenced, ReadStream(originator_id, options));
  std::vector<StoredEvent> stored;
  stored.reserve(sequenced.size());
  for (SequencedEvent& e : sequenced) stored.push_back(ToStoredEvent(std::move(e)));
  return stored;
}

Result<std::vector<Notification>> Recorder::SelectNotifications(
    const SelectNotificationsOptions& options) {
  if (options.limit < 0) return Status::InvalidArgument("negative limit");
  std::vector<Notification> notifications;
  ReadOptions read;
  if (options.start) {
    // Clamped before subtracting: start may be any value, even INT64_MIN.
    std::int64_t start = std::max<std::int64_t>(*options.start, 0);
    read.after = options.inclusive_of_start ? std::max<std::int64_t>(start - 1, 0) : start;
  }
  read.limit = options.limit;
  Query query;
  if (!options.topics.empty()) query.items.push_back(QueryItem{options.topics, {}});
  ES_ASSIGN_OR_RETURN(ReadResult result, Read(query, read));
  notifications.reserve(result.events.size());
  for (SequencedEvent& e : result.events) {
    if (options.stop && e.position > *options.stop) break;
    std::int64_t id = e.position;
    StoredEvent stored = ToStoredEvent(std::move(e));
    notifications.push_back(Notification{id, std::move(stored.originator_id),
                                         stored.originator_version, std::move(stored.topic),
                                         std::move(stored.state)});
  }
  return notifications;
}

Result<std::optional<std::int64_t>> Recorder::MaxNotificationId() { return Head(); }

Status Recorder::InsertTracking(const Tracking& tracking) {
  AppendRequest request;
  request.tracking = &tracking;
  return Write(request).status();
}

Result<bool> Recorder::HasTrackingId(std::string_view application_name,
                                     std::optional<std::int64_t> notification_id) {
  if (!notification_id) return true;
  ES_ASSIGN_OR_RETURN(std::optional<std::int64_t> max, MaxTrackingId(application_name));
  return max.has_value() && *notification_id <= *max;
}

}  // namespace es
