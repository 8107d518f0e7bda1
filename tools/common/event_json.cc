#include "tools/common/event_json.h"

#include "engine/crypto/base64.h"

#include <simdjson.h>

#include <cstdio>

namespace es::tools {
namespace {

Status Invalid(std::string_view what) { return Status::InvalidArgument(what); }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string UuidToString(const Uuid& uuid) {
  std::string text;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += kHex[uuid[i] >> 4];
    text += kHex[uuid[i] & 15];
  }
  return text;
}

Result<Uuid> UuidFromString(std::string_view text) {
  Uuid uuid{};
  std::size_t byte = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '-' && (i == 8 || i == 13 || i == 18 || i == 23)) continue;
    if (i + 1 >= text.size() || byte >= uuid.size()) return Invalid("uuid is not 8-4-4-4-12 hex");
    const int high = HexDigit(text[i]);
    const int low = HexDigit(text[i + 1]);
    if (high < 0 || low < 0) return Invalid("uuid is not 8-4-4-4-12 hex");
    uuid[byte++] = static_cast<std::uint8_t>(high * 16 + low);
    ++i;
  }
  if (byte != uuid.size() || text.size() != 36) return Invalid("uuid is not 8-4-4-4-12 hex");
  return uuid;
}

namespace {

nlohmann::ordered_json EventJson(const SequencedEvent& sequenced, std::string data_b64) {
  const Event& event = sequenced.event;
  nlohmann::ordered_json json;
  json["position"] = sequenced.position;
  json["type"] = event.type;
  json["tags"] = event.tags;
  json["data_b64"] = std::move(data_b64);
  if (event.stream) {
    json["stream"] = event.stream->id;
    json["version"] = event.stream->version;
  }
  if (event.uuid) json["uuid"] = UuidToString(*event.uuid);
  if (!event.metadata.empty()) json["metadata"] = event.metadata;
  return json;
}

}  // namespace

nlohmann::ordered_json EventToJson(const SequencedEvent& sequenced) {
  return EventJson(sequenced, Base64Encode(sequenced.event.data));
}

Result<std::string> EventLine(const SequencedEvent& sequenced) {
  // Base64 needs no escaping, and passing it through nlohmann's escaper cost more than the rest
  // of the line: the line is dumped with data_b64 empty and the text spliced in. The first
  // `"data_b64":""` is that member: inside a dumped string every quote is escaped.
  ES_ASSIGN_OR_RETURN(std::string line, JsonLine(EventJson(sequenced, {})));
  constexpr std::string_view kEmptyData = R"("data_b64":"")";
  line.insert(line.find(kEmptyData) + kEmptyData.size() - 1, Base64Encode(sequenced.event.data));
  return line;
}

Result<std::string> JsonLine(const nlohmann::ordered_json& json) {
  try {
    return json.dump();
  } catch (const nlohmann::json::exception& e) {
    return Invalid(std::string("cannot write JSON: ") + e.what());
  }
}

nlohmann::ordered_json TrackingLineToJson(const Tracking& tracking) {
  return {{"tracking",
           {{"application", tracking.application_name},
            {"notification_id", tracking.notification_id}}}};
}

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// The JSON of `text`, parsed with this thread's parser: valid until the thread parses again.
// simdjson's DOM parser checks the whole text, UTF-8 included, before anything is read from it.
Result<element> ParseJson(std::string_view text, std::string_view what) {
  thread_local simdjson::dom::parser parser;
  element root;
  if (const simdjson::error_code error = parser.parse(text.data(), text.size()).get(root)) {
    return Invalid(std::string(what) + " is not JSON (" + simdjson::error_message(error) + ")");
  }
  return root;
}

Result<std::string> String(element value, std::string_view message) {
  std::string_view text;
  if (value.get_string().get(text)) return Invalid(message);
  return std::string(text);
}

Result<std::int64_t> Integer(element value, std::string_view message) {
  std::int64_t number;
  if (value.get_int64().get(number)) return Invalid(message);
  return number;
}

Result<std::vector<std::string>> StringArray(element json, const char* field) {
  const std::string message = std::string(field) + " must be an array of strings";
  simdjson::dom::array array;
  if (json.get_array().get(array)) return Invalid(message);
  std::vector<std::string> strings;
  strings.reserve(array.size());
  for (element item : array) {
    ES_ASSIGN_OR_RETURN(std::string text, String(item, message));
    strings.push_back(std::move(text));
  }
  return strings;
}

Result<Event> EventFrom(element json) {
  object fields;
  if (json.get_object().get(fields)) return Invalid("an event must be a JSON object");
  Event event;
  bool has_data = false, has_data_b64 = false, has_stream = false, has_version = false;
  for (const auto [key, value] : fields) {
    if (key == "position") {
      ES_RETURN_IF_ERROR(Integer(value, "position must be an integer").status());
    } else if (key == "type") {
      ES_ASSIGN_OR_RETURN(event.type, String(value, "type must be a string"));
    } else if (key == "tags") {
      ES_ASSIGN_OR_RETURN(event.tags, StringArray(value, "tags"));
    } else if (key == "data_b64") {
      std::string_view text;
      if (value.get_string().get(text)) return Invalid("data_b64 must be a string");
      Result<std::string> data = Base64Decode(text);
      if (!data.ok()) return data.status().WithContext("data_b64");
      event.data = std::move(data).value();
      has_data_b64 = true;
    } else if (key == "data") {
      ES_ASSIGN_OR_RETURN(event.data, String(value, "data must be a string (UTF-8 text)"));
      has_data = true;
    } else if (key == "stream") {
      if (!event.stream) event.stream.emplace();
      ES_ASSIGN_OR_RETURN(event.stream->id, String(value, "stream must be a string"));
      has_stream = true;
    } else if (key == "version") {
      if (!event.stream) event.stream.emplace();
      ES_ASSIGN_OR_RETURN(event.stream->version, Integer(value, "version must be an integer"));
      has_version = true;
    } else if (key == "uuid") {
      ES_ASSIGN_OR_RETURN(std::string text, String(value, "uuid must be a string"));
      ES_ASSIGN_OR_RETURN(event.uuid, UuidFromString(text));
    } else if (key == "metadata") {
      constexpr std::string_view kMessage = "metadata must be an object of strings";
      object metadata;
      if (value.get_object().get(metadata)) return Invalid(kMessage);
      for (const auto [name, text] : metadata) {
        ES_ASSIGN_OR_RETURN(event.metadata[std::string(name)], String(text, kMessage));
      }
    } else {
      return Invalid("unknown event field '" + std::string(key) + "'");
    }
  }
  if (has_data && has_data_b64) return Invalid("an event has data or data_b64, not both");
  if (event.type.empty()) return Invalid("an event needs a non-empty type");
  if (has_stream != has_version) return Invalid("stream and version go together");
  return event;
}

Result<Query> QueryFrom(element json) {
  simdjson::dom::array items;
  if (json.get_array().get(items)) return Invalid("a query must be an array of items");
  Query query;
  for (element item : items) {
    object fields;
    if (item.get_object().get(fields)) return Invalid("a query item must be an object");
    QueryItem parsed;
    for (const auto [key, value] : fields) {
      if (key == "types") {
        ES_ASSIGN_OR_RETURN(parsed.types, StringArray(value, "types"));
      } else if (key == "tags") {
        ES_ASSIGN_OR_RETURN(parsed.tags, StringArray(value, "tags"));
      } else {
        return Invalid("unknown query item field '" + std::string(key) + "'");
      }
    }
    query.items.push_back(std::move(parsed));
  }
  return query;
}

Result<Tracking> TrackingFrom(element json) {
  object fields;
  if (json.get_object().get(fields)) return Invalid("tracking must be an object");
  Tracking tracking;
  bool has_name = false, has_id = false;
  for (const auto [key, value] : fields) {
    const std::string bad_field = "bad tracking field '" + std::string(key) + "'";
    if (key == "application") {
      ES_ASSIGN_OR_RETURN(tracking.application_name, String(value, bad_field));
      has_name = true;
    } else if (key == "notification_id") {
      ES_ASSIGN_OR_RETURN(tracking.notification_id, Integer(value, bad_field));
      has_id = true;
    } else {
      return Invalid(bad_field);
    }
  }
  if (!has_name || !has_id) return Invalid("tracking needs an application and a notification_id");
  return tracking;
}

Result<AppendCondition> ConditionFrom(element json) {
  object fields;
  if (json.get_object().get(fields) || fields.at_key("query").error()) {
    return Invalid("condition must be an object with a query");
  }
  AppendCondition condition;
  for (const auto [key, value] : fields) {
    if (key == "query") {
      ES_ASSIGN_OR_RETURN(condition.fail_if_events_match, QueryFrom(value));
    } else if (key == "after") {
      if (!value.is_null()) {
        ES_ASSIGN_OR_RETURN(condition.after,
                            Integer(value, "condition after must be an integer or null"));
      }
    } else {
      return Invalid("unknown condition field '" + std::string(key) + "'");
    }
  }
  return condition;
}

}  // namespace

Result<Event> ParseEvent(std::string_view text) {
  ES_ASSIGN_OR_RETURN(element json, ParseJson(text, "the event"));
  return EventFrom(json);
}

Result<Query> ParseQuery(std::string_view text) {
  ES_ASSIGN_OR_RETURN(element json, ParseJson(text, "the query"));
  return QueryFrom(json);
}

Result<AppendLine> ParseAppendLine(std::string_view line) {
  ES_ASSIGN_OR_RETURN(element json, ParseJson(line, "the line"));
  object fields;
  if (json.get_object().get(fields)) return Invalid("a line must be a JSON object");
  AppendLine parsed;
  if (fields.at_key("events").error() && fields.at_key("tracking").error()) {
    ES_ASSIGN_OR_RETURN(Event event, EventFrom(json));
    parsed.events.push_back(std::move(event));
    return parsed;
  }
  for (const auto [key, value] : fields) {
    if (key == "tracking") {
      ES_ASSIGN_OR_RETURN(parsed.tracking, TrackingFrom(value));
    } else if (key == "events") {
      simdjson::dom::array events;
      if (value.get_array().get(events) || events.size() == 0) {
        return Invalid("events must be a non-empty array");
      }
      parsed.events.clear();  // of an earlier "events" member: the last one counts, as for others
      for (element event : events) {
        ES_ASSIGN_OR_RETURN(Event parsed_event, EventFrom(event));
        parsed.events.push_back(std::move(parsed_event));
      }
    } else if (key == "condition") {
      ES_ASSIGN_OR_RETURN(parsed.condition, ConditionFrom(value));
    } else {
      return Invalid("unknown request field '" + std::string(key) + "'");
    }
  }
  return parsed;
}

}  // namespace es::tools
