#include "tools/common/event_json.h"

#include "engine/crypto/base64.h"

#include <cstdio>

namespace es::tools {
namespace {

using Json = nlohmann::json;

Status Invalid(std::string_view what) { return Status::InvalidArgument(what); }

Result<std::vector<std::string>> StringArray(const Json& json, const char* field) {
  if (!json.is_array()) return Invalid(std::string(field) + " must be an array of strings");
  std::vector<std::string> strings;
  for (const Json& item : json) {
    if (!item.is_string()) return Invalid(std::string(field) + " must be an array of strings");
    strings.push_back(item.get<std::string>());
  }
  return strings;
}

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

Result<Event> EventFromJson(const Json& json) {
  if (!json.is_object()) return Invalid("an event must be a JSON object");
  Event event;
  for (const auto& [key, value] : json.items()) {
    if (key == "position") {
      if (!value.is_number_integer()) return Invalid("position must be an integer");
    } else if (key == "type") {
      if (!value.is_string()) return Invalid("type must be a string");
      event.type = value.get<std::string>();
    } else if (key == "tags") {
      ES_ASSIGN_OR_RETURN(event.tags, StringArray(value, "tags"));
    } else if (key == "data_b64") {
      if (!value.is_string()) return Invalid("data_b64 must be a string");
      Result<std::string> data = Base64Decode(value.get<std::string>());
      if (!data.ok()) return data.status().WithContext("data_b64");
      event.data = std::move(data).value();
    } else if (key == "data") {
      if (!value.is_string()) return Invalid("data must be a string (UTF-8 text)");
      event.data = value.get<std::string>();
    } else if (key == "stream") {
      if (!value.is_string()) return Invalid("stream must be a string");
      if (!event.stream) event.stream.emplace();
      event.stream->id = value.get<std::string>();
    } else if (key == "version") {
      if (!value.is_number_integer()) return Invalid("version must be an integer");
      if (!event.stream) event.stream.emplace();
      event.stream->version = value.get<std::int64_t>();
    } else if (key == "uuid") {
      if (!value.is_string()) return Invalid("uuid must be a string");
      ES_ASSIGN_OR_RETURN(event.uuid, UuidFromString(value.get<std::string>()));
    } else if (key == "metadata") {
      if (!value.is_object()) return Invalid("metadata must be an object of strings");
      for (const auto& [name, text] : value.items()) {
        if (!text.is_string()) return Invalid("metadata must be an object of strings");
        event.metadata[name] = text.get<std::string>();
      }
    } else {
      return Invalid("unknown event field '" + key + "'");
    }
  }
  if (json.contains("data") && json.contains("data_b64")) {
    return Invalid("an event has data or data_b64, not both");
  }
  if (event.type.empty()) return Invalid("an event needs a non-empty type");
  if (event.stream && (!json.contains("stream") || !json.contains("version"))) {
    return Invalid("stream and version go together");
  }
  return event;
}

Result<Query> QueryFromJson(const Json& json) {
  if (!json.is_array()) return Invalid("a query must be an array of items");
  Query query;
  for (const Json& item : json) {
    if (!item.is_object()) return Invalid("a query item must be an object");
    QueryItem parsed;
    for (const auto& [key, value] : item.items()) {
      if (key == "types") {
        ES_ASSIGN_OR_RETURN(parsed.types, StringArray(value, "types"));
      } else if (key == "tags") {
        ES_ASSIGN_OR_RETURN(parsed.tags, StringArray(value, "tags"));
      } else {
        return Invalid("unknown query item field '" + key + "'");
      }
    }
    query.items.push_back(std::move(parsed));
  }
  return query;
}

Result<Query> ParseQuery(std::string_view text) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Invalid("the query is not JSON");
  return QueryFromJson(json);
}

namespace {

Result<Tracking> TrackingFromJson(const Json& json) {
  if (!json.is_object()) return Invalid("tracking must be an object");
  Tracking tracking;
  bool has_name = false, has_id = false;
  for (const auto& [key, value] : json.items()) {
    if (key == "application" && value.is_string()) {
      tracking.application_name = value.get<std::string>();
      has_name = true;
    } else if (key == "notification_id" && value.is_number_integer()) {
      tracking.notification_id = value.get<std::int64_t>();
      has_id = true;
    } else {
      return Invalid("bad tracking field '" + key + "'");
    }
  }
  if (!has_name || !has_id) return Invalid("tracking needs an application and a notification_id");
  return tracking;
}

}  // namespace

nlohmann::ordered_json TrackingLineToJson(const Tracking& tracking) {
  return {{"tracking",
           {{"application", tracking.application_name},
            {"notification_id", tracking.notification_id}}}};
}

Result<AppendLine> ParseAppendLine(std::string_view line) {
  Json json = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Invalid("not JSON");
  if (!json.is_object()) return Invalid("a line must be a JSON object");
  AppendLine parsed;
  if (!json.contains("events") && !json.contains("tracking")) {
    ES_ASSIGN_OR_RETURN(Event event, EventFromJson(json));
    parsed.events.push_back(std::move(event));
    return parsed;
  }
  for (const auto& [key, value] : json.items()) {
    if (key != "events" && key != "condition" && key != "tracking") {
      return Invalid("unknown request field '" + key + "'");
    }
  }
  if (json.contains("tracking")) {
    ES_ASSIGN_OR_RETURN(parsed.tracking, TrackingFromJson(json["tracking"]));
  }
  if (json.contains("events")) {
    const Json& events = json["events"];
    if (!events.is_array() || events.empty()) return Invalid("events must be a non-empty array");
    for (const Json& event : events) {
      ES_ASSIGN_OR_RETURN(Event parsed_event, EventFromJson(event));
      parsed.events.push_back(std::move(parsed_event));
    }
  }
  if (json.contains("condition")) {
    const Json& condition = json["condition"];
    if (!condition.is_object() || !condition.contains("query")) {
      return Invalid("condition must be an object with a query");
    }
    AppendCondition parsed_condition;
    for (const auto& [key, value] : condition.items()) {
      if (key == "query") {
        ES_ASSIGN_OR_RETURN(parsed_condition.fail_if_events_match, QueryFromJson(value));
      } else if (key == "after") {
        if (value.is_number_integer()) {
          parsed_condition.after = value.get<std::int64_t>();
        } else if (!value.is_null()) {
          return Invalid("condition after must be an integer or null");
        }
      } else {
        return Invalid("unknown condition field '" + key + "'");
      }
    }
    parsed.condition = std::move(parsed_condition);
  }
  return parsed;
}

}  // namespace es::tools
