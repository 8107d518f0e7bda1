// The value types stored in the one global log.
//
// Every event has a `type`, opaque `data` bytes and an ordered list of `tags` (kept exactly as
// given: order and duplicates survive a round trip). The store assigns each event a position:
// 1, 2, 3, ... gap-free, in commit order. An event may also belong to a stream (an aggregate):
// (stream id, version) is unique store-wide. The classic StoredEvent / Notification views of the
// Python library are the same events seen through the aggregate interfaces.
#ifndef ES_EVENT_H_
#define ES_EVENT_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace es {

// 16 raw bytes (an RFC 4122 UUID in network order). Absent means the nil UUID.
using Uuid = std::array<std::uint8_t, 16>;

// String-to-string metadata carried beside an event (the Python library's `metadata`).
using Metadata = std::map<std::string, std::string>;

// The aggregate identity of an event: the stream (originator) id and the version within it.
// `id` is an opaque non-empty string; versions need not be contiguous, only unique per id.
struct StreamVersion {
  std::string id;
  std::int64_t version = 0;

  friend bool operator==(const StreamVersion&, const StreamVersion&) = default;
};

struct Event {
  std::string type;               // non-empty
  std::string data;               // opaque bytes
  std::vector<std::string> tags;  // in the caller's order
  std::optional<StreamVersion> stream;
  std::optional<Uuid> uuid;
  Metadata metadata;

  friend bool operator==(const Event&, const Event&) = default;
};

struct SequencedEvent {
  std::int64_t position = 0;
  Event event;

  friend bool operator==(const SequencedEvent&, const SequencedEvent&) = default;
};

// The classic aggregate event (Python's StoredEvent): stored as an Event with
// type = topic, data = state and stream = (originator_id, originator_version).
struct StoredEvent {
  std::string originator_id;
  std::int64_t originator_version = 0;
  std::string topic;
  std::string state;

  friend bool operator==(const StoredEvent&, const StoredEvent&) = default;
};

// A StoredEvent with its notification id, which is its position in the global log.
struct Notification {
  std::int64_t id = 0;
  std::string originator_id;
  std::int64_t originator_version = 0;
  std::string topic;
  std::string state;

  friend bool operator==(const Notification&, const Notification&) = default;
};

// "Application `application_name` has processed its upstream notification `notification_id`."
// Tracking ids are monotonic per application: a new one must exceed the recorded maximum.
struct Tracking {
  std::string application_name;  // non-empty
  std::int64_t notification_id = 0;

  friend bool operator==(const Tracking&, const Tracking&) = default;
};

}  // namespace es

#endif  // ES_EVENT_H_
