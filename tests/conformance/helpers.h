// Builders, checked calls and printers shared by the conformance cases.
#ifndef ES_TESTS_CONFORMANCE_HELPERS_H_
#define ES_TESTS_CONFORMANCE_HELPERS_H_

#include <doctest/doctest.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "es/recorder.h"
#include "tests/conformance/fixture.h"

namespace es::conformance {

// ---- Builders ----

Event Ev(std::string type, std::vector<std::string> tags = {}, std::string data = {});
// A stream (aggregate) event: Python's StoredEvent as the Event it is stored as.
Event StreamEv(std::string id, std::int64_t version, std::string type = "Stream",
               std::vector<std::string> tags = {});

QueryItem Types(std::vector<std::string> types);
QueryItem Tags(std::vector<std::string> tags);
QueryItem Item(std::vector<std::string> types, std::vector<std::string> tags);
Query Q(std::vector<QueryItem> items = {});
AppendCondition Cond(Query query, std::optional<std::int64_t> after = std::nullopt);

// Options in the order of the Python calls select_events(gt, lte, desc, limit) and
// select_notifications(start, limit, stop, topics, inclusive_of_start). (Designated initializers
// would read better, but g++ 12 warns about the members they leave out.)
SelectEventsOptions Versions(std::optional<std::int64_t> gt = std::nullopt,
                             std::optional<std::int64_t> lte = std::nullopt, bool desc = false,
                             std::optional<std::int64_t> limit = std::nullopt);
inline constexpr bool kExclusive = false;  // inclusive_of_start
SelectNotificationsOptions Notifs(std::optional<std::int64_t> start, std::int64_t limit,
                                  std::optional<std::int64_t> stop = std::nullopt,
                                  std::vector<std::string> topics = {},
                                  bool inclusive_of_start = true);

// ---- Observations ----

std::vector<std::int64_t> Positions(const std::vector<SequencedEvent>& events);
std::vector<std::int64_t> Ids(const std::vector<Notification>& notifications);
// 1, 2, ..., n.
std::vector<std::int64_t> Iota(std::int64_t n);

// The code name of a failed call ("condition_failed", ...), or "ok": assertions on it print
// readably.
inline std::string_view CodeOf(const Status& status) { return Status::CodeName(status.code()); }
template <typename T>
std::string_view CodeOf(const Result<T>& result) {
  return CodeOf(result.status());
}

// ---- Calls that must succeed (REQUIRE) ----

ReadResult ReadOk(Recorder& recorder, const Query& query = {},
                  std::optional<std::int64_t> after = std::nullopt,
                  std::optional<std::int64_t> limit = std::nullopt);
std::int64_t AppendOk(Recorder& recorder, const std::vector<Event>& events,
                      const std::optional<AppendCondition>& condition = std::nullopt);
std::vector<SequencedEvent> ReadStreamOk(Recorder& recorder, std::string_view stream_id,
                                         const SelectEventsOptions& options = {});
std::vector<std::int64_t> InsertOk(Recorder& recorder, const std::vector<StoredEvent>& events);
std::vector<StoredEvent> SelectOk(Recorder& recorder, std::string_view originator_id,
                                  const SelectEventsOptions& options = {});
std::vector<Notification> NotificationsOk(Recorder& recorder,
                                          const SelectNotificationsOptions& options);
std::optional<std::int64_t> HeadOk(Recorder& recorder);
std::optional<std::int64_t> MaxNotificationIdOk(Recorder& recorder);
std::optional<std::int64_t> MaxTrackingOk(Recorder& recorder, std::string_view application_name);
bool HasTrackingOk(Recorder& recorder, std::string_view application_name,
                   std::optional<std::int64_t> notification_id);

// Checks that HasTrackingId(application, id) is true for each of `yes` and false for each of `no`.
void CheckHasTracking(Recorder& recorder, std::string_view application,
                      const std::vector<std::optional<std::int64_t>>& yes,
                      const std::vector<std::int64_t>& no);

// ---- Table-driven reads ----

struct ReadCase {
  Query query;
  std::optional<std::int64_t> after;
  std::optional<std::int64_t> limit;
  std::vector<std::int64_t> positions;  // expected
  std::optional<std::int64_t> head;     // expected
};

// Checks every case, naming the failing one by its index and query.
void CheckReads(Recorder& recorder, const std::vector<ReadCase>& cases);

// ---- Threads ----

// Failures seen by worker threads, to be asserted on the test's own thread.
class ThreadErrors {
 public:
  void Add(std::string error);
  std::vector<std::string> Get();

 private:
  std::mutex mu_;
  std::vector<std::string> errors_;
};

// ---- Backends ----

// Runs `body(fixture)` once per backend, each in its own SUBCASE named after the backend and with
// a fresh fixture.
template <typename Body>
void ForEachBackend(Body body) {
  for (const Backend& backend : Backends()) {
    SUBCASE(backend.name.c_str()) {
      std::unique_ptr<Fixture> fixture = backend.make();
      body(*fixture);
    }
  }
}

// ---- Printing ----

std::string Describe(const Query& query);
std::string Describe(const Event& event);
std::string Describe(const SequencedEvent& event);
std::string Describe(const StoredEvent& event);
std::string Describe(const Notification& notification);

}  // namespace es::conformance

namespace doctest {

template <typename T>
struct DescribedStringMaker {
  static String convert(const T& value) { return es::conformance::Describe(value).c_str(); }
};
template <>
struct StringMaker<es::Event> : DescribedStringMaker<es::Event> {};
template <>
struct StringMaker<es::SequencedEvent> : DescribedStringMaker<es::SequencedEvent> {};
template <>
struct StringMaker<es::StoredEvent> : DescribedStringMaker<es::StoredEvent> {};
template <>
struct StringMaker<es::Notification> : DescribedStringMaker<es::Notification> {};

template <typename T>
struct StringMaker<std::optional<T>> {
  static String convert(const std::optional<T>& value) {
    return value ? toString(*value) : String("null");
  }
};

template <typename T>
struct StringMaker<std::vector<T>> {
  static String convert(const std::vector<T>& values) {
    String out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out += ", ";
      out += toString(values[i]);
    }
    return out + "]";
  }
};

}  // namespace doctest

#endif  // ES_TESTS_CONFORMANCE_HELPERS_H_
