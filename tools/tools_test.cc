// Tests of esdump's and esload's work (docs/tools.md), on stores in memory: JSON forms, the
// commands' output, verify against damage of every kind it checks, and export -> load -> export.
// The esdump binary itself verifies damaged stores on disk: its lines and exit status. The other
// cases that run the binaries are in binaries_test.cc.
#include <doctest/doctest.h>

#include <es/encryption.h>
#include <es/env.h>
#include <es/store.h>
#include <es/verify.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#ifdef ES_WITH_POSTGRES
#include "adapters/postgres/testing/throwaway_cluster.h"
#endif
#include "engine/crypto/base64.h"
#include "engine/testing/test_dir.h"
#include "tools/common/event_json.h"
#include "tools/common/store_name.h"
#include "tools/esdump/dump.h"
#include "tools/esload/load.h"
#include "tools/testing/tools_testing.h"

namespace es::tools {
namespace {

using Json = nlohmann::json;

constexpr char kDir[] = "/store";

struct MemStore {
  std::unique_ptr<Env> env = NewMemEnv();
  Options options;
  MemStore() {
    options.env = env.get();
    options.durability = Durability::kNone;
    options.prepare_spare_segment = false;
  }
  std::unique_ptr<Store> Open(bool read_only = false, const char* dir = kDir) {
    Options o = options;
    o.read_only = read_only;
    auto store = Store::Open(o, dir);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    return std::move(store).value();
  }
  // Verifies the store, checking that verifying changed no file.
  VerifyReport Verify() {
    const testing::DirImage before = Files();
    auto report = VerifyStore(options, kDir);
    REQUIRE_MESSAGE(report.ok(), report.status().ToString());
    CHECK(Files() == before);
    return *report;
  }
  testing::DirImage Files() { return testing::ReadDir(env.get(), kDir); }
};

// What esload --results makes of `input`: a parsed result per line, the summary, the errors.
struct Loaded {
  std::vector<Json> results;
  LoadSummary summary;
  std::string errors;
};
Loaded LoadWithResults(Recorder& recorder, const std::string& input) {
  std::istringstream in(input);
  std::ostringstream out, errors;
  Loaded loaded;
  REQUIRE(LoadLines(recorder, in, {.results = true}, out, errors, &loaded.summary).ok());
  loaded.results = Lines(out.str());
  loaded.errors = errors.str();
  return loaded;
}

TEST_CASE("tools: event JSON round-trips every field") {
  std::int64_t position = 1;
  for (const Event& event : Sample()) {
    const std::string line = *JsonLine(EventToJson({position, event}));
    CHECK(*EventLine({position++, event}) == line);
    Result<Event> back = ParseEvent(line);
    REQUIRE_MESSAGE(back.ok(), back.status().ToString());
    CHECK(*back == event);
  }
  // Strings that spell the data member do not confuse EventLine's splice.
  const SequencedEvent tricky{9, Event{.type = R"(T"data_b64":"")",
                                       .data = "xyz",
                                       .tags = {R"("data_b64":"")", R"(\"data_b64\":\"\")"}}};
  CHECK(*EventLine(tricky) == *JsonLine(EventToJson(tricky)));
  CHECK(ParseEvent(R"({"type":"T","data":"text"})")->data == "text");
  for (const char* bad :
       {R"({"tags":["a"]})", R"({"type":""})", R"({"type":"T","tags":"a"})",
        R"({"type":"T","data":"x","data_b64":"eA=="})", R"({"type":"T","stream":"s"})",
        R"({"type":"T","uuid":"not-a-uuid"})", R"({"type":"T","colour":"red"})",
        R"({"type":"T","metadata":{"k":1}})", R"([1,2])"}) {
    CHECK_MESSAGE(ParseEvent(bad).status().IsInvalidArgument(), bad);
  }
  CHECK(ParseQuery("[]")->items.empty());
  CHECK(ParseQuery(R"([{"types":["A"],"tags":["x","y"]},{"tags":["z"]}])")->items.size() == 2);
  for (const char* bad : {"{}", "[1]", R"([{"types":"A"}])", R"([{"kinds":[]}])", "[", ""}) {
    CHECK_MESSAGE(ParseQuery(bad).status().IsInvalidArgument(), bad);
  }
  // The parser is strict: not UTF-8, lone surrogates, integers beyond 64 bits, numbers that are
  // not integers are refused, and the message says why.
  for (const char* bad : {"{\"type\":\"\xff\"}", R"({"type":"\udc00"})", R"({"type":"\ud800"})",
                          R"({"type":"T","stream":"s","version":9223372036854775808})",
                          R"({"type":"T","stream":"s","version":1e2})", R"({"type":"T"} x)"}) {
    Result<AppendLine> parsed = ParseAppendLine(bad);
    CHECK_MESSAGE(parsed.status().IsInvalidArgument(), bad);
  }
  CHECK(ParseAppendLine("{\"type\":\"\xff\"}").status().ToString().find("UTF-8") !=
        std::string::npos);
  // A member given twice counts once, the last time.
  Result<AppendLine> twice = ParseAppendLine(
      R"({"events":[{"type":"A"}],"events":[{"type":"B","tags":["x"],"tags":["y"]}]})");
  REQUIRE(twice.ok());
  CHECK(twice->events == std::vector<Event>{Event{.type = "B", .tags = {"y"}}});
  CHECK(ParseEvent(R"({"type":"T","data":"a\u0000b"})")->data == std::string("a\0b", 3));
  // JSON carries text only: a type that is not UTF-8 cannot be written, and says so.
  CHECK(JsonLine(EventToJson({1, Event{.type = "\xff"}})).status().IsInvalidArgument());
}

TEST_CASE("esdump: info, read with the head rule, stats") {
  MemStore m;
  auto writer = m.Open();
  Fill(*writer);
  auto store = m.Open(/*read_only=*/true);

  std::ostringstream info;
  REQUIRE(DumpInfo(*store, info, false).ok());
  Json json = Json::parse(info.str());
  CHECK(json["format_version"] == 1);
  CHECK(json["head"] == 4);
  CHECK(json["events"] == 4);
  CHECK(json["segments"].size() == 1);
  CHECK(json["segments"][0]["state"] == "active");
  CHECK(json["store_id"].get<std::string>().size() == 32);
  CHECK(json["encryption"] == "none");

  const auto read = [&](const char* query, ReadOptions options, bool with_head) {
    std::ostringstream out;
    REQUIRE(DumpRead(*store, *ParseQuery(query), options, with_head, out, false).ok());
    return Lines(out.str());
  };
  std::vector<Json> all = read("[]", {}, true);
  REQUIRE(all.size() == 5);
  CHECK(all[1]["tags"] == Json::parse(R"(["student-1","course-2","student-1"])"));
  CHECK(all[2]["stream"] == "account-7");
  CHECK(all[2]["uuid"] == "01020304-0506-0708-090a-0b0c0d0e0f10");
  CHECK(all[4] == Json::parse(R"({"head":4})"));
  std::vector<Json> joined = read(R"([{"types":["Joined"],"tags":["course-2"]}])", {}, true);
  REQUIRE(joined.size() == 3);
  CHECK(joined[0]["position"] == 2);
  CHECK(joined[2] == Json::parse(R"({"head":4})"));  // no limit: the store's head
  std::vector<Json> limited = read("[]", {.after = 1, .limit = 2}, true);
  REQUIRE(limited.size() == 3);
  CHECK(limited[2] == Json::parse(R"({"head":3})"));  // a limit: the last event returned
  std::vector<Json> none = read("[]", {.after = 4, .limit = 5}, true);
  CHECK(none == std::vector<Json>{Json::parse(R"({"head":null})")});

  std::ostringstream stats;
  REQUIRE(DumpStats(*store, store.get(), 1, stats, false).ok());
  Json s = Json::parse(stats.str());
  CHECK(s["events"] == 4);
  CHECK(s["distinct_tags"] == 3);
  CHECK(s["types"][0] == Json::parse(R"({"type":"Joined","events":2})"));
  CHECK(s["top_tags"] == Json::parse(R"([{"tag":"student-1","events":3}])"));

  std::ostringstream pretty;
  CHECK(DumpInfo(*store, pretty, true).ok());
  CHECK(DumpRead(*store, Query{}, {}, true, pretty, true).ok());
  CHECK(DumpStats(*store, store.get(), 10, pretty, true).ok());
  CHECK(pretty.str().find("account-7@1") != std::string::npos);
}

TEST_CASE("esdump export, then esload into an empty store, exports the same") {
  MemStore m;
  m.options.segment_events = 4096;  // rolls, and pages of the export across segments
  m.options.max_write_events = 1000;
  {
    auto writer = m.Open();
    Fill(*writer);
    std::vector<Event> batch(1000, Event{.type = "Bulk", .data = "x", .tags = {"b"}});
    for (int i = 0; i < 25; ++i) REQUIRE(writer->Append(batch, std::nullopt).ok());
  }
  std::ostringstream exported;
  REQUIRE(DumpExport(*m.Open(true), exported).ok());

  const std::string other = "/copy";
  auto copy = m.Open(false, other.c_str());
  std::istringstream in(exported.str());
  std::ostringstream out, errors;
  LoadSummary summary;
  REQUIRE(LoadLines(*copy, in, {}, out, errors, &summary).ok());
  CHECK(summary.appended == 25'006);  // and the two tracking records
  CHECK(summary.events == 25'004);
  CHECK(errors.str().empty());
  CHECK(summary.failed == 0);
  std::ostringstream again;
  REQUIRE(DumpExport(*copy, again).ok());
  CHECK(again.str() == exported.str());
  CHECK(*copy->MaxTrackingId("downstream") == 4);
}

TEST_CASE("esdump and esload open encrypted stores with --key or CIPHER_KEY, and need it") {
  testing::TempDir dir;
  const std::string source = dir.path() + "/source", copy = dir.path() + "/copy";
  const std::string key(32, 'k');
  const std::string key_base64 = Base64Encode(key);
  {
    Options options;
    options.key_provider = FixedKeyProvider(key);
    options.durability = Durability::kNone;
    auto store = Store::Open(options, source);
    REQUIRE(store.ok());
    Fill(**store);
  }
  Result<OpenedStore> no_key = OpenStoreNamed(source, true);
  REQUIRE_FALSE(no_key.ok());
  CHECK(no_key.status().IsInvalidArgument());
  CHECK(no_key.status().message().find("is encrypted") != std::string::npos);
  CHECK(OpenStoreNamed(source, true, "bm90IGEga2V5").status().IsInvalidArgument());
  CHECK(OpenStoreNamed(source, true, "%%%").status().message().find("--key") != std::string::npos);

  Result<OpenedStore> opened = OpenStoreNamed(source, true, key_base64);
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  std::ostringstream info, exported;
  REQUIRE(DumpInfo(*opened->engine, info, false).ok());
  CHECK(Json::parse(info.str())["encryption"] == "aes-256-gcm");
  CHECK(Json::parse(info.str())["key_id"].is_number());
  REQUIRE(DumpExport(*opened->recorder, exported).ok());
  CHECK(Lines(exported.str()).size() == Sample().size() + 2);  // and two tracking lines

  // esload creates the copy encrypted under the key CIPHER_KEY gives.
  setenv("CIPHER_KEY", key_base64.c_str(), 1);
  {
    Result<OpenedStore> target = OpenStoreNamed(copy, false);
    unsetenv("CIPHER_KEY");
    REQUIRE_MESSAGE(target.ok(), target.status().ToString());
    std::istringstream in(exported.str());
    std::ostringstream out, errors;
    LoadSummary summary;
    REQUIRE(LoadLines(*target->recorder, in, {}, out, errors, &summary).ok());
    CHECK(target->engine->Info().encryption == "aes-256-gcm");
  }
  CHECK(OpenStoreNamed(copy, true).status().IsInvalidArgument());
  Result<OpenedStore> copied = OpenStoreNamed(copy, true, key_base64);
  REQUIRE(copied.ok());
  std::ostringstream again;
  REQUIRE(DumpExport(*copied->recorder, again).ok());
  CHECK(again.str() == exported.str());
  // verify needs no key.
  Result<VerifyReport> report = VerifyStore(Options{.read_only = true}, copy);
  REQUIRE(report.ok());
  CHECK(report->clean());
}

TEST_CASE("the binaries: esload --key makes an encrypted store, esdump reads it with the key") {
  testing::TempDir dir;
  const std::string store = dir.path() + "/store", input = dir.path() + "/in.jsonl";
  const std::string key = Base64Encode(std::string(32, 'b'));
  {
    std::ofstream lines(input);
    for (int i = 0; i < 2000; ++i) {
      lines << R"({"type":"Enrolled","tags":["s)" << i << R"("],"data":"{\"student\":\"secret-)"
            << i << R"(\",\"course\":\"c)" << i % 13 << R"(\"}"})" << '\n';
    }
  }
  Ran loaded = RunEsload(store + " " + input + " --key " + key);
  REQUIRE(loaded.status == 0);
  CHECK(loaded.lines.at(0)["events"] == 2000);
  CHECK(RunEsdump(store + " info 2>/dev/null").status == 2);  // an invalid argument: no key
  Ran info = RunCommand("CIPHER_KEY=" + key + " " + ES_ESDUMP + " " + store + " info");
  REQUIRE(info.status == 0);
  CHECK(info.lines.at(0)["encryption"] == "aes-256-gcm");
  Ran read = RunEsdump(store + " --key " + key + " read --query '[{\"tags\":[\"s7\"]}]'");
  REQUIRE(read.status == 0);
  REQUIRE(read.lines.size() == 1);
  CHECK(Base64Decode(read.lines[0]["data_b64"].get<std::string>())->find("secret-7") !=
        std::string::npos);
  CHECK(RunEsdump(store + " verify").status == 0);
  CHECK(RunEsdump(store + " --key " + key + " verify").status == 0);  // authenticates each entry
  CHECK(RunEsdump(store + " --key " + Base64Encode(std::string(32, 'w')) + " verify 2>/dev/null")
            .status == 2);

  Ran trained = RunEsload(store + " --key " + key + " --train-dictionary --dictionary-bytes 4096");
  REQUIRE(trained.status == 0);
  CHECK(trained.lines.at(0)["dictionary"] == 1);
  CHECK(std::filesystem::exists(store + "/00000000000000000001.zdict"));
  CHECK(RunEsload(store + " --train-dictionary 2>/dev/null").status == 3);  // no key
}

// Exports a filled engine store, loads the export into the (empty) store `uri` names, and checks
// that the copy, opened read-only as esdump opens it, exports the same. Returns the copy.
OpenedStore CheckMovesTo(const std::string& uri, const std::string& backend) {
  MemStore m;
  Fill(*m.Open());
  std::ostringstream exported;
  REQUIRE(DumpExport(*m.Open(true), exported).ok());
  {
    auto target = OpenStoreNamed(uri, false);
    REQUIRE_MESSAGE(target.ok(), target.status().ToString());
    CHECK(target->engine == nullptr);
    CHECK(target->backend == backend);
    std::istringstream in(exported.str());
    std::ostringstream out, errors;
    LoadSummary summary;
    REQUIRE(LoadLines(*target->recorder, in, {}, out, errors, &summary).ok());
    CHECK(errors.str().empty());
  }
  auto copy = OpenStoreNamed(uri, true);
  REQUIRE_MESSAGE(copy.ok(), copy.status().ToString());
  std::ostringstream again;
  REQUIRE(DumpExport(*copy->recorder, again).ok());
  CHECK(again.str() == exported.str());
  return std::move(copy).value();
}

TEST_CASE("stores are named by directory or URI; export -> load moves a store to SQLite") {
  CHECK(OpenStoreNamed("mysql://nowhere/db", false).status().IsInvalidArgument());
#ifdef ES_WITH_SQLITE
  testing::TempDir dir;
  const std::string uri = "sqlite:" + dir.path() + "/events.sqlite";
  CHECK(OpenStoreNamed(uri, true).status().IsNotFound());  // read-only creates nothing
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/events.sqlite"));

  OpenedStore sqlite = CheckMovesTo(uri, "sqlite");
  std::ostringstream info, stats;
  REQUIRE(DumpRecorderInfo(uri, "", info, false).ok());
  const Json info_json = Json::parse(info.str());
  CHECK(info_json["backend"] == "sqlite");
  CHECK(info_json["head"] == Sample().size());
  std::ostringstream verified;
  CHECK(*DumpRecorderVerify(uri, "", verified, false));
  CHECK(Json::parse(verified.str())["events"] == Sample().size());
  REQUIRE(DumpStats(*sqlite.recorder, nullptr, 3, stats, false).ok());
  CHECK(Json::parse(stats.str())["segments"].empty());
#else
  MESSAGE("built without the SQLite recorder: only the unknown URI is checked");
#endif
}

#ifdef ES_WITH_POSTGRES
// The shared throwaway cluster, or null (with a message) when it is missing and not required.
postgres::testing::ThrowawayCluster* PostgresClusterOrSkip() {
  auto cluster = postgres::testing::ThrowawayCluster::Shared();
  if (!cluster.ok()) {
    CHECK_FALSE(postgres::testing::ThrowawayCluster::RequiredByEnvironment());
    MESSAGE("PostgreSQL skipped: " << cluster.status().ToString());
    return nullptr;
  }
  return *cluster;
}

std::string PostgresUri(const postgres::testing::ThrowawayCluster& cluster,
                        const postgres::testing::ThrowawaySchema& schema) {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(cluster.port()) +
         "/postgres?schema=" + schema.name();
}

TEST_CASE("export -> load moves a store to PostgreSQL, named by its URI") {
  postgres::testing::ThrowawayCluster* cluster = PostgresClusterOrSkip();
  if (cluster == nullptr) return;
  postgres::testing::ThrowawaySchema schema(*cluster);
  const std::string uri = PostgresUri(*cluster, schema);
  CHECK_FALSE(OpenStoreNamed(uri, true).ok());  // read-only creates no tables
  CheckMovesTo(uri, "postgres");
  std::ostringstream info, verified;
  REQUIRE(DumpRecorderInfo(uri, "", info, false).ok());
  const Json info_json = Json::parse(info.str());
  CHECK(info_json["backend"] == "postgres");
  CHECK(info_json["schema"] == schema.name());
  CHECK(info_json["head"] == Sample().size());
  CHECK(info_json["tracking_records"] == 2);
  CHECK(*DumpRecorderVerify(uri, "", verified, false));
  CHECK(Json::parse(verified.str())["clean"] == true);
}

TEST_CASE("esdump info and verify on encrypted PostgreSQL tables use --key") {
  postgres::testing::ThrowawayCluster* cluster = PostgresClusterOrSkip();
  if (cluster == nullptr) return;
  postgres::testing::ThrowawaySchema schema(*cluster);
  const std::string uri = PostgresUri(*cluster, schema);
  const std::string key = Base64Encode(std::string(32, 'g'));
  {
    Result<OpenedStore> writer = OpenStoreNamed(uri, false, key);  // as esload --key
    REQUIRE_MESSAGE(writer.ok(), writer.status().ToString());
    REQUIRE(writer->recorder->Append(Sample(), std::nullopt).ok());
  }
  CHECK(OpenStoreNamed(uri, true).status().IsInvalidArgument());  // no key
  Result<OpenedStore> reader = OpenStoreNamed(uri, true, key);
  REQUIRE_MESSAGE(reader.ok(), reader.status().ToString());
  Result<ReadResult> read = reader->recorder->Read(Query{});
  REQUIRE(read.ok());
  CHECK(read->events.size() == Sample().size());
  std::ostringstream info, verified, wrong;
  REQUIRE(DumpRecorderInfo(uri, "", info, false).ok());
  const Json info_json = Json::parse(info.str());
  CHECK(info_json["encryption"] == "aes-256-gcm");
  CHECK(info_json["key_id"].is_number());
  CHECK(*DumpRecorderVerify(uri, key, verified, false));
  CHECK(Json::parse(verified.str())["events"] == Sample().size());
  CHECK(DumpRecorderVerify(uri, Base64Encode(std::string(32, 'w')), wrong, false)
            .status()
            .IsInvalidArgument());
}
#endif

TEST_CASE("a URI's password is left out of what esdump prints") {
  CHECK(WithoutPassword("postgresql://shop:s3cret@db:5432/shop?schema=x") ==
        "postgresql://shop@db:5432/shop?schema=x");
  CHECK(WithoutPassword("postgresql://shop@db/shop") == "postgresql://shop@db/shop");
  CHECK(WithoutPassword("postgresql://db:5432/shop?user=a@b") ==
        "postgresql://db:5432/shop?user=a@b");
  CHECK(WithoutPassword("sqlite:/tmp/a:b@c") == "sqlite:/tmp/a:b@c");
}

TEST_CASE("esload: tracking records, alone or with a request's events") {
  MemStore m;
  auto store = m.Open();
  const std::string input =
      R"({"tracking":{"application":"up","notification_id":5}})"
      "\n"
      R"({"events":[{"type":"A"}],"tracking":{"application":"up","notification_id":6}})"
      "\n"
      R"({"events":[{"type":"B"}],"tracking":{"application":"up","notification_id":6}})"
      "\n"
      R"({"tracking":{"application":"up"}})"
      "\n"
      R"({"tracking":{"application":"up","notification_id":7,"extra":1}})"
      "\n";
  const auto [results, summary, errors] = LoadWithResults(*store, input);
  REQUIRE(results.size() == 5);
  CHECK(results[0] == Json::parse(R"({"ok":true,"position":null})"));
  CHECK(results[1] == Json::parse(R"({"ok":true,"position":1})"));
  CHECK(results[2]["error"] == "integrity_error");  // 6 is taken: its event is not written
  CHECK(results[3]["error"] == "invalid_line");
  CHECK(results[4]["error"] == "invalid_line");
  CHECK(*store->Head() == 1);
  CHECK(*store->MaxTrackingId("up") == 6);
}

TEST_CASE("esload: requests with conditions, results, bad lines") {
  MemStore m;
  auto store = m.Open();
  const std::string input =
      R"({"type":"A","tags":["x"],"data":"one"})"
      "\n\n"
      R"({"events":[{"type":"B","tags":["x"]},{"type":"C"}],"condition":{"query":[{"tags":["x"]}],"after":1}})"
      "\n"
      R"({"events":[{"type":"D"}],"condition":{"query":[{"tags":["x"]}],"after":null}})"
      "\n"
      "not json\n"
      R"({"type":"S","stream":"s","version":1})"
      "\n"
      R"({"type":"S","stream":"s","version":1})"
      "\n"
      R"({"events":[],"condition":null})"
      "\n";
  const auto [results, summary, errors] = LoadWithResults(*store, input);
  REQUIRE(results.size() == 7);
  CHECK(results[0] == Json::parse(R"({"ok":true,"position":1})"));
  CHECK(results[1] == Json::parse(R"({"ok":true,"position":3})"));
  CHECK(results[2]["error"] == "condition_failed");
  CHECK(results[3]["error"] == "invalid_line");
  CHECK(results[3]["line"] == 5);
  CHECK(results[4] == Json::parse(R"({"ok":true,"position":4})"));
  CHECK(results[5]["error"] == "integrity_error");
  CHECK(results[6]["error"] == "invalid_line");
  CHECK(summary.lines == 7);
  CHECK(summary.appended == 3);
  CHECK(summary.invalid == 2);
  CHECK(summary.failed == 2);
  CHECK(errors.find("line 5:") != std::string::npos);
  CHECK(*store->Head() == 4);  // nothing from the bad lines

  std::istringstream again(input);
  LoadSummary stopped;
  std::ostringstream ignored;
  REQUIRE(LoadLines(*store, again, {.stop_on_error = true}, ignored, ignored, &stopped).ok());
  CHECK(stopped.stopped);
  CHECK(stopped.lines == 2);  // the first line is appended again; the second now fails
}

TEST_CASE("esload: unconditional lines appended in batches get the positions they would alone") {
  MemStore m;
  auto store = m.Open();
  std::string input;
  for (int i = 0; i < 2500; ++i) {
    input += i % 7 == 3 ? R"({"events":[{"type":"Pair"},{"type":"Pair"}]})"
                        : R"({"type":"One","tags":["t"]})";
    input += '\n';
  }
  const auto [results, summary, errors] = LoadWithResults(*store, input);
  REQUIRE(results.size() == 2500);
  std::int64_t position = 0;
  for (int i = 0; i < 2500; ++i) {
    position += i % 7 == 3 ? 2 : 1;
    CHECK(results[i]["position"] == position);
  }
  CHECK(*store->Head() == position);
  CHECK(summary.events == static_cast<std::uint64_t>(position));
}

TEST_CASE("esdump verify: clean, then each kind of damage is found and located") {
  MemStore m;
  m.options.segment_events = 64;
  m.options.max_write_events = 16;
  m.options.segment_bytes = 64 * 1024;
  m.options.max_write_bytes = 32 * 1024;
  m.options.checkpoint_interval_events = 0;
  {
    auto writer = m.Open();
    std::vector<Event> batch(10, Event{.type = "T", .data = "payload", .tags = {"t"}});
    for (int i = 0; i < 20; ++i) REQUIRE(writer->Append(batch, std::nullopt).ok());
  }
  {  // an open and close with checkpoints on writes one

    Options with_checkpoints = m.options;
    with_checkpoints.checkpoint_interval_events = 1'000'000;
    auto store = Store::Open(with_checkpoints, kDir);
    REQUIRE(store.ok());
  }
  VerifyReport clean = m.Verify();
  CHECK_MESSAGE(clean.clean(), (clean.problems.empty() ? "" : clean.problems[0].message));
  CHECK(clean.events == 200);
  CHECK(clean.segments == 4);
  CHECK(clean.index_entries == 200);
  CHECK(clean.checkpoints == 1);

  const auto patch = [&](const std::string& name, std::uint64_t offset, const std::string& bytes) {
    auto file = m.env->OpenFile(std::string(kDir) + "/" + name, {.create = true});
    REQUIRE(file.ok());
    REQUIRE((*file)->Write(offset, bytes).ok());
  };
  auto children = m.env->GetChildren(kDir);
  REQUIRE(children.ok());
  std::string checkpoint;
  std::vector<std::string> indexes;
  for (const std::string& name : *children) {
    if (name.size() > 5 && name.substr(name.size() - 5) == ".ckpt") checkpoint = name;
    if (name.size() > 5 && name.substr(name.size() - 5) == ".pidx") indexes.push_back(name);
  }
  std::sort(indexes.begin(), indexes.end());
  REQUIRE_FALSE(checkpoint.empty());
  REQUIRE(indexes.size() == 4);

  SUBCASE("a position index entry") {
    patch(indexes[1], 4096 + 8 * 3, std::string("\x10\x10\x10\x10", 4));
    VerifyReport report = m.Verify();
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].file == indexes[1]);
    CHECK(report.problems[0].offset == 4096 + 8 * 3);
  }
  SUBCASE("a checkpoint") {
    patch(checkpoint, 300, "\x42");
    VerifyReport report = m.Verify();
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].file == checkpoint);
  }
  SUBCASE("a frame") {
    patch("00000000000000000001.seg", 4096 + 100, "\x42");
    VerifyReport report = m.Verify();
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].file == "00000000000000000001.seg");
    CHECK(report.problems[0].offset == 4096);
    CHECK(report.problems[0].message.find("positions 1..10 are unreadable") != std::string::npos);
    CHECK(report.events == 190);
  }
  SUBCASE("a stray file") {
    patch("notes.txt", 0, "hello");
    VerifyReport report = m.Verify();
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0].file == "notes.txt");
  }
}

TEST_CASE(
    "esdump verify (the binary): each damage with its file and offset; a torn tail is clean") {
  testing::TempDir dir;
  Env* env = Env::Default();
  // Segments from 1, 61, 121 and 181, each with its position index; no checkpoint.
  const Options written = testing::WriteSegmentedStore(env, dir.path());
  const auto frames = [&](const std::string& segment) {
    return testing::FrameOffsets(testing::ReadFile(env, dir.path() + "/" + segment));
  };
  const std::string first = "00000000000000000001.seg";
  const std::string third = "00000000000000000121.seg";
  const std::string last = "00000000000000000181.seg";

  SUBCASE("a flipped bit in the first segment and one in the third: both reported") {
    const std::uint64_t damaged_first = frames(first)[2];
    const std::uint64_t damaged_third = frames(third)[4];
    testing::FlipBit(env, dir.path() + "/" + first, damaged_first + 100);
    testing::FlipBit(env, dir.path() + "/" + third, damaged_third + 100);
    Ran ran = RunEsdump(dir.path() + " verify");
    CHECK(ran.status == 1);
    REQUIRE(ran.lines.size() == 3);
    CHECK(ran.lines[0]["file"] == first);
    CHECK(ran.lines[0]["offset"] == damaged_first);
    CHECK(ran.lines[0]["problem"].get<std::string>().find("positions 21..30 are unreadable") !=
          std::string::npos);
    CHECK(ran.lines[1]["file"] == third);
    CHECK(ran.lines[1]["offset"] == damaged_third);
    CHECK(ran.lines[1]["problem"].get<std::string>().find("positions 161..170 are unreadable") !=
          std::string::npos);
    CHECK(ran.lines[2]["clean"] == false);
    CHECK(ran.lines[2]["problems"] == 2);
    CHECK(ran.lines[2]["segments"] == 4);
    CHECK(ran.lines[2]["events"] == 180);
    CHECK(ran.lines[2]["index_entries"] == 180);
  }
  SUBCASE("a torn tail alone: clean") {
    testing::ForgetDurablePosition(env, dir.path());  // as a crash, not a clean close, leaves it
    testing::FlipBit(env, dir.path() + "/" + last, frames(last).back() + 100);
    Ran ran = RunEsdump(dir.path() + " verify");
    CHECK(ran.status == 0);
    REQUIRE(ran.lines.size() == 1);
    CHECK(ran.lines[0]["clean"] == true);
    CHECK(ran.lines[0]["events"] == 190);
    CHECK(ran.lines[0]["torn_bytes"] > 0);
  }
  SUBCASE("a damaged position index entry") {
    const std::string index = "00000000000000000061.pidx";
    const std::uint64_t entry = 4096 + 8 * 3;  // after the header: position 64's (frame, entry)
    testing::FlipBit(env, dir.path() + "/" + index, entry);
    Ran ran = RunEsdump(dir.path() + " verify");
    CHECK(ran.status == 1);
    REQUIRE(ran.lines.size() == 2);
    CHECK(ran.lines[0]["file"] == index);
    CHECK(ran.lines[0]["offset"] == entry);
    CHECK(ran.lines[0]["problem"].get<std::string>().find("entry of position 64") !=
          std::string::npos);
    CHECK(ran.lines[1]["problems"] == 1);
  }
  SUBCASE("a damaged checkpoint") {
    {  // an open and close with checkpoints on writes one
      Options with_checkpoints = written;
      with_checkpoints.checkpoint_interval_events = 1'000'000;
      REQUIRE(Store::Open(with_checkpoints, dir.path()).ok());
    }
    const std::string checkpoint = "00000000000000000200.ckpt";
    Ran clean = RunEsdump(dir.path() + " verify");
    CHECK(clean.status == 0);
    REQUIRE(clean.lines.size() == 1);
    CHECK(clean.lines[0]["checkpoints"] == 1);

    testing::FlipBit(env, dir.path() + "/" + checkpoint, 300);
    Ran ran = RunEsdump(dir.path() + " verify");
    CHECK(ran.status == 1);
    REQUIRE(ran.lines.size() == 2);
    CHECK(ran.lines[0]["file"] == checkpoint);
    // One checksum covers the checkpoint's records: the damage is the file's, at no one offset.
    CHECK(ran.lines[0]["offset"].is_null());
    CHECK(ran.lines[0]["problem"].get<std::string>().find("Open would pass it over") !=
          std::string::npos);
    CHECK(ran.lines[1]["problems"] == 1);
  }
}

}  // namespace
}  // namespace es::tools
