#include "tools/esload/load.h"

#include <deque>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "tools/common/event_json.h"

namespace es::tools {
namespace {

using Json = nlohmann::ordered_json;

// Unconditional lines are appended together, up to this many events in one write: one commit
// instead of one per line, with the same positions and results (see Loader::Flush).
constexpr std::size_t kBatchEvents = 1000;
// Lines are parsed in chunks of this many, this many chunks at a time.
constexpr std::size_t kLinesPerChunk = 1000;
constexpr std::size_t kChunksInFlight = 4;

bool Blank(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

// Refusals of one request that leave the store fine for the next.
bool Refusal(const Status& status) {
  return status.IsConditionFailed() || status.IsIntegrityError() || status.IsInvalidArgument();
}

class Loader {
 public:
  Loader(Recorder& recorder, const LoadOptions& options, std::ostream& out, std::ostream& errors,
         LoadSummary* summary)
      : recorder_(recorder), options_(options), out_(out), errors_(errors), summary_(summary) {}

  // Loads one parsed line (or reports it as invalid). False when the load must stop: at the
  // first failure with stop_on_error, or at a store error, which `status()` then holds.
  bool Take(std::uint64_t number, Result<AppendLine> parsed) {
    if (parsed.ok() && !parsed->condition && !parsed->tracking) {
      for (Event& event : parsed->events) batch_events_.push_back(std::move(event));
      batch_lines_.push_back({number, parsed->events.size()});
      return batch_events_.size() < kBatchEvents || Flush();
    }
    if (!Flush()) return false;
    if (!parsed.ok()) return Report(number, false, parsed.status(), 0, 0);
    return Append(number, parsed->events, parsed->condition ? &*parsed->condition : nullptr,
                  parsed->tracking ? &*parsed->tracking : nullptr);
  }

  // Appends the unconditional lines taken so far. If the batch is refused (one of its events
  // conflicts with a stream version, say), its lines are appended one by one instead, so that
  // each gets the result it would have had alone.
  bool Flush() {
    if (batch_lines_.empty()) return true;
    std::vector<Event> events = std::move(batch_events_);
    std::vector<BatchLine> lines = std::move(batch_lines_);
    batch_events_.clear();
    batch_lines_.clear();
    Result<std::int64_t> last = Write(events, nullptr, nullptr);
    if (!last.ok() && !Refusal(last.status())) {
      status_ = last.status();
      return false;
    }
    std::size_t offset = 0;
    for (const BatchLine& line : lines) {
      std::span<const Event> own(events.data() + offset, line.events);
      offset += line.events;
      if (last.ok()) {
        const std::int64_t position = *last - static_cast<std::int64_t>(events.size() - offset);
        if (!Report(line.number, true, Status::OK(), position, line.events)) return false;
      } else if (!Append(line.number, own, nullptr, nullptr)) {
        return false;
      }
    }
    return true;
  }

  const Status& status() const { return status_; }

 private:
  struct BatchLine {
    std::uint64_t number;
    std::size_t events;
  };

  Result<std::int64_t> Write(std::span<const Event> events, const AppendCondition* condition,
                             const Tracking* tracking) {
    AppendRequest request;
    request.events = events;
    request.condition = condition;
    request.tracking = tracking;
    request.options.durability = options_.durability;
    return recorder_.Write(request);
  }

  bool Append(std::uint64_t number, std::span<const Event> events, const AppendCondition* condition,
              const Tracking* tracking) {
    Result<std::int64_t> written = Write(events, condition, tracking);
    if (!written.ok() && !Refusal(written.status())) {
      status_ = written.status();
      return false;
    }
    return Report(number, true, written.status(), written.ok() ? *written : 0, events.size());
  }

  // Records the outcome of line `number` (`parsed`: it was a valid line). False when the load
  // must stop there.
  bool Report(std::uint64_t number, bool parsed, const Status& status, std::int64_t position,
              std::size_t events) {
    if (status.ok()) {
      ++summary_->appended;
      summary_->events += events;
      if (options_.results) {
        // A line of a tracking record alone has no position.
        out_ << Json{{"ok", true}, {"position", events > 0 ? Json(position) : Json(nullptr)}}.dump()
             << '\n';
      }
      return true;
    }
    ++(parsed ? summary_->failed : summary_->invalid);
    const std::string code(Status::CodeName(status.code()));
    errors_ << "esload: line " << number << ": " << (parsed ? "" : "invalid line: ")
            << status.ToString() << '\n';
    if (options_.results) {
      Json result = {{"ok", false},
                     {"error", parsed ? code : "invalid_line"},
                     {"line", number},
                     {"message", std::string(status.message())}};
      out_ << result.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
    }
    if (!options_.stop_on_error) return true;
    summary_->stopped = true;
    return false;
  }

  Recorder& recorder_;
  const LoadOptions& options_;
  std::ostream& out_;
  std::ostream& errors_;
  LoadSummary* const summary_;
  std::vector<Event> batch_events_;
  std::vector<BatchLine> batch_lines_;
  Status status_;
};

}  // namespace

Status LoadLines(Recorder& recorder, std::istream& in, const LoadOptions& options,
                 std::ostream& out, std::ostream& errors, LoadSummary* summary) {
  // Parsing a line (JSON, then base64) costs about as much as appending it: chunks of lines are
  // parsed on threads of their own while this one appends the chunks before them, in order.
  struct Parsed {
    std::uint64_t number;
    Result<AppendLine> line;
  };
  using Chunk = std::vector<Parsed>;
  std::deque<std::future<Chunk>> parsing;
  Loader loader(recorder, options, out, errors, summary);
  bool going = true;
  const auto take_oldest = [&] {
    Chunk chunk = parsing.front().get();
    parsing.pop_front();
    for (Parsed& parsed : chunk) {
      if (!going) break;
      ++summary->lines;
      going = loader.Take(parsed.number, std::move(parsed.line));
    }
  };
  std::uint64_t number = 0;
  std::string line;
  while (going && in) {
    std::vector<std::pair<std::uint64_t, std::string>> lines;
    while (lines.size() < kLinesPerChunk && std::getline(in, line)) {
      ++number;
      if (!Blank(line)) lines.emplace_back(number, std::move(line));
    }
    if (!lines.empty()) {
      parsing.push_back(std::async(std::launch::async, [lines = std::move(lines)] {
        Chunk chunk;
        chunk.reserve(lines.size());
        for (const auto& [at, text] : lines) chunk.push_back({at, ParseAppendLine(text)});
        return chunk;
      }));
    }
    if (parsing.size() >= kChunksInFlight) take_oldest();
  }
  while (going && !parsing.empty()) take_oldest();
  if (going) loader.Flush();
  if (!loader.status().ok()) return loader.status();
  if (in.bad()) return Status::IOError("reading the input failed");
  return Status::OK();
}

}  // namespace es::tools
