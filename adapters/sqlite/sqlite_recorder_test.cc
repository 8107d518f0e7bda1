// What the conformance suite cannot see of the SQLite recorder: configuration, the schema as
// other SQLite tools see it, locking between connections, damaged files, waking on writes made
// through another connection, and VerifySqlite / InspectSqlite (esdump's verify and info). Every
// recorder behaviour itself is in tests/conformance.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "engine/testing/recorder_verify_checks.h"
#include "engine/testing/test_dir.h"
#include "es/encryption.h"
#include "es/sqlite.h"
#include "es/sqlite_inspect.h"
#include "es/sqlite_verify.h"

namespace es {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<Recorder> OpenOk(const SqliteOptions& options) {
  auto recorder = OpenSqliteRecorder(options);
  REQUIRE_MESSAGE(recorder.ok(), recorder.status().ToString());
  return std::move(recorder).value();
}

SqliteOptions FileOptions(const testing::TempDir& dir) {
  SqliteOptions options;
  options.dbname = dir.path() + "/events.sqlite";
  return options;
}

std::int64_t AppendOk(Recorder& recorder, const std::string& tag) {
  std::vector<Event> events = {testing::MakeEvent("Happened", {tag}, "data of " + tag)};
  auto position = recorder.Append(events, std::nullopt);
  REQUIRE_MESSAGE(position.ok(), position.status().ToString());
  return *position;
}

// A plain SQLite connection, as another tool or process would have.
class RawConnection {
 public:
  explicit RawConnection(const std::string& dbname) {
    REQUIRE(sqlite3_open_v2(dbname.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI,
                            nullptr) == SQLITE_OK);
  }
  ~RawConnection() { sqlite3_close(db_); }

  void Execute(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error != nullptr ? error : "";
    sqlite3_free(error);
    REQUIRE_MESSAGE(rc == SQLITE_OK, sql << ": " << message);
  }

  // The first column of every row of `sql`, as text.
  std::vector<std::string> Column(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    std::vector<std::string> values;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      values.emplace_back(text != nullptr ? text : "NULL");
    }
    sqlite3_finalize(stmt);
    return values;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Sets an environment variable for the life of the object.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name_.c_str()); }

 private:
  std::string name_;
};

TEST_CASE("sqlite: options from a store URI") {
  auto options = SqliteOptionsFromUri("sqlite:/var/lib/app/events.sqlite");
  REQUIRE(options.ok());
  CHECK(options->dbname == "/var/lib/app/events.sqlite");
  CHECK(options->lock_timeout == milliseconds(5000));
  auto memory = SqliteOptionsFromUri("sqlite::memory:");
  REQUIRE(memory.ok());
  CHECK(memory->dbname == ":memory:");
  CHECK(SqliteOptionsFromUri("sqlite:").status().IsInvalidArgument());
  CHECK(SqliteOptionsFromUri("postgresql://localhost/db").status().IsInvalidArgument());
}

TEST_CASE("sqlite: options from the environment, per application first") {
  CHECK(SqliteOptionsFromEnvironment().status().IsInvalidArgument());  // SQLITE_DBNAME unset

  ScopedEnv dbname("SQLITE_DBNAME", "/tmp/shared.sqlite");
  ScopedEnv timeout("SQLITE_LOCK_TIMEOUT", "7");
  auto plain = SqliteOptionsFromEnvironment();
  REQUIRE(plain.ok());
  CHECK(plain->dbname == "/tmp/shared.sqlite");
  CHECK(plain->lock_timeout == std::chrono::seconds(7));
  CHECK(plain->create_table);

  ScopedEnv own("ORDERS_SQLITE_DBNAME", "/tmp/orders.sqlite");
  ScopedEnv create("ORDERS_CREATE_TABLE", "no");
  ScopedEnv compressor("ORDERS_COMPRESSOR_TOPIC", "zstd:7");
  auto orders = SqliteOptionsFromEnvironment("orders");
  REQUIRE(orders.ok());
  CHECK(orders->dbname == "/tmp/orders.sqlite");
  CHECK(orders->application_name == "orders");
  CHECK(orders->lock_timeout == std::chrono::seconds(7));  // the plain name as fallback
  CHECK_FALSE(orders->create_table);
  CHECK(orders->compression == Compression::kZstd);
  CHECK(orders->compression_level == 7);
  CHECK(plain->compression == Compression::kNone);

  {
    ScopedEnv bad("ORDERS_CREATE_TABLE", "maybe");
    Status status = SqliteOptionsFromEnvironment("orders").status();
    CHECK(status.IsInvalidArgument());
    CHECK(status.ToString().find("ORDERS_CREATE_TABLE") != std::string::npos);
  }
  {
    ScopedEnv bad("SQLITE_LOCK_TIMEOUT", "5s");
    CHECK(SqliteOptionsFromEnvironment().status().IsInvalidArgument());
  }
}

TEST_CASE("sqlite: bad options are refused before anything is opened") {
  testing::TempDir dir;
  SqliteOptions options = FileOptions(dir);
  options.application_name = "bad-name";
  CHECK(OpenSqliteRecorder(options).status().IsInvalidArgument());
  options.application_name = "";
  options.poll_interval = milliseconds(0);
  CHECK(OpenSqliteRecorder(options).status().IsInvalidArgument());
  options.poll_interval = milliseconds(100);
  options.dbname = "";
  CHECK(OpenSqliteRecorder(options).status().IsInvalidArgument());
}

TEST_CASE("sqlite: the schema is plain tables other tools can read, in WAL mode") {
  testing::TempDir dir;
  SqliteOptions options = FileOptions(dir);
  {
    auto recorder = OpenOk(options);
    std::vector<Event> events = {
        testing::MakeEvent("Opened", {"account:1", "account:1", "x"}, "{}")};
    events[0].stream = StreamVersion{"account-1", 1};
    REQUIRE(recorder->Append(events, std::nullopt).ok());
  }
  RawConnection raw(options.dbname);
  CHECK(raw.Column("PRAGMA journal_mode") == std::vector<std::string>{"wal"});
  CHECK(raw.Column("SELECT type || ' ' || data || ' ' || stream_id || ' ' || stream_version "
                   "FROM es_events") == std::vector<std::string>{"Opened {} account-1 1"});
  // Each distinct tag once, for the (tag, position) index.
  CHECK(raw.Column("SELECT tag || '@' || position FROM es_tags ORDER BY tag") ==
        std::vector<std::string>{"account:1@1", "x@1"});
}

TEST_CASE("sqlite: applications share a file through their own tables") {
  testing::TempDir dir;
  SqliteOptions orders = FileOptions(dir);
  orders.application_name = "Orders";
  SqliteOptions invoices = FileOptions(dir);
  invoices.application_name = "invoices";
  auto orders_recorder = OpenOk(orders);
  auto invoices_recorder = OpenOk(invoices);
  CHECK(AppendOk(*orders_recorder, "a") == 1);
  CHECK(AppendOk(*orders_recorder, "b") == 2);
  CHECK(AppendOk(*invoices_recorder, "c") == 1);
  CHECK(*orders_recorder->Head() == std::optional<std::int64_t>(2));
  CHECK(*invoices_recorder->Head() == std::optional<std::int64_t>(1));
  RawConnection raw(orders.dbname);
  CHECK(raw.Column("SELECT count(*) FROM orders_events") == std::vector<std::string>{"2"});
  CHECK(raw.Column("SELECT count(*) FROM invoices_events") == std::vector<std::string>{"1"});
}

TEST_CASE("sqlite: without create_table, missing tables are an error") {
  testing::TempDir dir;
  SqliteOptions options = FileOptions(dir);
  options.create_table = false;
  Status status = OpenSqliteRecorder(options).status();
  CHECK(status.IsNotFound());
  CHECK(status.ToString().find("es_events") != std::string::npos);
  options.create_table = true;
  OpenOk(options);
  options.create_table = false;
  OpenOk(options);  // now they exist
}

TEST_CASE("sqlite: a write blocked by another connection's lock fails after the timeout") {
  testing::TempDir dir;
  SqliteOptions options = FileOptions(dir);
  options.lock_timeout = milliseconds(200);
  auto recorder = OpenOk(options);
  AppendOk(*recorder, "before");

  RawConnection other(options.dbname);
  other.Execute("BEGIN IMMEDIATE");
  const auto start = std::chrono::steady_clock::now();
  std::vector<Event> events = {testing::MakeEvent("Blocked", {"t"})};
  Status status = recorder->Append(events, std::nullopt).status();
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(status.IsLocked());
  CHECK(status.ToString().find("200 ms") != std::string::npos);
  CHECK(waited >= milliseconds(150));
  // Reads go on beside the lock (WAL), and the failed write left nothing.
  CHECK(*recorder->Head() == std::optional<std::int64_t>(1));
  other.Execute("COMMIT");
  CHECK(AppendOk(*recorder, "after") == 2);
}

TEST_CASE("sqlite: a file that is not a database is refused as corrupt, and left as it was") {
  testing::TempDir dir;
  SqliteOptions options = FileOptions(dir);
  const std::string garbage(8192, 'x');
  std::ofstream(options.dbname, std::ios::binary) << garbage;
  Status status = OpenSqliteRecorder(options).status();
  CHECK(status.IsCorruption());
  CHECK(status.ToString().find(options.dbname) != std::string::npos);
  std::ifstream in(options.dbname, std::ios::binary);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == garbage);
}

TEST_CASE("sqlite: a damaged page is reported as corruption by the read that meets it") {
  testing::TempDir dir;
  SqliteOptions options = FileOptions(dir);
  {
    auto recorder = OpenOk(options);
    for (int i = 0; i < 200; ++i) AppendOk(*recorder, "tag-" + std::to_string(i));
  }  // the last connection to close checkpoints the WAL into the file
  const auto size = std::filesystem::file_size(options.dbname);
  REQUIRE(size > 8 * 4096);
  {
    // Every page but the first (the header and schema) overwritten with noise.
    std::fstream file(options.dbname, std::ios::binary | std::ios::in | std::ios::out);
    std::string noise(size - 4096, '\x5a');
    file.seekp(4096);
    file.write(noise.data(), static_cast<std::streamsize>(noise.size()));
  }
  auto recorder = OpenSqliteRecorder(options);
  Status status = recorder.ok() ? (*recorder)->Read(Query{}, {}).status() : recorder.status();
  CHECK_MESSAGE(status.IsCorruption(), status.ToString());
}

TEST_CASE("sqlite: writes through another connection wake subscriptions and waits") {
  testing::TempDir dir;
  SqliteOptions options = FileOptions(dir);
  options.poll_interval = milliseconds(10);
  auto watcher = OpenOk(options);
  auto writer = OpenOk(options);

  auto subscription = watcher->Subscribe(Query{}, std::nullopt);
  REQUIRE(subscription.ok());
  CHECK((*subscription)->Next(milliseconds(50)).status().IsTimeout());
  std::thread append([&] {
    std::this_thread::sleep_for(milliseconds(30));
    AppendOk(*writer, "from-elsewhere");
  });
  // The subscription blocks for at most its timeout: waking it is the poller's work.
  auto event = (*subscription)->Next(milliseconds(5000));
  append.join();
  REQUIRE_MESSAGE(event.ok(), event.status().ToString());
  CHECK(event->event.tags == std::vector<std::string>{"from-elsewhere"});

  std::thread track([&] {
    std::this_thread::sleep_for(milliseconds(30));
    REQUIRE(writer->InsertTracking(Tracking{"downstream", 7}).ok());
  });
  CHECK(watcher->Wait("downstream", 7, milliseconds(5000)).ok());
  track.join();
}

TEST_CASE("sqlite: shared-cache in-memory databases are shared by name, and only by name") {
  SqliteOptions first;
  first.dbname = "file:es-test-shared?mode=memory&cache=shared";
  SqliteOptions other;
  other.dbname = "file:es-test-other?mode=memory&cache=shared";
  auto a = OpenOk(first);
  auto b = OpenOk(first);
  auto c = OpenOk(other);
  AppendOk(*a, "one");
  AppendOk(*b, "two");
  CHECK(*a->Head() == std::optional<std::int64_t>(2));
  CHECK(*c->Head() == std::optional<std::int64_t>());

  // Concurrent use of one name is serialised, never refused.
  std::vector<std::thread> threads;
  for (Recorder* recorder : {a.get(), b.get()}) {
    threads.emplace_back([recorder] {
      for (int i = 0; i < 50; ++i) {
        AppendOk(*recorder, "many");
        REQUIRE(recorder->Read(Query{}, {}).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(*a->Head() == std::optional<std::int64_t>(102));
}

TEST_CASE("sqlite: compressed event data, marked per row, read back whatever the options") {
  testing::TempDir dir;
  SqliteOptions options = FileOptions(dir);
  options.compression = Compression::kZstd;
  std::string repetitive;
  while (repetitive.size() < 4096) repetitive += R"({"course":"course-7","places":10},)";
  std::vector<Event> events = {testing::MakeEvent("Big", {"t"}, repetitive),
                               testing::MakeEvent("Small", {"t"}, "{}")};
  events[0].metadata = {{"k", "v"}};
  {
    auto recorder = OpenOk(options);
    REQUIRE(recorder->Append(events, std::nullopt).ok());
  }
  RawConnection raw(options.dbname);
  CHECK(raw.Column("SELECT data_codec || ' ' || length(data) FROM es_events ORDER BY position")
            .front()
            .starts_with("1 "));
  CHECK(raw.Column("SELECT data_codec FROM es_events ORDER BY position").back() == "0");
  options.compression = Compression::kNone;
  auto recorder = OpenOk(options);
  auto read = recorder->Read(Query{}, {});
  REQUIRE(read.ok());
  REQUIRE(read->events.size() == 2);
  CHECK(read->events[0].event == events[0]);
  CHECK(read->events[1].event == events[1]);

  // A damaged compressed payload is corruption at the read that meets it.
  raw.Execute("UPDATE es_events SET data = x'28b52ffd0000' WHERE position = 1");
  CHECK(recorder->Read(Query{}, {}).status().IsCorruption());
}

TEST_CASE("sqlite: encrypted data and metadata, after compression; keys checked at open") {
  testing::TempDir dir;
  SqliteOptions options = FileOptions(dir);
  options.compression = Compression::kZstd;
  options.key_provider = FixedKeyProvider(std::string(32, 'k'));
  std::string secret;
  while (secret.size() < 4096) secret += R"({"secret-course":"course-7","places":10},)";
  std::vector<Event> events = {testing::MakeEvent("Big", {"t"}, secret),
                               testing::MakeEvent("Small", {"t"}, "secret-small"),
                               testing::MakeEvent("Empty", {"t"}, "")};
  events[0].metadata = {{"secret-key", "secret-value"}};
  {
    auto recorder = OpenOk(options);
    REQUIRE(recorder->Append(events, std::nullopt).ok());
  }
  RawConnection raw(options.dbname);
  CHECK(raw.Column("SELECT data_codec FROM es_events ORDER BY position") ==
        std::vector<std::string>{"3", "2", "2"});
  CHECK(raw.Column("SELECT count(*) FROM es_events WHERE instr(data, 'secret') > 0 OR "
                   "instr(metadata, 'secret') > 0") == std::vector<std::string>{"0"});
  CHECK(raw.Column("SELECT value != 0 FROM es_meta WHERE name = 'key_id'") ==
        std::vector<std::string>{"1"});
  {
    options.compression = Compression::kNone;
    auto recorder = OpenOk(options);
    auto read = recorder->Read(Query{}, {});
    REQUIRE_MESSAGE(read.ok(), read.status().ToString());
    REQUIRE(read->events.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(read->events[i].event == events[i]);
  }

  const auto refused = [&](SqliteOptions o, const char* says) {
    Result<std::unique_ptr<Recorder>> recorder = OpenSqliteRecorder(o);
    REQUIRE_FALSE(recorder.ok());
    CHECK(recorder.status().IsInvalidArgument());
    CHECK_MESSAGE(recorder.status().message().find(says) != std::string::npos,
                  recorder.status().ToString());
  };
  SqliteOptions wrong = options;
  wrong.key_provider = FixedKeyProvider(std::string(32, 'w'));
  refused(wrong, "wrong key");
  SqliteOptions no_key = options;
  no_key.key_provider = nullptr;
  refused(no_key, "are encrypted");
  SqliteOptions plain = FileOptions(dir);
  plain.application_name = "plain";
  REQUIRE(OpenOk(plain)->Append(events, std::nullopt).ok());
  SqliteOptions keyed_plain = plain;
  keyed_plain.key_provider = options.key_provider;
  refused(keyed_plain, "not encrypted");

  // A changed byte, or a value moved to another row, does not authenticate.
  auto recorder = OpenOk(options);
  raw.Execute(
      "UPDATE es_events SET data = (SELECT data FROM es_events WHERE position = 3) "
      "WHERE position = 2");
  CHECK(recorder->Read(Query{}, {}).status().IsCorruption());
  raw.Execute("UPDATE es_events SET data = x'00' || substr(data, 2) WHERE position = 2");
  CHECK(recorder->Read(Query{}, {}).status().IsCorruption());
}

TEST_CASE("sqlite: a recorder without a key writes nothing once another open records one") {
  testing::TempDir dir;
  SqliteOptions plain = FileOptions(dir);
  SqliteOptions keyed = plain;
  keyed.key_provider = FixedKeyProvider(std::string(32, 'k'));
  const std::vector<Event> events = {testing::MakeEvent("Secret", {"t"}, "secret-data")};

  // Both open the empty tables; the keyed open records its key, then the plain recorder's write
  // (a tracking record alone too) is refused, and nothing plain reaches the tables.
  auto unkeyed = OpenOk(plain);
  auto encrypted = OpenOk(keyed);
  Result<std::int64_t> refused = unkeyed->Append(events, std::nullopt);
  CHECK(refused.status().IsInvalidArgument());
  CHECK_MESSAGE(refused.status().message().find("record key id") != std::string::npos,
                refused.status().ToString());
  const Tracking tracking{"app", 1};
  CHECK(unkeyed->Write(AppendRequest{.tracking = &tracking}).status().IsInvalidArgument());
  REQUIRE(encrypted->Append(events, std::nullopt).ok());
  CHECK(unkeyed->Append(events, std::nullopt).status().IsInvalidArgument());
  RawConnection raw(plain.dbname);
  CHECK(raw.Column("SELECT data_codec FROM es_events") == std::vector<std::string>{"2"});

  // Once a plain recorder's events are in, no key can be recorded: its writes go on unchecked.
  plain.application_name = keyed.application_name = "other";
  auto first = OpenOk(plain);
  REQUIRE(first->Append(events, std::nullopt).ok());
  CHECK_FALSE(OpenSqliteRecorder(keyed).ok());
  CHECK(first->Append(events, std::nullopt).ok());
}

TEST_CASE("sqlite: per-write durability switches the commit's sync mode") {
  testing::TempDir dir;
  auto recorder = OpenOk(FileOptions(dir));
  std::vector<Event> events = {testing::MakeEvent("Fast", {"t"})};
  AppendRequest request;
  request.events = events;
  request.options.durability = Durability::kNone;
  CHECK(*recorder->Write(request) == 1);
  request.options.durability = Durability::kSync;
  CHECK(*recorder->Write(request) == 2);
  CHECK(recorder->Read(Query{}, {})->events.size() == 2);
}

// A database of the recorder with what verify walks: streams, tags (one repeated), metadata,
// compressed data, uuids and tracking records; encrypted with `key` when given.
SqliteOptions VerifiableStore(const testing::TempDir& dir, std::shared_ptr<KeyProvider> key) {
  SqliteOptions options = FileOptions(dir);
  options.compression = Compression::kZstd;
  options.key_provider = std::move(key);
  auto recorder = OpenOk(options);
  std::string big;
  while (big.size() < 2048) big += R"({"course":"course-7","places":10},)";
  for (int i = 0; i < 10; ++i) {
    std::vector<Event> events = {
        testing::MakeEvent("Opened", {"a:" + std::to_string(i), "b", "b"}, big),
        testing::MakeEvent("Noted", {}, "small " + std::to_string(i))};
    events[0].stream = StreamVersion{"stream-" + std::to_string(i % 3), i / 3 + 1};
    events[1].metadata = {{"k", "v" + std::to_string(i)}};
    events[1].uuid.emplace();
    events[1].uuid->fill(static_cast<std::uint8_t>(i + 1));
    REQUIRE(recorder->Append(events, std::nullopt).ok());
  }
  REQUIRE(recorder->InsertTracking(Tracking{"upstream", 7}).ok());
  REQUIRE(recorder->InsertTracking(Tracking{"other", 3}).ok());
  return options;
}

RecorderVerifyReport VerifyOk(const SqliteOptions& options) {
  Result<RecorderVerifyReport> report = VerifySqlite(options);
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  return std::move(report).value();
}

std::string FileContent(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The names and contents of the files in `dir`.
std::map<std::string, std::string> DirContent(const testing::TempDir& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    files[entry.path().filename()] = FileContent(entry.path());
  }
  return files;
}

TEST_CASE("sqlite: a read-only open reads everything and writes nothing, keys checked") {
  for (const bool encrypted : {false, true}) {
    CAPTURE(encrypted);
    testing::TempDir dir;
    const std::shared_ptr<KeyProvider> key =
        encrypted ? FixedKeyProvider(std::string(32, 'k')) : nullptr;
    SqliteOptions options = VerifiableStore(dir, key);
    const auto before = DirContent(dir);
    options.read_only = true;
    {
      auto recorder = OpenOk(options);
      Result<ReadResult> all = recorder->Read(Query{}, {});
      REQUIRE(all.ok());
      CHECK(all->events.size() == 20);
      CHECK(all->events[0].event.data.size() >= 2048);
      CHECK(all->events[1].event.metadata == std::map<std::string, std::string>{{"k", "v0"}});
      CHECK(recorder->TrackingRecords()->size() == 2);
      CHECK(recorder->ReadStream("stream-0", {})->size() == 4);
      CHECK(recorder->Append(std::vector<Event>{testing::MakeEvent("T", {})}, std::nullopt)
                .status()
                .IsNotSupported());
      CHECK(recorder->InsertTracking(Tracking{"upstream", 8}).IsNotSupported());
    }
    SqliteOptions no_key = options;
    no_key.key_provider = encrypted ? nullptr : FixedKeyProvider(std::string(32, 'k'));
    CHECK(OpenSqliteRecorder(no_key).status().IsInvalidArgument());
    SqliteOptions wrong_key = options;
    wrong_key.key_provider = FixedKeyProvider(std::string(32, 'w'));
    CHECK(OpenSqliteRecorder(wrong_key).status().IsInvalidArgument());
    // The database is as it was. Like any reader of a WAL database, SQLite has made the -shm
    // file of the shared index and an empty -wal (a writer would have had them anyway).
    auto after = DirContent(dir);
    CHECK(after.erase("events.sqlite-shm") == 1);
    CHECK(after["events.sqlite-wal"].empty());
    after.erase("events.sqlite-wal");
    CHECK(after == before);
  }
  // Tables that are not there are not made.
  testing::TempDir dir;
  SqliteOptions options = FileOptions(dir);
  options.application_name = "other";
  OpenOk(options);
  options.application_name.clear();
  const auto before = DirContent(dir);
  options.read_only = true;
  CHECK(OpenSqliteRecorder(options).status().IsNotFound());
  CHECK(FileContent(options.dbname) == before.at("events.sqlite"));
  options.dbname = ":memory:";
  CHECK(OpenSqliteRecorder(options).status().IsInvalidArgument());
}

TEST_CASE("sqlite verify: a clean database is clean, and verify and info leave it as it was") {
  testing::TempDir dir;
  const SqliteOptions options = VerifiableStore(dir, nullptr);
  const std::string before = FileContent(options.dbname);
  RecorderVerifyReport report = VerifyOk(options);
  CHECK(report.clean());
  CHECK(report.events == 20);
  CHECK(report.tag_rows == 20);  // a:i and b, once each, on 10 events
  CHECK(report.tracking_records == 2);

  Result<SqliteInfo> info = InspectSqlite(options);
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  CHECK(info->table_prefix == "es");
  CHECK(info->head == std::optional<std::int64_t>(20));
  CHECK(info->streams == 3);
  CHECK(info->tracking_records == 2);
  CHECK_FALSE(info->key_id);
  CHECK(info->journal_mode == "wal");
  CHECK(info->page_size * info->page_count > 0);
  CHECK(info->file_bytes == std::optional<std::uint64_t>(before.size()));
  CHECK(FileContent(options.dbname) == before);

  SqliteOptions memory;
  memory.dbname = ":memory:";
  CHECK(VerifySqlite(memory).status().IsInvalidArgument());
  SqliteOptions missing = FileOptions(dir);
  missing.dbname += ".missing";
  CHECK_FALSE(VerifySqlite(missing).ok());
  CHECK_FALSE(std::filesystem::exists(missing.dbname));
}

TEST_CASE("sqlite verify: damaged rows, side tables and sequences are each reported") {
  testing::TempDir dir;
  const SqliteOptions options = VerifiableStore(dir, nullptr);
  RawConnection raw(options.dbname);
  // Compressed data whose zstd header is damaged (zstd frames carry no checksum here: a changed
  // byte further in may decompress to other data, unnoticed); an unknown codec bit; a bad tag
  // list; a uuid too short.
  raw.Execute("UPDATE es_events SET data = x'00' || substr(data, 2) WHERE position = 1");
  raw.Execute("UPDATE es_events SET data_codec = 8 WHERE position = 4");
  raw.Execute("UPDATE es_events SET tags = x'05' WHERE position = 5");
  raw.Execute("UPDATE es_events SET uuid = x'0102' WHERE position = 6");
  // A tag row gone, and one for no event.
  raw.Execute("DELETE FROM es_tags WHERE tag = 'a:3' AND position = 7");
  raw.Execute("INSERT INTO es_tags (tag, position) VALUES ('stray', 99)");
  // A stream version without its id, and one version held twice (past a dropped index).
  raw.Execute("UPDATE es_events SET stream_id = NULL WHERE position = 9");
  raw.Execute("DROP INDEX es_events_stream");
  raw.Execute(
      "UPDATE es_events SET stream_id = 'stream-0', stream_version = 1 WHERE position = 11");
  // A gap in the positions; a tracking id that is not a number; an empty type.
  raw.Execute("DELETE FROM es_events WHERE position = 14");
  raw.Execute("DELETE FROM es_tags WHERE position = 14");
  raw.Execute("UPDATE es_tracking SET notification_id = 'x' WHERE application_name = 'other'");
  raw.Execute("UPDATE es_events SET type = '' WHERE position = 16");

  RecorderVerifyReport report = VerifyOk(options);
  CHECK(testing::Reports(report, "es_events", 1, "event 1"));
  CHECK(testing::Reports(report, "es_events", 4, "unknown data_codec"));
  CHECK(testing::Reports(report, "es_events", 5, "tags"));
  CHECK(testing::Reports(report, "es_events", 6, "uuid"));
  CHECK(testing::Reports(report, "es_tags", 7,
                         "the tags table holds 'b' for the event, whose tags are"));
  CHECK(testing::Reports(report, "es_tags", 99, "tag 'stray' of no event"));
  CHECK(testing::Reports(report, "es_events", 9, "not both set"));
  CHECK(
      testing::Reports(report, "es_events", 11, "stream 'stream-0' version 1 is held by 2 events"));
  CHECK(testing::Reports(report, "es_events", 15, "positions 14 to 14 are missing"));
  CHECK(testing::Reports(report, "es_tracking", std::nullopt, "'other' is not an integer"));
  CHECK(testing::Reports(report, "es_events", 16, "type is empty"));
  CHECK(report.problems.size() == 11);
  CHECK(report.events == 19);
}

TEST_CASE("sqlite verify: sealed values authenticate with the key, and keep their shape without") {
  testing::TempDir dir;
  std::shared_ptr<KeyProvider> key = FixedKeyProvider(std::string(32, 'k'));
  SqliteOptions options = VerifiableStore(dir, key);
  CHECK(VerifyOk(options).clean());
  SqliteOptions without_key = options;
  without_key.key_provider = nullptr;
  CHECK(VerifyOk(without_key).clean());

  SqliteOptions wrong = options;
  wrong.key_provider = FixedKeyProvider(std::string(32, 'w'));
  Status refused = VerifySqlite(wrong).status();
  CHECK(refused.IsInvalidArgument());
  CHECK(refused.message().find("wrong key") != std::string::npos);
  testing::TempDir plain_dir;
  SqliteOptions plain = VerifiableStore(plain_dir, nullptr);
  plain.key_provider = key;
  CHECK(VerifySqlite(plain).status().IsInvalidArgument());

  RawConnection raw(options.dbname);
  // A changed byte of sealed data (past the nonce) and of sealed metadata: only the key finds
  // them. A sealed value too short for its nonce and tag is found without it.
  raw.Execute(
      "UPDATE es_events SET data = substr(data, 1, 20) || x'00' || substr(data, 22)"
      " WHERE position = 3");
  raw.Execute("UPDATE es_events SET metadata = x'00' || substr(metadata, 2) WHERE position = 4");
  raw.Execute("UPDATE es_events SET data = x'0102' WHERE position = 6");
  raw.Execute("UPDATE es_events SET data_codec = 1 WHERE position = 8");
  RecorderVerifyReport keyed = VerifyOk(options);
  CHECK(testing::Reports(keyed, "es_events", 3, "event 3 data"));
  CHECK(testing::Reports(keyed, "es_events", 4, "event 4 metadata"));
  CHECK(testing::Reports(keyed, "es_events", 6, "shorter than"));
  CHECK(testing::Reports(keyed, "es_events", 8, "not encrypted, and the tables record a key id"));
  RecorderVerifyReport unkeyed = VerifyOk(without_key);
  CHECK(testing::Reports(unkeyed, "es_events", 6, "shorter than"));
  CHECK(testing::Reports(unkeyed, "es_events", 8, "not encrypted"));
  for (const RecorderProblem& problem : unkeyed.problems) {
    CHECK((problem.position == 6 || problem.position == 8));
  }

  raw.Execute("UPDATE es_meta SET value = 0 WHERE name = 'key_id'");
  CHECK(testing::Reports(VerifyOk(without_key), "es_meta", std::nullopt, "is not a key id"));
}

TEST_CASE("sqlite verify: a damaged page fails integrity_check") {
  testing::TempDir dir;
  const SqliteOptions options = VerifiableStore(dir, nullptr);
  {
    auto recorder = OpenOk(options);
    for (int i = 0; i < 300; ++i) AppendOk(*recorder, "tag-" + std::to_string(i));
  }  // the last connection to close checkpoints the WAL into the file
  const auto size = std::filesystem::file_size(options.dbname);
  {
    // The middle of the second-to-last page: a B-tree page of the tags or an index.
    std::fstream file(options.dbname, std::ios::binary | std::ios::in | std::ios::out);
    const std::string noise(512, '\x5a');
    file.seekp(static_cast<std::streamoff>(size - 4096 - 2048));
    file.write(noise.data(), static_cast<std::streamsize>(noise.size()));
  }
  RecorderVerifyReport report = VerifyOk(options);
  REQUIRE_FALSE(report.clean());
  CHECK(report.problems.front().table.empty());
  CHECK(report.problems.front().message.find("integrity_check") != std::string::npos);
}

}  // namespace
}  // namespace es
