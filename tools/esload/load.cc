#include "tools/esload/load.h"

#include <string>

#include "tools/common/event_json.h"

namespace es::tools {
namespace {

using Json = nlohmann::ordered_json;

bool Blank(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

// Refusals of one request that leave the store fine for the next.
bool Refusal(const Status& status) {
  return status.IsConditionFailed() || status.IsIntegrityError() || status.IsInvalidArgument();
}

}  // namespace

Status LoadLines(Recorder& recorder, std::istream& in, const LoadOptions& options,
                 std::ostream& out, std::ostream& errors, LoadSummary* summary) {
  std::string line;
  for (std::uint64_t number = 1; std::getline(in, line); ++number) {
    if (Blank(line)) continue;
    ++summary->lines;
    Result<AppendLine> parsed = ParseAppendLine(line);
    Status status = parsed.status();
    std::int64_t position = 0;
    if (parsed.ok()) {
      AppendRequest request;
      request.events = parsed->events;
      if (parsed->condition) request.condition = &*parsed->condition;
      request.options.durability = options.durability;
      Result<std::int64_t> written = recorder.Write(request);
      status = written.status();
      if (written.ok()) position = *written;
      if (!written.ok() && !Refusal(written.status())) return written.status();
    }
    if (status.ok()) {
      ++summary->appended;
      summary->events += parsed->events.size();
      if (options.results) out << Json{{"ok", true}, {"position", position}}.dump() << '\n';
      continue;
    }
    ++(parsed.ok() ? summary->failed : summary->invalid);
    const std::string code(Status::CodeName(status.code()));
    errors << "esload: line " << number << ": " << (parsed.ok() ? "" : "invalid line: ")
           << status.ToString() << '\n';
    if (options.results) {
      Json result = {{"ok", false},
                     {"error", parsed.ok() ? code : "invalid_line"},
                     {"line", number},
                     {"message", std::string(status.message())}};
      out << result.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
    }
    if (options.stop_on_error) {
      summary->stopped = true;
      break;
    }
  }
  if (in.bad()) return Status::IOError("reading the input failed");
  return Status::OK();
}

}  // namespace es::tools
