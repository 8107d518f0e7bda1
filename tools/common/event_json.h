// The JSON forms of events, queries and append requests shared by esdump and esload
// (../shared/design.md §8, docs/tools.md):
//   event:   {"position":N,"type":"T","tags":["a"],"data_b64":"...", "stream":"id","version":N,
//             "uuid":"8-4-4-4-12 hex","metadata":{"k":"v"}}  (stream, uuid, metadata only when
//             present; on input "data" (UTF-8 text) may replace "data_b64", and "position" is
//             ignored)
//   query:   [{"types":[...],"tags":[...]}, ...]  ([] matches every event)
//   request: {"events":[event, ...],"condition":{"query":query,"after":N|null},
//             "tracking":tracking}  (condition and tracking optional; events optional with
//             tracking: a tracking record alone)
//   tracking: {"application":"name","notification_id":N}
#ifndef ES_TOOLS_COMMON_EVENT_JSON_H_
#define ES_TOOLS_COMMON_EVENT_JSON_H_

#include <es/event.h>
#include <es/query.h>
#include <es/result.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace es::tools {

nlohmann::ordered_json EventToJson(const SequencedEvent& event);
// JsonLine(EventToJson(event)), made faster: esdump's read and export write every event with it.
Result<std::string> EventLine(const SequencedEvent& event);
// The export line of a tracking record: {"tracking":{"application":...,"notification_id":N}}.
nlohmann::ordered_json TrackingLineToJson(const Tracking& tracking);
// `json` as one line of text. InvalidArgument when a string in it is not UTF-8 (JSON carries only
// text: an event's data goes as base64, but its type, tags, stream id and metadata go as they are).
Result<std::string> JsonLine(const nlohmann::ordered_json& json);

// The parsers of the forms above take JSON text (parsed with simdjson, esload's hot path; the
// writers above use nlohmann). They return InvalidArgument naming the problem: text that is not
// JSON (or not UTF-8), a missing or mistyped field, an unknown one. Where a member appears twice,
// the last one counts.
Result<Event> ParseEvent(std::string_view text);
// The text of a query (the --query option).
Result<Query> ParseQuery(std::string_view text);

// One line of esload's input: an event (one unconditional append) or a request (events, a
// condition and a tracking record, written atomically).
struct AppendLine {
  std::vector<Event> events;
  std::optional<AppendCondition> condition;
  std::optional<Tracking> tracking;
};
Result<AppendLine> ParseAppendLine(std::string_view line);

std::string UuidToString(const Uuid& uuid);
Result<Uuid> UuidFromString(std::string_view text);

}  // namespace es::tools

#endif  // ES_TOOLS_COMMON_EVENT_JSON_H_
