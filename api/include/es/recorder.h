// Recorder interfaces: what the engine, the in-memory recorder and the SQLite and PostgreSQL
// adapters all implement, and what the conformance suite checks.
//
// The Python library's interfaces (DCB, aggregate, application, tracking, process) are kept as
// separate abstract classes so that code can ask for no more than it needs. `Recorder` implements
// all of them on a small core (Write, Read, ReadStream, Head, MaxTrackingId) that each backend
// provides; the classic calls are derived from that core once, here, for every backend.
//
// Contracts shared by every method:
//  - No exception escapes; failures come back as a Status.
//  - Every write is atomic: all of it is recorded, or none of it.
//  - A read sees every write that returned before the read began (read-your-writes), and never
//    part of a write.
//  - Positions (notification ids) are 1-based, gap-free and given out in commit order.
//  - Safe to call from any number of threads at once.
#ifndef ES_RECORDER_H_
#define ES_RECORDER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "es/event.h"
#include "es/query.h"
#include "es/result.h"
#include "es/status.h"
#include "es/subscription.h"

namespace es {

// When a write is acknowledged.
//
// Durability is a prefix property: a write made durable also makes every write before it durable,
// so a crash loses a suffix of the log, never a write in the middle. Concurrent writes are
// committed in groups: one fdatasync covers every kSync write of a group.
enum class Durability : unsigned char {
  kSync,      // after its bytes are on stable storage (fdatasync): survives power loss
  kBuffered,  // after it is visible to readers; synced in the background within
              // Options::sync_interval_ms, so a crash of the machine loses at most that window
  kNone,      // after it is visible to readers; synced only by a later kSync write, a background
              // sync of a kBuffered write, or a clean close (tests, benchmarks, MemEnv)
};

struct WriteOptions {
  std::optional<Durability> durability;  // absent: the store's default (Options::durability)
};

// One atomic write to the global log. Pointers may be null and must outlive the call.
struct AppendRequest {
  // Appended in order at consecutive positions. Events with a `stream` are checked for
  // (id, version) uniqueness, within the request and against the store.
  std::span<const Event> events;
  // Checked against the store before anything is written (see AppendCondition).
  const AppendCondition* condition = nullptr;
  // Recorded with the events; its id must exceed the application's recorded maximum.
  const Tracking* tracking = nullptr;
  WriteOptions options;
};

struct SelectEventsOptions {
  std::optional<std::int64_t> gt;   // only versions > gt
  std::optional<std::int64_t> lte;  // only versions <= lte
  bool desc = false;                // descending versions
  std::optional<std::int64_t> limit;
};

struct SelectNotificationsOptions {
  std::optional<std::int64_t> start;  // absent: from the beginning
  std::int64_t limit = 10;            // >= 0
  std::optional<std::int64_t> stop;   // only ids <= stop
  std::vector<std::string> topics;    // non-empty: only these topics (applied before the limit)
  bool inclusive_of_start = true;     // ids >= start (true) or > start (false)
};

// DCB: one global log read by queries and appended under conditions (reference §1).
class DcbRecorder {
 public:
  virtual ~DcbRecorder() = default;

  // Matching events in ascending order with the head rule described on ReadResult.
  // InvalidArgument when after < 0 or limit < 0.
  virtual Result<ReadResult> Read(const Query& query, const ReadOptions& options = {}) = 0;

  // Appends `events` (non-empty, else InvalidArgument) and returns the position of the last one.
  // ConditionFailed, writing nothing, when `condition` matches (see AppendCondition).
  virtual Result<std::int64_t> Append(std::span<const Event> events,
                                      const std::optional<AppendCondition>& condition) = 0;

  // Every event matching `query` with position > `after` (null: 0), in order, then each new
  // match as it commits. InvalidArgument when after < 0.
  virtual Result<std::unique_ptr<Subscription<SequencedEvent>>> Subscribe(
      const Query& query, std::optional<std::int64_t> after) = 0;
};

// Aggregate streams (reference §3.2).
class AggregateRecorder {
 public:
  virtual ~AggregateRecorder() = default;

  // Atomic across aggregates. IntegrityError, writing nothing, when any (originator_id,
  // originator_version) exists or repeats within `events`. Returns the notification ids given to
  // the events, in input order (empty for an empty `events`, which writes nothing).
  virtual Result<std::vector<std::int64_t>> InsertEvents(std::span<const StoredEvent> events) = 0;

  // Events of one originator with gt < version <= lte, by version (descending when `desc`), at
  // most `limit`. Unknown originators give an empty list.
  virtual Result<std::vector<StoredEvent>> SelectEvents(std::string_view originator_id,
                                                        const SelectEventsOptions& options) = 0;
};

// The notification log over all events (reference §3.3).
class ApplicationRecorder : public AggregateRecorder {
 public:
  virtual Result<std::vector<Notification>> SelectNotifications(
      const SelectNotificationsOptions& options) = 0;
  // The largest notification id, or null when the log is empty.
  virtual Result<std::optional<std::int64_t>> MaxNotificationId() = 0;
  // Notifications with id > `gt` (null: all), of the `topics` (empty: all), in order, then each
  // new one as it commits.
  virtual Result<std::unique_ptr<Subscription<Notification>>> SubscribeNotifications(
      std::optional<std::int64_t> gt, std::vector<std::string> topics) = 0;
};

// Tracking records: exactly-once processing of upstream notifications (reference §3.4).
class TrackingRecorder {
 public:
  virtual ~TrackingRecorder() = default;

  // IntegrityError when the id is not greater than the application's maximum (that includes an
  // existing record).
  virtual Status InsertTracking(const Tracking& tracking) = 0;
  // Null when the application has no tracking record.
  virtual Result<std::optional<std::int64_t>> MaxTrackingId(std::string_view application_name) = 0;
  // True when `notification_id` is null or <= MaxTrackingId ("processed up to").
  virtual Result<bool> HasTrackingId(std::string_view application_name,
                                     std::optional<std::int64_t> notification_id) = 0;
  // Returns OK as soon as HasTrackingId(application_name, notification_id) is true (at once when
  // `notification_id` is null); Timeout after `timeout`; Interrupted when `interrupt` (optional)
  // is or becomes set.
  virtual Status Wait(std::string_view application_name,
                      std::optional<std::int64_t> notification_id,
                      std::chrono::milliseconds timeout, const Interrupt* interrupt = nullptr) = 0;
};

class ProcessRecorder : public ApplicationRecorder, public TrackingRecorder {
 public:
  using ApplicationRecorder::InsertEvents;
  // Events and tracking record atomically: if either conflicts, nothing is written. `events` may
  // be empty, recording only the tracking record.
  virtual Result<std::vector<std::int64_t>> InsertEvents(std::span<const StoredEvent> events,
                                                         const Tracking& tracking) = 0;
};

// Every recorder interface over one global log.
class Recorder : public ProcessRecorder, public DcbRecorder {
 public:
  // ---- The core each backend implements ----

  // The general atomic write: stream events, DCB condition and tracking record together. All
  // checks pass or nothing is written. Returns the position of the last event, or 0 when the
  // request carries no events. Errors: InvalidArgument (no events and no tracking; an empty type
  // or stream id; sizes over the backend's maxima), ConditionFailed (the condition matched; it is
  // checked first), IntegrityError (a stream version or tracking conflict).
  virtual Result<std::int64_t> Write(const AppendRequest& request) = 0;

  // The events of one stream as SelectEvents describes, with their positions.
  virtual Result<std::vector<SequencedEvent>> ReadStream(std::string_view stream_id,
                                                         const SelectEventsOptions& options) = 0;

  // The position of the last event in the store, or null when it is empty.
  virtual Result<std::optional<std::int64_t>> Head() = 0;

  // Every application's tracking record (its largest notification id), in byte order of the
  // application names:
  // what an export must carry so that a copied store's downstream processing resumes where it was.
  virtual Result<std::vector<Tracking>> TrackingRecords() = 0;

  // Backends call append_listeners().Notify() after each write that changed what readers see
  // (events or tracking records); subscriptions and waits register here.
  AppendListeners& append_listeners() { return append_listeners_; }

  // ---- Derived once for every backend ----

  Result<std::int64_t> Append(std::span<const Event> events,
                              const std::optional<AppendCondition>& condition) final;
  Result<std::vector<std::int64_t>> InsertEvents(std::span<const StoredEvent> events) final;
  Result<std::vector<std::int64_t>> InsertEvents(std::span<const StoredEvent> events,
                                                 const Tracking& tracking) final;
  Result<std::vector<StoredEvent>> SelectEvents(std::string_view originator_id,
                                                const SelectEventsOptions& options) final;
  Result<std::vector<Notification>> SelectNotifications(
      const SelectNotificationsOptions& options) final;
  Result<std::optional<std::int64_t>> MaxNotificationId() final;
  Status InsertTracking(const Tracking& tracking) final;
  Result<bool> HasTrackingId(std::string_view application_name,
                             std::optional<std::int64_t> notification_id) final;
  Result<std::unique_ptr<Subscription<SequencedEvent>>> Subscribe(
      const Query& query, std::optional<std::int64_t> after) final;
  Result<std::unique_ptr<Subscription<Notification>>> SubscribeNotifications(
      std::optional<std::int64_t> gt, std::vector<std::string> topics) final;
  Status Wait(std::string_view application_name, std::optional<std::int64_t> notification_id,
              std::chrono::milliseconds timeout, const Interrupt* interrupt = nullptr) final;

 private:
  Result<std::vector<std::int64_t>> InsertStoredEvents(std::span<const StoredEvent> events,
                                                       const Tracking* tracking);

  AppendListeners append_listeners_;
};

// The reference recorder: everything in memory, one mutex, linear scans. Obviously correct rather
// than fast; the engine over a MemEnv is the fast in-memory store.
std::unique_ptr<Recorder> NewInMemoryRecorder();

}  // namespace es

#endif  // ES_RECORDER_H_
