// DCB queries, append conditions and read results.
//
// Matching (reference semantics §1.2): an event matches an item when the item's `types` is empty
// or holds the event's type, AND every tag of the item's `tags` is among the event's tags (the
// item's tags are a set: duplicates are ignored). An event matches a query when the query has no
// items (the empty query matches every event) or it matches at least one item.
#ifndef ES_QUERY_H_
#define ES_QUERY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "es/event.h"

namespace es {

struct QueryItem {
  std::vector<std::string> types;  // OR; empty means any type
  std::vector<std::string> tags;   // AND; empty means any tags

  friend bool operator==(const QueryItem&, const QueryItem&) = default;
};

struct Query {
  std::vector<QueryItem> items;  // OR; empty means every event

  friend bool operator==(const Query&, const Query&) = default;
};

struct ReadOptions {
  // Only events with position > after (all events when absent). May exceed the head.
  std::optional<std::int64_t> after;
  // At most this many events (>= 0). Absent means no limit.
  std::optional<std::int64_t> limit;
};

struct ReadResult {
  // Matching events in ascending position order, without duplicates.
  std::vector<SequencedEvent> events;
  // Without a limit: the position of the last event in the whole store (null when empty), even
  // when nothing matched. With a limit: the position of the last event returned (null when none).
  // Pass it back as AppendCondition::after to mean "I have seen everything up to here".
  std::optional<std::int64_t> head;
};

// The append fails with Status::ConditionFailed, writing nothing, when any stored event with
// position > after (any position when `after` is absent) matches `fail_if_events_match`; exactly
// when read(fail_if_events_match, {after, limit = 1}) would return an event. The check and the
// write are one atomic step. An empty query matches every event, so AppendCondition{} fails as
// soon as the store holds anything: a uniqueness guard.
struct AppendCondition {
  Query fail_if_events_match;
  std::optional<std::int64_t> after;
};

}  // namespace es

#endif  // ES_QUERY_H_
