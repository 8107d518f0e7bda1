#include "tests/conformance/helpers.h"

#include <cstdio>
#include <numeric>
#include <utility>

namespace es::conformance {

Event Ev(std::string type, std::vector<std::string> tags, std::string data) {
  Event event;
  event.type = std::move(type);
  event.tags = std::move(tags);
  event.data = std::move(data);
  return event;
}

Event StreamEv(std::string id, std::int64_t version, std::string type,
               std::vector<std::string> tags) {
  Event event = Ev(std::move(type), std::move(tags), "state of " + id);
  event.stream = StreamVersion{std::move(id), version};
  return event;
}

QueryItem Types(std::vector<std::string> types) { return QueryItem{std::move(types), {}}; }
QueryItem Tags(std::vector<std::string> tags) { return QueryItem{{}, std::move(tags)}; }
QueryItem Item(std::vector<std::string> types, std::vector<std::string> tags) {
  return QueryItem{std::move(types), std::move(tags)};
}
Query Q(std::vector<QueryItem> items) { return Query{std::move(items)}; }
AppendCondition Cond(Query query, std::optional<std::int64_t> after) {
  return AppendCondition{std::move(query), after};
}

SelectEventsOptions Versions(std::optional<std::int64_t> gt, std::optional<std::int64_t> lte,
                             bool desc, std::optional<std::int64_t> limit) {
  SelectEventsOptions options;
  options.gt = gt;
  options.lte = lte;
  options.desc = desc;
  options.limit = limit;
  return options;
}

SelectNotificationsOptions Notifs(std::optional<std::int64_t> start, std::int64_t limit,
                                  std::optional<std::int64_t> stop, std::vector<std::string> topics,
                                  bool inclusive_of_start) {
  SelectNotificationsOptions options;
  options.start = start;
  options.limit = limit;
  options.stop = stop;
  options.topics = std::move(topics);
  options.inclusive_of_start = inclusive_of_start;
  return options;
}

std::vector<std::int64_t> Positions(const std::vector<SequencedEvent>& events) {
  std::vector<std::int64_t> positions;
  for (const SequencedEvent& event : events) positions.push_back(event.position);
  return positions;
}

std::vector<std::int64_t> Ids(const std::vector<Notification>& notifications) {
  std::vector<std::int64_t> ids;
  for (const Notification& notification : notifications) ids.push_back(notification.id);
  return ids;
}

std::vector<std::int64_t> Iota(std::int64_t n) {
  std::vector<std::int64_t> values(static_cast<std::size_t>(n));
  std::iota(values.begin(), values.end(), 1);
  return values;
}

ReadResult ReadOk(Recorder& recorder, const Query& query, std::optional<std::int64_t> after,
                  std::optional<std::int64_t> limit) {
  Result<ReadResult> result = recorder.Read(query, ReadOptions{after, limit});
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  return std::move(result).value();
}

std::int64_t AppendOk(Recorder& recorder, const std::vector<Event>& events,
                      const std::optional<AppendCondition>& condition) {
  Result<std::int64_t> result = recorder.Append(events, condition);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  return *result;
}

std::vector<SequencedEvent> ReadStreamOk(Recorder& recorder, std::string_view stream_id,
                                         const SelectEventsOptions& options) {
  Result<std::vector<SequencedEvent>> result = recorder.ReadStream(stream_id, options);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  return std::move(result).value();
}

std::vector<std::int64_t> InsertOk(Recorder& recorder, const std::vector<StoredEvent>& events) {
  Result<std::vector<std::int64_t>> result = recorder.InsertEvents(events);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  return std::move(result).value();
}

std::vector<StoredEvent> SelectOk(Recorder& recorder, std::string_view originator_id,
                                  const SelectEventsOptions& options) {
  Result<std::vector<StoredEvent>> result = recorder.SelectEvents(originator_id, options);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  return std::move(result).value();
}

std::vector<Notification> NotificationsOk(Recorder& recorder,
                                          const SelectNotificationsOptions& options) {
  Result<std::vector<Notification>> result = recorder.SelectNotifications(options);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  return std::move(result).value();
}

std::optional<std::int64_t> HeadOk(Recorder& recorder) {
  Result<std::optional<std::int64_t>> result = recorder.Head();
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  return *result;
}

std::optional<std::int64_t> MaxNotificationIdOk(Recorder& recorder) {
  Result<std::optional<std::int64_t>> result = recorder.MaxNotificationId();
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  return *result;
}

std::optional<std::int64_t> MaxTrackingOk(Recorder& recorder, std::string_view application_name) {
  Result<std::optional<std::int64_t>> result = recorder.MaxTrackingId(application_name);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  return *result;
}

bool HasTrackingOk(Recorder& recorder, std::string_view application_name,
                   std::optional<std::int64_t> notification_id) {
  Result<bool> result = recorder.HasTrackingId(application_name, notification_id);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  return *result;
}

void CheckHasTracking(Recorder& recorder, std::string_view application,
                      const std::vector<std::optional<std::int64_t>>& yes,
                      const std::vector<std::int64_t>& no) {
  for (std::optional<std::int64_t> id : yes) {
    INFO(application, " ", doctest::toString(id));
    CHECK(HasTrackingOk(recorder, application, id));
  }
  for (std::int64_t id : no) {
    INFO(application, " ", id);
    CHECK_FALSE(HasTrackingOk(recorder, application, id));
  }
}

void CheckReads(Recorder& recorder, const std::vector<ReadCase>& cases) {
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const ReadCase& c = cases[i];
    INFO("read case ", i, ": query ", Describe(c.query), " after ", doctest::toString(c.after),
         " limit ", doctest::toString(c.limit));
    ReadResult result = ReadOk(recorder, c.query, c.after, c.limit);
    CHECK(Positions(result.events) == c.positions);
    CHECK(result.head == c.head);
  }
}

void ThreadErrors::Add(std::string error) {
  std::lock_guard<std::mutex> lock(mu_);
  errors_.push_back(std::move(error));
}

std::vector<std::string> ThreadErrors::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

namespace {

std::string List(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += values[i];
  }
  return out + "]";
}

// Printable bytes as they are, others as \xNN.
std::string Escaped(std::string_view bytes) {
  std::string out = "\"";
  for (char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(c));
      out += hex;
    }
  }
  return out + "\"";
}

}  // namespace

std::string Describe(const Query& query) {
  if (query.items.empty()) return "{}";
  std::string out;
  for (const QueryItem& item : query.items) {
    if (!out.empty()) out += " OR ";
    out += "(types " + List(item.types) + " tags " + List(item.tags) + ")";
  }
  return out;
}

std::string Describe(const Event& event) {
  std::string out =
      "{type " + event.type + " tags " + List(event.tags) + " data " + Escaped(event.data);
  if (event.stream) {
    out += " stream " + event.stream->id + "@" + std::to_string(event.stream->version);
  }
  if (event.uuid) {
    out += " uuid " + Escaped(std::string_view(reinterpret_cast<const char*>(event.uuid->data()),
                                               event.uuid->size()));
  }
  for (const auto& [key, value] : event.metadata) out += " meta " + key + "=" + value;
  return out + "}";
}

std::string Describe(const SequencedEvent& event) {
  return std::to_string(event.position) + ":" + Describe(event.event);
}

std::string Describe(const StoredEvent& event) {
  return "{" + event.originator_id + "@" + std::to_string(event.originator_version) + " topic " +
         event.topic + " state " + Escaped(event.state) + "}";
}

std::string Describe(const Notification& notification) {
  return std::to_string(notification.id) + ":" +
         Describe(StoredEvent{notification.originator_id, notification.originator_version,
                              notification.topic, notification.state});
}

}  // namespace es::conformance
