// The esdump and esload binaries of this build run on stores on disk (issue 5): reads of every
// query shape against Store::Read, `esdump export | esload` through a shell pipe, malformed input
// lines, esdump on a store another process is writing, and esdump info and verify on a SQLite
// database, clean and damaged. Verify of damaged engine stores through the binary is in
// tools_test.cc.
#include <doctest/doctest.h>

#include <es/env.h>
#include <es/store.h>

#ifdef ES_WITH_SQLITE
#include <sqlite3.h>
#endif

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "engine/crypto/base64.h"
#include "engine/testing/test_dir.h"
#include "tools/common/event_json.h"
#include "tools/testing/tools_testing.h"

namespace es::tools {
namespace {

using Json = nlohmann::json;

// Opens the engine store in `dir`, creating it when missing unless `read_only`.
std::unique_ptr<Store> OpenStore(const std::string& dir, bool read_only) {
  Options options;
  options.durability = Durability::kNone;
  options.read_only = read_only;
  auto store = Store::Open(options, dir);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  return std::move(store).value();
}

// The events of esdump's event lines (their data decoded from base64), with their positions.
std::vector<SequencedEvent> EventsOf(const std::vector<Json>& lines) {
  std::vector<SequencedEvent> events;
  for (const Json& line : lines) {
    Result<Event> event = ParseEvent(line.dump());
    REQUIRE_MESSAGE(event.ok(), event.status().ToString());
    events.push_back({line.at("position").get<std::int64_t>(), std::move(event).value()});
  }
  return events;
}

Json HeadLine(const std::optional<std::int64_t>& head) {
  return Json{{"head", head ? Json(*head) : Json(nullptr)}};
}

// One `esdump read` and the same read through the API.
struct ReadShape {
  std::string args;  // after `read`
  Query query;
  ReadOptions options;
  bool with_head = false;
  std::size_t events = 0;  // how many the read returns
};

// Runs esdump read on the store in `dir` for each shape, and compares its events and head line
// with what `store` (the same store, opened read-only) returns for the same read.
void CheckReads(const std::string& dir, Store& store, const std::vector<ReadShape>& shapes) {
  for (const ReadShape& shape : shapes) {
    CAPTURE(shape.args);
    Ran ran = RunEsdump(dir + " read " + shape.args);
    REQUIRE(ran.status == 0);
    Result<ReadResult> expected = store.Read(shape.query, shape.options);
    REQUIRE(expected.ok());
    CHECK(expected->events.size() == shape.events);
    if (shape.with_head) {
      REQUIRE_FALSE(ran.lines.empty());
      CHECK(ran.lines.back() == HeadLine(expected->head));
      ran.lines.pop_back();
    }
    CHECK(EventsOf(ran.lines) == expected->events);
  }
}

TEST_CASE("esdump read (the binary) returns what Store::Read does, for every query shape") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/store";
  {
    auto writer = OpenStore(path, false);
    Fill(*writer);  // positions 1 to 4
    // More events than one page of esdump's reads (10,000), at positions 5 to 21,004.
    std::vector<Event> batch;
    for (int i = 0; i < 1000; ++i) {
      batch.push_back({.type = "Bulk" + std::to_string(i % 3),
                       .data = std::to_string(i),
                       .tags = {"bulk", "m" + std::to_string(i % 5)}});
    }
    for (int i = 0; i < 21; ++i) REQUIRE(writer->Append(batch, std::nullopt).ok());
  }
  auto store = OpenStore(path, true);
  const auto items = [](std::vector<QueryItem> items) { return Query{std::move(items)}; };
  using testing::Item;
  CheckReads(
      path, *store,
      {
          {"", {}, {}, false, 21'004},
          {"--query '[]' --with-head", {}, {}, true, 21'004},
          {R"(--query '[{"types":["Joined"]}]')", items({Item({"Joined"}, {})}), {}, false, 2},
          {R"(--query '[{"tags":["course-2"]}]')", items({Item({}, {"course-2"})}), {}, false, 2},
          {R"(--query '[{"types":["Registered","Joined"],"tags":["student-1"]}]')",
           items({Item({"Registered", "Joined"}, {"student-1"})}),
           {},
           false,
           2},
          // Several items: an event matching two of them is returned once.
          {R"(--query '[{"tags":["student-1"]},{"types":["Joined"]}]')",
           items({Item({}, {"student-1"}), Item({"Joined"}, {})}),
           {},
           false,
           3},
          {R"(--query '[{"types":["Opened"]},{"tags":["student-3"]},)"
           R"({"types":["Bulk1"],"tags":["m2"]}]' --with-head)",
           items({Item({"Opened"}, {}), Item({}, {"student-3"}), Item({"Bulk1"}, {"m2"})}),
           {},
           true,
           2 + 67 * 21},  // Bulk1 with m2: i % 15 == 7, 67 of each 1,000
          // An item's tags are a set: all must match, and a repeated one counts once.
          {R"(--query '[{"tags":["student-1","course-2"]}]')",
           items({Item({}, {"student-1", "course-2"})}),
           {},
           false,
           1},
          {R"(--query '[{"tags":["course-2","course-2"]}]')",
           items({Item({}, {"course-2", "course-2"})}),
           {},
           false,
           2},
          {R"(--query '[{}]' --after 21000)", items({Item({}, {})}), {.after = 21'000}, false, 4},
          // Nothing matches: without a limit the head is still the store's.
          {R"(--query '[{"types":["Nope"]}]' --with-head)",
           items({Item({"Nope"}, {})}),
           {},
           true,
           0},
          {R"(--query '[{"tags":["nope"]}]')", items({Item({}, {"nope"})}), {}, false, 0},
          {R"(--query '[{"types":["Joined"],"tags":["nope"]}]')",
           items({Item({"Joined"}, {"nope"})}),
           {},
           false,
           0},
          {R"(--query '[{"tags":["course-2"]}]' --after 2)",
           items({Item({}, {"course-2"})}),
           {.after = 2},
           false,
           1},
          {"--after 30000 --with-head", {}, {.after = 30'000}, true, 0},
          // A limit: the head is the last event returned, null when none is.
          {"--limit 5 --with-head", {}, {.limit = 5}, true, 5},
          {R"(--query '[{"tags":["bulk"]}]' --after 100 --limit 15000 --with-head)",
           items({Item({}, {"bulk"})}),
           {.after = 100, .limit = 15'000},
           true,
           15'000},
          {R"(--query '[{"types":["Nope"]}]' --limit 3 --with-head)",
           items({Item({"Nope"}, {})}),
           {.limit = 3},
           true,
           0},
          {"--after 21004 --limit 1 --with-head", {}, {.after = 21'004, .limit = 1}, true, 0},
          {"--limit 0 --with-head", {}, {.limit = 0}, true, 0},
      });
  // The head rule itself, not only the API's: a limit gives the last event returned; none, the
  // store's last position even when nothing matched.
  CHECK(RunEsdump(path + " read --limit 5 --with-head").lines.back() == HeadLine(5));
  CHECK(RunEsdump(path + R"( read --query '[{"tags":["nope"]}]' --with-head)").lines ==
        std::vector<Json>{HeadLine(21'004)});

  const std::string empty_path = dir.path() + "/empty";
  OpenStore(empty_path, false);  // creates it
  auto empty = OpenStore(empty_path, true);
  CheckReads(
      empty_path, *empty,
      {{"--with-head", {}, {}, true, 0}, {"--limit 2 --with-head", {}, {.limit = 2}, true, 0}});
  CHECK(RunEsdump(empty_path + " read --with-head").lines == std::vector<Json>{HeadLine({})});
}

TEST_CASE("esdump A export | esload B: B exports the same bytes, streams, tracking and all") {
  testing::TempDir dir;
  const std::string a = dir.path() + "/a", b = dir.path() + "/b";
  const std::string input = dir.path() + "/a.jsonl";
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  {
    std::ofstream lines(input);
    lines << R"({"type":"Bytes","tags":["bin"],"data_b64":")" << Base64Encode(bytes) << "\"}\n"
          << R"({"type":"Opened","stream":"account-1","version":1,"data":"{}",)"
          << R"("uuid":"01020304-0506-0708-090a-0b0c0d0e0f10","metadata":{"user":"ann","":"e"}})"
          << '\n'
          // Passes: nothing tagged account-1 yet.
          << R"({"events":[{"type":"Deposited","stream":"account-1","version":2,)"
          << R"("tags":["account-1"]},{"type":"Opened","stream":"account-2","version":1}],)"
          << R"("condition":{"query":[{"tags":["account-1"]}],"after":null}})"
          << '\n'
          // Refused: position 3 is tagged account-1.
          << R"({"events":[{"type":"Deposited","tags":["account-1"]}],)"
          << R"("condition":{"query":[{"tags":["account-1"]}],"after":2}})" << '\n'
          << R"({"events":[{"type":"Withdrawn","stream":"account-1","version":3,)"
          << R"("tags":["account-1"]}],"condition":{"query":[{"tags":["account-1"]}],"after":3},)"
          << R"("tracking":{"application":"upstream","notification_id":7}})" << '\n'
          << R"({"type":"Opened","stream":"account-1","version":1})" << '\n'  // version taken
          << R"({"tracking":{"application":"downstream","notification_id":4}})" << '\n';
  }
  Ran loaded = RunEsload(a + " " + input + " --results 2>/dev/null");
  CHECK(loaded.status == 1);  // two lines refused
  const std::vector<Json> results = {
      Json::parse(R"({"ok":true,"position":1})"),   Json::parse(R"({"ok":true,"position":2})"),
      Json::parse(R"({"ok":true,"position":4})"),   Json{{"error", "condition_failed"}},
      Json::parse(R"({"ok":true,"position":5})"),   Json{{"error", "integrity_error"}},
      Json::parse(R"({"ok":true,"position":null})")};
  REQUIRE(loaded.lines.size() == results.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    CAPTURE(i);
    if (results[i].contains("error")) {
      CHECK(loaded.lines[i]["error"] == results[i]["error"]);
      CHECK(loaded.lines[i]["line"] == i + 1);
    } else {
      CHECK(loaded.lines[i] == results[i]);
    }
  }

  Ran exported = RunEsdump(a + " export");
  REQUIRE(exported.status == 0);
  REQUIRE(exported.lines.size() == 7);  // five events, two tracking records
  Result<std::string> data = Base64Decode(exported.lines[0]["data_b64"].get<std::string>());
  REQUIRE(data.ok());
  CHECK(*data == bytes);
  CHECK(exported.lines[1]["uuid"] == "01020304-0506-0708-090a-0b0c0d0e0f10");
  CHECK(exported.lines[1]["metadata"] == Json::parse(R"({"user":"ann","":"e"})"));
  CHECK(exported.lines[4]["stream"] == "account-1");
  CHECK(exported.lines[4]["version"] == 3);
  CHECK(exported.lines[5]["tracking"]["application"] == "downstream");
  CHECK(exported.lines[6]["tracking"] == Json::parse(R"({"application":"upstream",)"
                                                     R"("notification_id":7})"));

  Ran piped = RunCommand(std::string(ES_ESDUMP) + " " + a + " export | " + ES_ESLOAD + " " + b);
  CHECK(piped.status == 0);
  CHECK(piped.lines ==
        std::vector<Json>{Json::parse(R"({"lines":7,"appended":7,"events":5,)"
                                      R"("invalid":0,"failed":0,"stopped":false})")});
  Ran again = RunEsdump(b + " export");
  REQUIRE(again.status == 0);
  CHECK(again.out == exported.out);
  auto source = OpenStore(a, true), copy = OpenStore(b, true);
  CHECK(copy->Read(Query{}, {})->events == source->Read(Query{}, {})->events);
  CHECK(*copy->TrackingRecords() == *source->TrackingRecords());
}

TEST_CASE("esload (the binary): malformed lines are reported by line and write nothing") {
  testing::TempDir dir;
  const std::string input = dir.path() + "/in.jsonl", errors = dir.path() + "/errors";
  {
    std::ofstream lines(input);
    lines << R"({"type":"First","data":"1"})" << '\n'
          << "not json\n"
          << R"({"type":"Bad","colour":"red"})" << '\n'
          << '\n'
          << R"({"tags":["no-type"]})" << '\n'
          << R"({"type":"Bad","data_b64":"%%%"})" << '\n'
          << R"({"type":"Bad","uuid":"not-a-uuid"})" << '\n'
          << R"({"events":[{"type":"Bad"}],"condition":{"query":[{"kinds":["A"]}],"after":null}})"
          << '\n'
          << R"({"type":"Last","data":"9"})" << '\n';
  }
  const std::string store = dir.path() + "/store";
  Ran ran = RunEsload(store + " " + input + " --results 2>" + errors);
  CHECK(ran.status == 1);
  REQUIRE(ran.lines.size() == 8);  // one a line but the blank one
  CHECK(ran.lines[0] == Json::parse(R"({"ok":true,"position":1})"));
  CHECK(ran.lines[7] == Json::parse(R"({"ok":true,"position":2})"));  // still loaded
  // Each bad line by its number in the input, and the word naming what is wrong with it.
  const std::vector<std::pair<int, std::string>> bad = {
      {2, "JSON"}, {3, "colour"}, {5, "type"}, {6, "data_b64"}, {7, "uuid"}, {8, "kinds"}};
  const std::string stderr_text = testing::ReadFile(Env::Default(), errors);
  for (std::size_t i = 0; i < bad.size(); ++i) {
    const auto& [line, word] = bad[i];
    const Json& result = ran.lines[i + 1];
    CAPTURE(result);
    CHECK(result["ok"] == false);
    CHECK(result["error"] == "invalid_line");
    CHECK(result["line"] == line);
    CHECK(result["message"].get<std::string>().find(word) != std::string::npos);
    CHECK(stderr_text.find("line " + std::to_string(line) + ": invalid line") != std::string::npos);
  }
  {
    auto loaded = OpenStore(store, true);
    Result<ReadResult> all = loaded->Read(Query{}, {});
    REQUIRE(all.ok());
    REQUIRE(all->events.size() == 2);
    CHECK(all->events[0].event.type == "First");
    CHECK(all->events[1].event.type == "Last");
  }

  const std::string stopped = dir.path() + "/stopped";
  Ran first = RunEsload(stopped + " " + input + " --results --stop-on-error 2>/dev/null");
  CHECK(first.status == 1);
  REQUIRE(first.lines.size() == 2);
  CHECK(first.lines[1]["line"] == 2);
  CHECK(*OpenStore(stopped, true)->Head() == 1);
  Ran summary = RunEsload(stopped + " " + input + " --stop-on-error 2>/dev/null");
  CHECK(summary.status == 1);
  CHECK(summary.lines ==
        std::vector<Json>{Json::parse(R"({"lines":2,"appended":1,"events":1,)"
                                      R"("invalid":1,"failed":0,"stopped":true})")});
  CHECK(*OpenStore(stopped, true)->Head() == 2);
}

// How many of esdump's lines from the first are the events the writer below appended: position
// N holding the data "N". Anything else ends the count.
std::size_t DenseTicks(const std::vector<Json>& lines) {
  std::size_t n = 0;
  for (; n < lines.size(); ++n) {
    const Json& line = lines[n];
    if (!line.contains("position") || line["position"] != n + 1) break;
    Result<std::string> data = Base64Decode(line["data_b64"].get<std::string>());
    if (!data.ok() || *data != std::to_string(n + 1)) break;
  }
  return n;
}

// A writer in a child process: appends events to the store in `dir`, the Nth with the data "N",
// until `stop` is readable (a byte, or the parent gone), pausing after kMaxWritten; then closes
// the store, writes how many it appended to `done` and exits 0. A failure exits 1 after saying
// why on stderr.
constexpr std::int64_t kMaxWritten = 20'000;

[[noreturn]] void AppendUntilStopped(const std::string& dir, int stop, int done) {
  const auto fail = [](const std::string& why) {
    std::fprintf(stderr, "writer: %s\n", why.c_str());
    _exit(1);
  };
  Options options;
  options.durability = Durability::kNone;
  // Segments roll, position indexes and checkpoints are written and old checkpoints removed
  // while esdump reads.
  options.segment_bytes = 256 << 10;
  options.max_write_bytes = 64 << 10;
  options.segment_events = 500;
  options.max_write_events = 500;
  options.checkpoint_interval_events = 1000;
  options.sync_interval_ms = 10;
  auto store = Store::Open(options, dir);
  if (!store.ok()) fail(store.status().ToString());
  std::int64_t written = 0;
  for (pollfd stopped{stop, POLLIN, 0}; poll(&stopped, 1, 0) == 0;) {
    // Bounded, so that each esdump run (which replays the whole log) stays short in slow
    // (sanitizer) builds: about four seconds of appending.
    if (written >= kMaxWritten) {
      usleep(2000);
      continue;
    }
    std::vector<Event> batch;
    for (int i = 0; i < 10; ++i) {
      ++written;
      batch.push_back({.type = "Tick",
                       .data = std::to_string(written),
                       .tags = {"t" + std::to_string(written % 7)}});
    }
    Result<std::int64_t> last = (*store)->Append(batch, std::nullopt);
    if (!last.ok()) fail(last.status().ToString());
    if (*last != written) fail("appended at " + std::to_string(*last));
    usleep(2000);
  }
  store->reset();
  if (write(done, &written, sizeof written) != sizeof written) fail("cannot write the count");
  _exit(0);
}

// The writer child of one test: stopped (and waited for) at the latest when the test ends.
class Writer {
 public:
  explicit Writer(const std::string& dir) {
    int stop[2], done[2];
    REQUIRE(pipe(stop) == 0);
    REQUIRE(pipe(done) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      close(stop[1]);
      close(done[0]);
      AppendUntilStopped(dir, stop[0], done[1]);
    }
    close(stop[0]);
    close(done[1]);
    stop_ = stop[1];
    done_ = done[0];
  }
  ~Writer() {
    if (pid_ > 0) Stop();
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Stops the writer. Returns how many events it appended, or -1 when it failed.
  std::int64_t Stop() {
    close(stop_);  // the child sees the pipe's end
    std::int64_t written = -1;
    if (read(done_, &written, sizeof written) != sizeof written) written = -1;
    close(done_);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? written : -1;
  }

 private:
  pid_t pid_ = 0;
  int stop_ = -1;
  int done_ = -1;
};

TEST_CASE("esdump on a store another process is writing: consistent views; it writes nothing") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/store";
  Writer writer(path);

  // The highest head any run has shown: no later run may show less.
  std::int64_t seen = 0;
  for (int tries = 0; seen < 200 && tries < 500; ++tries) {
    usleep(10'000);
    Ran info = RunEsdump(path + " info 2>/dev/null");  // fails until the writer made the store
    if (info.status == 0 && info.lines.at(0)["head"].is_number()) {  // null until it appends
      seen = info.lines.at(0)["head"].get<std::int64_t>();
    }
  }
  REQUIRE(seen >= 200);
  const std::int64_t first_seen = seen;
  for (int round = 0; round < 10; ++round) {
    CAPTURE(round);
    Ran info = RunEsdump(path + " info");
    REQUIRE(info.status == 0);
    const Json& json = info.lines.at(0);
    const std::int64_t head = json["head"].get<std::int64_t>();
    CHECK(head >= seen);
    CHECK(json["events"] == head);
    std::int64_t in_segments = 0;
    for (const Json& segment : json["segments"])
      in_segments += segment["events"].get<std::int64_t>();
    CHECK(in_segments == head);
    seen = std::max(seen, head);

    Ran read = RunEsdump(path + " read --with-head");
    REQUIRE(read.status == 0);
    REQUIRE_FALSE(read.lines.empty());
    const Json head_line = read.lines.back();
    read.lines.pop_back();
    CHECK(DenseTicks(read.lines) == read.lines.size());
    CHECK(head_line == HeadLine(static_cast<std::int64_t>(read.lines.size())));
    CHECK(static_cast<std::int64_t>(read.lines.size()) >= seen);
    seen = std::max<std::int64_t>(seen, read.lines.size());

    Ran exported = RunEsdump(path + " export");
    REQUIRE(exported.status == 0);
    CHECK(DenseTicks(exported.lines) == exported.lines.size());
    CHECK(static_cast<std::int64_t>(exported.lines.size()) >= seen);
    seen = std::max<std::int64_t>(seen, exported.lines.size());

    Ran verify = RunEsdump(path + " verify");
    CHECK(verify.status == 0);
    REQUIRE(verify.lines.size() >= 1);
    CAPTURE(verify.out);
    CHECK(verify.lines.back()["clean"] == true);
    CHECK(verify.lines.back()["events"] >= seen);
  }
  CHECK(seen > first_seen);  // the writer went on appending while esdump read

  const std::int64_t written = writer.Stop();
  REQUIRE(written >= seen);
  const testing::DirImage before = testing::ReadDir(Env::Default(), path);
  Ran exported = RunEsdump(path + " export");
  REQUIRE(exported.status == 0);
  CHECK(static_cast<std::int64_t>(exported.lines.size()) == written);
  CHECK(DenseTicks(exported.lines) == exported.lines.size());
  for (const char* command : {"info", "read --with-head --limit 3", "verify", "stats"}) {
    CAPTURE(command);
    CHECK(RunEsdump(path + " " + command).status == 0);
  }
  // esdump takes no lock and writes nothing: the same files, with the same bytes.
  CHECK(testing::ReadDir(Env::Default(), path) == before);
}

#ifdef ES_WITH_SQLITE
// Runs `sql` on the SQLite database `path`, as another tool would.
void ExecuteSqlite(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, sql);
}

TEST_CASE("esdump info and verify (the binary) on a SQLite database: clean 0, damaged 1") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/events.sqlite", uri = "sqlite:" + path;
  std::string input;
  for (const Event& event : Sample()) input += *EventLine(SequencedEvent{0, event}) + "\n";
  { std::ofstream(dir.path() + "/input.jsonl") << input; }
  REQUIRE(RunEsload(uri + " " + dir.path() + "/input.jsonl").status == 0);

  Ran info = RunEsdump(uri + " info");
  REQUIRE(info.status == 0);
  CHECK(info.lines.at(0)["backend"] == "sqlite");
  CHECK(info.lines.at(0)["events"] == Sample().size());
  CHECK(info.lines.at(0)["encryption"] == "none");
  Ran clean = RunEsdump(uri + " verify");
  CHECK(clean.status == 0);
  REQUIRE(clean.lines.size() == 1);
  CHECK(clean.lines[0]["clean"] == true);
  CHECK(clean.lines[0]["events"] == Sample().size());

  ExecuteSqlite(path,
                "DELETE FROM es_tags WHERE (tag, position) IN (SELECT tag, position FROM es_tags "
                "ORDER BY position DESC LIMIT 1)");
  ExecuteSqlite(path, "UPDATE es_events SET data_codec = 9 WHERE position = 2");
  Ran damaged = RunEsdump(uri + " verify");
  CHECK(damaged.status == 1);
  REQUIRE(damaged.lines.size() == 3);
  CHECK(damaged.lines[0]["table"] == "es_events");  // the walk meets position 2 first
  CHECK(damaged.lines[0]["position"] == 2);
  CHECK(damaged.lines[1]["table"] == "es_tags");
  CHECK(damaged.lines[2]["clean"] == false);
  CHECK(damaged.lines[2]["problems"] == 2);
  CHECK(RunEsdump(uri + " --pretty verify >/dev/null").status == 1);
  CHECK(RunEsdump("sqlite:" + dir.path() + "/missing.sqlite verify 2>/dev/null").status == 3);
}
#endif

}  // namespace
}  // namespace es::tools
