// Fuzz target: arbitrary bytes as one line of esload's input (tools/common/event_json.h,
// ParseAppendLine; docs/tools.md). Parsing never crashes; a line that parses, written back as a
// request line (its events as esdump writes them, its condition as a query, its tracking record
// as export writes it) and parsed again, gives the same request: what esload accepts survives an
// export and a load.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tools/common/event_json.h"

namespace es::tools {
namespace {

nlohmann::ordered_json QueryToJson(const Query& query) {
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const QueryItem& item : query.items) {
    items.push_back({{"types", item.types}, {"tags", item.tags}});
  }
  return items;
}

// The request line of `parsed`, written independently of the parser.
nlohmann::ordered_json RequestToJson(const AppendLine& parsed) {
  nlohmann::ordered_json events = nlohmann::ordered_json::array();
  for (const Event& event : parsed.events) {
    events.push_back(EventToJson(SequencedEvent{.position = 1, .event = event}));
  }
  nlohmann::ordered_json request;
  if (!events.empty()) request["events"] = std::move(events);
  if (parsed.condition) {
    nlohmann::ordered_json after = nullptr;
    if (parsed.condition->after) after = *parsed.condition->after;
    request["condition"] = {{"query", QueryToJson(parsed.condition->fail_if_events_match)},
                            {"after", after}};
  }
  if (parsed.tracking) request["tracking"] = TrackingLineToJson(*parsed.tracking)["tracking"];
  return request;
}

void CheckLine(std::string_view line) {
  Result<AppendLine> parsed = ParseAppendLine(line);
  if (!parsed.ok()) {
    if (!parsed.status().IsInvalidArgument()) std::abort();
    return;
  }
  // A line without events is a tracking record's.
  if (parsed->events.empty() && !parsed->tracking) std::abort();
  // Strings came from JSON text, so they are UTF-8 and the line can always be written.
  Result<std::string> written = JsonLine(RequestToJson(*parsed));
  if (!written.ok()) std::abort();
  Result<AppendLine> reparsed = ParseAppendLine(*written);
  if (!reparsed.ok() || reparsed->events != parsed->events ||
      reparsed->tracking != parsed->tracking ||
      reparsed->condition.has_value() != parsed->condition.has_value()) {
    std::abort();
  }
  if (parsed->condition &&
      (reparsed->condition->fail_if_events_match != parsed->condition->fail_if_events_match ||
       reparsed->condition->after != parsed->condition->after)) {
    std::abort();
  }
}

}  // namespace
}  // namespace es::tools

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  es::tools::CheckLine(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
