// Tests of what only the PostgreSQL recorder has: option parsing, the connection pool, session
// settings, several processes appending under conditions, notifications between recorders and a
// server restart in the middle of a run. The conformance suite covers the recorder interfaces.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/postgres/src/connection.h"
#include "adapters/postgres/src/pool.h"
#include "adapters/postgres/testing/throwaway_cluster.h"
#include "engine/testing/recorder_verify_checks.h"
#include "es/encryption.h"
#include "es/postgres.h"
#include "es/postgres_inspect.h"
#include "es/postgres_verify.h"

namespace es {
namespace {

using postgres::testing::ThrowawayCluster;
using postgres::testing::ThrowawaySchema;
using std::chrono::milliseconds;

// The shared cluster, or null (with a message) when the server binaries are missing and
// ES_REQUIRE_POSTGRES is not set; fails the test when the cluster must exist.
ThrowawayCluster* ClusterOrSkip() {
  Result<ThrowawayCluster*> cluster = ThrowawayCluster::Shared();
  if (!cluster.ok() && cluster.status().IsNotFound() &&
      !ThrowawayCluster::RequiredByEnvironment()) {
    std::cerr << "skipping: " << cluster.status().ToString() << "\n";
    return nullptr;
  }
  REQUIRE_MESSAGE(cluster.ok(), cluster.status().ToString());
  return *cluster;
}

std::unique_ptr<Recorder> OpenOrFail(const PostgresOptions& options) {
  auto recorder = OpenPostgresRecorder(options);
  REQUIRE_MESSAGE(recorder.ok(), recorder.status().ToString());
  return std::move(recorder).value();
}

Event Ev(std::string type, std::vector<std::string> tags) {
  Event event;
  event.type = std::move(type);
  event.tags = std::move(tags);
  return event;
}

std::vector<SequencedEvent> ReadAll(Recorder& recorder) {
  auto all = recorder.Read(Query{});
  REQUIRE_MESSAGE(all.ok(), all.status().ToString());
  return all->events;
}

void CheckGapFree(const std::vector<SequencedEvent>& events) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    REQUIRE(events[i].position == static_cast<std::int64_t>(i) + 1);
  }
}

// The tag value after "<prefix>:" on `event`, or empty.
std::string TagValue(const Event& event, const std::string& prefix) {
  for (const std::string& tag : event.tags) {
    if (tag.starts_with(prefix + ":")) return tag.substr(prefix.size() + 1);
  }
  return {};
}

TEST_CASE("postgres: options from a URI") {
  auto options = PostgresOptionsFromUri(
      "postgresql://alice:s%40cret@db.example:6543/shop?schema=sales&table_prefix=orders"
      "&create_table=no&pool_size=3&pool_max_overflow=0&pool_timeout=2.5&max_connection_age=60"
      "&pre_ping=yes&lock_timeout=1&idle_in_transaction_session_timeout=0&connect_timeout=7");
  REQUIRE_MESSAGE(options.ok(), options.status().ToString());
  CHECK(options->user == "alice");
  CHECK(options->password == "s@cret");
  CHECK(options->host == "db.example");
  CHECK(options->port == 6543);
  CHECK(options->dbname == "shop");
  CHECK(options->schema == "sales");
  CHECK(options->table_prefix == "orders");
  CHECK_FALSE(options->create_table);
  CHECK(options->pool_size == 3);
  CHECK(options->pool_max_overflow == 0);
  CHECK(options->pool_timeout == milliseconds(2500));
  CHECK(options->max_connection_age == std::chrono::seconds(60));
  CHECK(options->pre_ping);
  CHECK(options->lock_timeout == milliseconds(1000));
  CHECK(options->idle_in_transaction_session_timeout == milliseconds(0));
  CHECK(options->connect_timeout_s == 7);

  auto minimal = PostgresOptionsFromUri("postgres://localhost/db");
  REQUIRE(minimal.ok());
  CHECK(minimal->host == "localhost");
  CHECK(minimal->port == 5432);
  CHECK(minimal->user.empty());
  CHECK(minimal->create_table);

  CHECK(PostgresOptionsFromUri("mysql://h/db").status().IsInvalidArgument());
  CHECK(PostgresOptionsFromUri("postgresql://h/").status().IsInvalidArgument());
  CHECK(PostgresOptionsFromUri("postgresql://h/db?colour=red").status().IsInvalidArgument());
  CHECK(PostgresOptionsFromUri("postgresql://h/db?pre_ping=maybe").status().IsInvalidArgument());
  CHECK(PostgresOptionsFromUri("postgresql://h:port/db").status().IsInvalidArgument());
  CHECK(PostgresOptionsFromUri("postgresql://h/db%2").status().IsInvalidArgument());

  auto compressed =
      PostgresOptionsFromUri("postgresql://h/db?compression=zstd&compression_level=9");
  REQUIRE(compressed.ok());
  CHECK(compressed->compression == Compression::kZstd);
  CHECK(compressed->compression_level == 9);
  CHECK(compressed->key_provider == nullptr);
  CHECK(PostgresOptionsFromUri("postgresql://h/db?compression=lz4").status().IsInvalidArgument());
}

TEST_CASE("postgres: options from the environment, with per-application prefixes") {
  std::map<std::string, std::string> env = {
      {"POSTGRES_DBNAME", "shared"},
      {"POSTGRES_HOST", "db"},
      {"POSTGRES_PORT", "5433"},
      {"POSTGRES_USER", "es"},
      {"POSTGRES_PASSWORD", "pw"},
      {"POSTGRES_SCHEMA", "events"},
      {"POSTGRES_MAX_OVERFLOW", "4"},
      {"POSTGRES_POOL_MAX_OVERFLOW", "6"},
      {"POSTGRES_LOCK_TIMEOUT", "0.25"},
      {"POSTGRES_CONN_MAX_AGE", "30"},
      {"POSTGRES_PRE_PING", "on"},
      {"CREATE_TABLE", "false"},
      {"BILLING_POSTGRES_DBNAME", "billing_db"},
      {"BILLING_POSTGRES_POOL_SIZE", "9"},
      {"COMPRESSOR_TOPIC", "zstd:5"},
      {"CIPHER_TOPIC", "eventsourcing.cipher:AESCipher"},
      {"CIPHER_KEY", "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="},
      {"BILLING_COMPRESSOR_TOPIC", "none"},
  };
  auto lookup = [&env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto plain = PostgresOptionsFromEnv({}, lookup);
  REQUIRE_MESSAGE(plain.ok(), plain.status().ToString());
  CHECK(plain->dbname == "shared");
  CHECK(plain->host == "db");
  CHECK(plain->port == 5433);
  CHECK(plain->user == "es");
  CHECK(plain->password == "pw");
  CHECK(plain->schema == "events");
  CHECK(plain->pool_max_overflow == 6);  // the code's name wins over the documented one
  CHECK(plain->lock_timeout == milliseconds(250));
  CHECK(plain->max_connection_age == std::chrono::seconds(30));
  CHECK(plain->pre_ping);
  CHECK_FALSE(plain->create_table);
  CHECK(plain->table_prefix == "es");
  CHECK(plain->pool_size == 5);
  CHECK(plain->compression == Compression::kZstd);
  CHECK(plain->compression_level == 5);
  REQUIRE(plain->key_provider != nullptr);
  CHECK(plain->key_provider->MasterKey().value() == std::string(32, 'k'));

  auto billing = PostgresOptionsFromEnv("Billing", lookup);
  REQUIRE(billing.ok());
  CHECK(billing->dbname == "billing_db");
  CHECK(billing->pool_size == 9);
  CHECK(billing->host == "db");  // no BILLING_ value: the shared one
  CHECK(billing->table_prefix == "billing");
  CHECK(billing->compression == Compression::kNone);
  CHECK(billing->key_provider != nullptr);

  env["CIPHER_KEY"] = "not base64!";
  CHECK(PostgresOptionsFromEnv({}, lookup).status().IsInvalidArgument());
  env.erase("CIPHER_KEY");  // a cipher topic without a key
  CHECK(PostgresOptionsFromEnv({}, lookup).status().IsInvalidArgument());
  env.erase("CIPHER_TOPIC");
  env["COMPRESSOR_TOPIC"] = "lz4";
  CHECK(PostgresOptionsFromEnv({}, lookup).status().IsInvalidArgument());
  env.erase("COMPRESSOR_TOPIC");

  env["POSTGRES_POOL_SIZE"] = "many";
  CHECK(PostgresOptionsFromEnv({}, lookup).status().IsInvalidArgument());
  env.erase("POSTGRES_DBNAME");
  CHECK(PostgresOptionsFromEnv({}, lookup).status().IsInvalidArgument());
}

TEST_CASE("postgres: bad options and an unreachable server") {
  PostgresOptions options;
  CHECK(OpenPostgresRecorder(options).status().IsInvalidArgument());  // no dbname
  options.dbname = "db";
  options.table_prefix = "bad-prefix";
  CHECK(OpenPostgresRecorder(options).status().IsInvalidArgument());
  options.table_prefix = "1st";
  CHECK(OpenPostgresRecorder(options).status().IsInvalidArgument());
  options.table_prefix = std::string(50, 'p');
  CHECK(OpenPostgresRecorder(options).status().IsInvalidArgument());
  options.table_prefix = "es";
  options.schema = "a;drop";
  CHECK(OpenPostgresRecorder(options).status().IsInvalidArgument());
  options.schema = "";
  options.host = "127.0.0.1";
  options.port = 1;  // nothing listens there
  CHECK(OpenPostgresRecorder(options).status().IsIOError());
}

TEST_CASE("postgres: the pool's size, overflow, timeout, age and replacement of dead connections") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  PostgresOptions options = cluster->Options();
  options.pool_size = 1;
  options.pool_max_overflow = 1;
  options.pool_timeout = milliseconds(200);

  SUBCASE("size + overflow connections, then Timeout; overflow closed when returned") {
    postgres::Pool pool(options);
    {
      auto first = pool.Acquire();
      auto second = pool.Acquire();
      REQUIRE(first.ok());
      REQUIRE(second.ok());
      CHECK(pool.open_count() == 2);
      const auto start = std::chrono::steady_clock::now();
      auto third = pool.Acquire();
      CHECK(third.status().IsTimeout());
      CHECK(std::chrono::steady_clock::now() - start >= milliseconds(200));
    }
    CHECK(pool.open_count() == 1);
    CHECK(pool.idle_count() == 1);
  }

  SUBCASE("a waiting caller gets the connection another returns") {
    options.pool_max_overflow = 0;
    options.pool_timeout = std::chrono::seconds(10);
    postgres::Pool pool(options);
    auto acquired = pool.Acquire();
    REQUIRE(acquired.ok());
    std::optional<postgres::PooledConnection> held(std::move(*acquired));
    std::thread release([&] {
      std::this_thread::sleep_for(milliseconds(100));
      held.reset();
    });
    auto waited = pool.Acquire();
    release.join();
    CHECK(waited.ok());
    CHECK(pool.open_count() == 1);
  }

  SUBCASE("connections older than max_connection_age are not reused") {
    options.max_connection_age = std::chrono::seconds(0);
    postgres::Pool pool(options);
    { REQUIRE(pool.Acquire().ok()); }
    CHECK(pool.idle_count() == 0);
    CHECK(pool.open_count() == 0);
  }

  SUBCASE("a connection the server ended is replaced, with or without pre-ping") {
    for (bool pre_ping : {false, true}) {
      options.pre_ping = pre_ping;
      postgres::Pool pool(options);
      int old_pid = 0;
      {
        auto connection = pool.Acquire();
        REQUIRE(connection.ok());
        old_pid = PQbackendPID((**connection).raw());
      }
      REQUIRE(
          cluster->Execute("SELECT pg_terminate_backend(" + std::to_string(old_pid) + ")").ok());
      std::this_thread::sleep_for(milliseconds(100));
      auto connection = pool.Acquire();
      REQUIRE(connection.ok());
      CHECK(PQbackendPID((**connection).raw()) != old_pid);
      CHECK((**connection).Ping());
    }
  }
}

TEST_CASE("postgres: connections ask for TCP keepalives, so a vanished server is noticed") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  auto connection = postgres::Connection::Open(cluster->Options());
  REQUIRE_MESSAGE(connection.ok(), connection.status().ToString());
  std::map<std::string, std::string> in_use;
  PQconninfoOption* options = PQconninfo((*connection)->raw());
  REQUIRE(options != nullptr);
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) in_use[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  CHECK(in_use["keepalives"] == "1");
  CHECK(in_use["keepalives_idle"] == "30");
  CHECK(in_use["keepalives_interval"] == "10");
  CHECK(in_use["keepalives_count"] == "3");
}

TEST_CASE("postgres: lock_timeout bounds the wait for the append lock") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  ThrowawaySchema schema(*cluster);
  PostgresOptions options = schema.Options();
  options.lock_timeout = milliseconds(100);
  auto recorder = OpenOrFail(options);
  // Another session holds the append lock (the head row) in an open transaction.
  auto blocker = postgres::Connection::Open(options);
  REQUIRE(blocker.ok());
  REQUIRE((*blocker)
              ->ExecuteScript("BEGIN; SELECT * FROM " + options.schema + ".es_head FOR UPDATE")
              .ok());
  std::vector<Event> events = {Ev("Blocked", {})};
  auto written = recorder->Append(events, std::nullopt);
  CHECK_MESSAGE(written.status().IsTimeout(), written.status().ToString());
  REQUIRE((*blocker)->ExecuteScript("ROLLBACK").ok());
  auto after = recorder->Append(events, std::nullopt);
  CHECK(after.ok());
  CHECK(*after == 1);
}

TEST_CASE("postgres: text PostgreSQL cannot store is InvalidArgument and writes nothing") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  ThrowawaySchema schema(*cluster);
  auto recorder = OpenOrFail(schema.Options());
  std::vector<Event> events = {Ev("Ok", {"fine"}), Ev("Bad", {std::string("nul\0tag", 7)})};
  CHECK(recorder->Append(events, std::nullopt).status().IsInvalidArgument());
  events = {Ev("Bad", {"\xff\xfe"})};
  CHECK(recorder->Append(events, std::nullopt).status().IsInvalidArgument());
  CHECK(ReadAll(*recorder).empty());
}

TEST_CASE("postgres verify: clean tables are clean; damaged rows and side tables are reported") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  ThrowawaySchema schema(*cluster);
  const PostgresOptions options = schema.Options();
  {
    auto recorder = OpenOrFail(options);
    for (int i = 0; i < 10; ++i) {
      std::vector<Event> events = {Ev("Opened", {"a:" + std::to_string(i), "b", "b"}),
                                   Ev("Noted", {})};
      events[0].stream = StreamVersion{"stream-" + std::to_string(i % 3), i / 3 + 1};
      events[1].metadata = {{"k", "v"}, {"l", "w"}};
      REQUIRE(recorder->Append(events, std::nullopt).ok());
    }
    REQUIRE(recorder->InsertTracking(Tracking{"upstream", 7}).ok());
  }
  Result<RecorderVerifyReport> clean = VerifyPostgres(options);
  REQUIRE_MESSAGE(clean.ok(), clean.status().ToString());
  CHECK(clean->clean());
  CHECK(clean->events == 20);
  CHECK(clean->tag_rows == 20);
  CHECK(clean->tracking_records == 1);

  Result<PostgresInfo> info = InspectPostgres(options);
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  CHECK(info->schema == schema.name());
  CHECK(info->table_prefix == "es");
  CHECK(info->head == std::optional<std::int64_t>(20));
  CHECK(info->writes == 11);
  CHECK(info->streams == 3);
  CHECK(info->tracking_records == 1);
  CHECK(info->table_bytes.at("es_events") > 0);
  CHECK_FALSE(info->server_version.empty());

  const std::string events = schema.name() + ".es_events", tags = schema.name() + ".es_tags";
  const auto execute = [&](const std::string& sql) {
    Status done = cluster->Execute(sql);
    REQUIRE_MESSAGE(done.ok(), sql << ": " << done.ToString());
  };
  execute("DELETE FROM " + tags + " WHERE tag = 'a:3' AND position = 7");
  execute("INSERT INTO " + tags + " (tag, position) VALUES ('stray', 99)");
  execute("UPDATE " + events + " SET stream_id = NULL WHERE position = 9");
  execute("DROP INDEX " + schema.name() + ".es_events_stream");
  execute("UPDATE " + events +
          " SET stream_id = 'stream-0', stream_version = 1 WHERE "
          "position = 11");
  execute("DELETE FROM " + events + " WHERE position = 14");
  execute("DELETE FROM " + tags + " WHERE position = 14");
  execute("UPDATE " + events + " SET type = '', metadata_values = '{v}' WHERE position = 16");
  execute("UPDATE " + schema.name() + ".es_tracking SET application_name = ''");
  Result<RecorderVerifyReport> report = VerifyPostgres(options);
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  CHECK(::es::testing::Reports(*report, "es_tags", 7, "the tags table holds {b} for the event"));
  CHECK(::es::testing::Reports(*report, "es_tags", 99, "tags {stray} of no event"));
  CHECK(::es::testing::Reports(*report, "es_events", 9, "not both set"));
  CHECK(::es::testing::Reports(*report, "es_events", 11,
                               "stream 'stream-0' version 1 is held by 2 events"));
  CHECK(::es::testing::Reports(*report, "es_events", 15, "positions 14 to 14 are missing"));
  CHECK(::es::testing::Reports(*report, "es_events", 16,
                               "the type is empty; the metadata keys and values"));
  CHECK(::es::testing::Reports(*report, "es_tracking", std::nullopt, "application name is empty"));
  CHECK(report->problems.size() == 7);

  execute("UPDATE " + schema.name() + ".es_head SET position = 30");
  CHECK(::es::testing::Reports(*VerifyPostgres(options), "es_head", std::nullopt,
                               "the head row says 30, the last event is 20"));
  execute("DROP TABLE " + tags);
  CHECK(::es::testing::Reports(*VerifyPostgres(options), "es_tags", std::nullopt,
                               "the table is missing"));
}

TEST_CASE("postgres: a subscription wakes on another recorder's append (LISTEN/NOTIFY)") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  ThrowawaySchema schema(*cluster);
  auto reader = OpenOrFail(schema.Options());
  auto writer = OpenOrFail(schema.Options());
  auto subscription = reader->Subscribe(Query{}, std::nullopt);
  REQUIRE(subscription.ok());
  CHECK((*subscription)->Next(milliseconds(50)).status().IsTimeout());
  // The append comes while Next waits, from a recorder in the same process but with its own
  // connections: only the reader's listener (or its polling, should LISTEN fail) can wake it.
  std::thread append([&] {
    std::this_thread::sleep_for(milliseconds(100));
    std::vector<Event> events = {Ev("Elsewhere", {})};
    CHECK(writer->Append(events, std::nullopt).ok());
  });
  auto next = (*subscription)->Next(std::chrono::seconds(10));
  append.join();
  REQUIRE_MESSAGE(next.ok(), next.status().ToString());
  CHECK(next->position == 1);
  // Tracking waits wake the same way.
  std::thread track([&] {
    std::this_thread::sleep_for(milliseconds(50));
    writer->InsertTracking(Tracking{"downstream", 7}).IgnoreError();
  });
  CHECK(reader->Wait("downstream", 7, std::chrono::seconds(10)).ok());
  track.join();
}

TEST_CASE("postgres: subscriptions keep waking after the LISTEN connection is killed") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  ThrowawaySchema schema(*cluster);
  auto reader = OpenOrFail(schema.Options());
  auto writer = OpenOrFail(schema.Options());
  auto subscription = reader->Subscribe(Query{}, std::nullopt);
  REQUIRE(subscription.ok());
  // Both recorders' listeners: the writer's too, which changes nothing for the reader.
  REQUIRE(cluster
              ->Execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
              .ok());
  for (int i = 1; i <= 3; ++i) {
    // The append comes while Next waits: only a wake-up (re-LISTEN or polling) delivers it.
    std::thread append([&] {
      std::this_thread::sleep_for(milliseconds(100));
      std::vector<Event> events = {Ev("AfterKill", {})};
      CHECK(writer->Append(events, std::nullopt).ok());
    });
    auto next = (*subscription)->Next(std::chrono::seconds(10));
    append.join();
    REQUIRE_MESSAGE(next.ok(), next.status().ToString());
    CHECK(next->position == i);
  }
}

// Several processes booking courses under conditions: examples/coursebooking/multiprocess_test.cc
// runs the enrolment example's processes on PostgreSQL (and every other shared store).

// ---- A server restart in the middle of a run ----

TEST_CASE("postgres: a server restart mid-run: calls recover or fail clearly, nothing twice") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  ThrowawaySchema schema(*cluster);
  auto writer = OpenOrFail(schema.Options());
  auto reader = OpenOrFail(schema.Options());
  auto subscription = reader->Subscribe(Query{}, std::nullopt);
  REQUIRE(subscription.ok());

  constexpr int kWriters = 3;
  std::atomic<bool> stop{false};
  std::atomic<int> after_restart{0};
  std::atomic<bool> restarted{false};
  std::mutex mu;
  std::set<std::string> acknowledged, unknown;
  std::vector<std::string> unexpected;
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        const std::string id = std::to_string(t) + "-" + std::to_string(i);
        std::vector<Event> events = {Ev("Written", {"id:" + id}), Ev("Second", {"id:" + id})};
        // A stream version: a write applied twice would fail its second time (IntegrityError).
        events[1].stream = StreamVersion{"writer-" + std::to_string(t), i};
        Result<std::int64_t> written = writer->Append(events, std::nullopt);
        std::lock_guard lock(mu);
        if (written.ok()) {
          acknowledged.insert(id);
          if (restarted.load()) ++after_restart;
        } else if (written.status().IsIOError()) {
          unknown.insert(id);
        } else {
          unexpected.push_back(written.status().ToString());
        }
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(300));
  REQUIRE(cluster->Restart().ok());
  restarted.store(true);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (after_restart.load() < 20 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  CHECK(after_restart.load() >= 20);
  CHECK_MESSAGE(unexpected.empty(), (unexpected.empty() ? "" : unexpected.front()));

  const std::vector<SequencedEvent> events = ReadAll(*reader);
  CheckGapFree(events);
  std::map<std::string, int> seen;
  for (const SequencedEvent& e : events) ++seen[e.event.type + " " + TagValue(e.event, "id")];
  for (const auto& [key, count] : seen) CHECK_MESSAGE(count == 1, key);  // never applied twice
  for (const std::string& id : acknowledged) {
    CHECK(seen.count("Written " + id) == 1);  // never lost, never half
    CHECK(seen.count("Second " + id) == 1);
  }
  for (const std::string& id : unknown) {
    CHECK(seen.count("Written " + id) == seen.count("Second " + id));  // all or nothing
  }

  // The subscription (on the other recorder, whose LISTEN connection the restart dropped)
  // delivers everything, the last event included.
  std::int64_t last = 0;
  while (last < events.back().position) {
    auto next = (*subscription)->Next(std::chrono::seconds(10));
    REQUIRE_MESSAGE(next.ok(), next.status().ToString());
    CHECK(next->position == last + 1);
    last = next->position;
  }
  std::vector<Event> one_more = {Ev("AfterRestart", {})};
  REQUIRE(writer->Append(one_more, std::nullopt).ok());
  auto next = (*subscription)->Next(std::chrono::seconds(10));
  REQUIRE_MESSAGE(next.ok(), next.status().ToString());
  CHECK(next->event.type == "AfterRestart");
}

// ---- Compression and encryption ----

const std::string kSecretData = "secret-payload " + std::string(300, 'z');

// Events whose data and metadata name secrets: large (compressible) and small data, metadata, a
// stream.
std::vector<Event> SecretEvents(int batch) {
  std::vector<Event> events = {Ev("Opened", {"account:" + std::to_string(batch)}),
                               Ev("Noted", {"note"})};
  events[0].data = kSecretData + std::to_string(batch);
  events[0].metadata = {{"who", "secret-meta"}, {"n", std::to_string(batch)}};
  events[0].stream = StreamVersion{"account-" + std::to_string(batch), 1};
  events[1].data = "secret-small";
  return events;
}

// Fails the test unless the SQL boolean `condition` holds on the cluster (a DO block raises
// otherwise).
void Expect(ThrowawayCluster& cluster, const std::string& condition, const std::string& what) {
  const std::string sql =
      "DO $$ BEGIN IF NOT (" + condition + ") THEN RAISE EXCEPTION 'failed'; END IF; END $$";
  Status done = cluster.Execute(sql);
  CHECK_MESSAGE(done.ok(), what << ": " << condition << ": " << done.ToString());
}

TEST_CASE("postgres: compressed and encrypted events read back; sealed rows hide the plaintext") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  struct Setting {
    const char* name;
    bool compressed;
    bool encrypted;
  };
  for (const Setting setting : {Setting{"zstd", true, false}, Setting{"aes", false, true},
                                Setting{"zstd+aes", true, true}}) {
    CAPTURE(setting.name);
    ThrowawaySchema schema(*cluster);
    PostgresOptions options = schema.Options();
    if (setting.compressed) options.compression = Compression::kZstd;
    if (setting.encrypted) options.key_provider = FixedKeyProvider(std::string(32, 'p'));
    std::vector<Event> written;
    {
      auto recorder = OpenOrFail(options);
      for (int batch = 0; batch < 3; ++batch) {
        std::vector<Event> events = SecretEvents(batch);
        REQUIRE(recorder->Append(events, std::nullopt).ok());
        written.insert(written.end(), events.begin(), events.end());
      }
      // A condition and a stream conflict still work under a key.
      std::vector<Event> again = SecretEvents(0);
      CHECK(recorder->Append(again, std::nullopt).status().IsIntegrityError());
      AppendCondition condition{Query{{QueryItem{{}, {"note"}}}}, 5};
      CHECK(recorder->Append(std::vector<Event>{Ev("Late", {})}, condition)
                .status()
                .IsConditionFailed());
    }
    auto recorder = OpenOrFail(options);  // reopened: the key checks pass, the rows decode
    std::vector<SequencedEvent> read = ReadAll(*recorder);
    REQUIRE(read.size() == written.size());
    CheckGapFree(read);
    for (std::size_t i = 0; i < read.size(); ++i) {
      CHECK(read[i].event.data == written[i].data);
      CHECK(read[i].event.metadata == written[i].metadata);
      CHECK(read[i].event.tags == written[i].tags);
    }
    auto stream = recorder->ReadStream("account-1", {});
    REQUIRE(stream.ok());
    REQUIRE(stream->size() == 1);
    CHECK(stream->front().event.data == kSecretData + "1");

    const std::string events = schema.name() + ".es_events";
    if (setting.compressed) {
      Expect(*cluster,
             "(SELECT bool_and((data_codec & 1) = 1 AND length(data) < 200) FROM " + events +
                 " WHERE type = 'Opened')",
             "large data is compressed");
      Expect(*cluster,
             "(SELECT bool_and((data_codec & 1) = 0) FROM " + events + " WHERE type = 'Noted')",
             "small data is not");
    }
    if (setting.encrypted) {
      Expect(*cluster,
             "NOT EXISTS (SELECT 1 FROM " + events +
                 " WHERE position(convert_to('secret', 'UTF8') IN data) > 0 OR "
                 "position(convert_to('secret', 'UTF8') IN coalesce(sealed_metadata, '')) > 0 OR "
                 "cardinality(metadata_keys) > 0 OR (data_codec & 2) = 0)",
             "no plaintext in the rows");
    } else {
      Expect(*cluster, "NOT EXISTS (SELECT 1 FROM " + events + " WHERE (data_codec & 2) <> 0)",
             "nothing sealed");
    }
    Result<RecorderVerifyReport> verified = VerifyPostgres(options);
    REQUIRE_MESSAGE(verified.ok(), verified.status().ToString());
    CHECK(verified->clean());
    Result<PostgresInfo> info = InspectPostgres(options);
    REQUIRE(info.ok());
    CHECK(info->key_id.has_value() == setting.encrypted);
    recorder.reset();
  }
}

TEST_CASE("postgres: a key is recorded once; no key, a wrong key, a key for plain tables refused") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  ThrowawaySchema schema(*cluster);
  PostgresOptions keyed = schema.Options();
  keyed.key_provider = FixedKeyProvider(std::string(32, 'a'));
  PostgresOptions plain = schema.Options();
  PostgresOptions wrong = schema.Options();
  wrong.key_provider = FixedKeyProvider(std::string(32, 'b'));

  // A plain recorder opened on empty tables, which a keyed open then encrypts: its writes are
  // refused by the append function rather than written plain beside sealed ones.
  auto early = OpenOrFail(plain);
  auto recorder = OpenOrFail(keyed);
  Result<std::int64_t> refused = early->Append(SecretEvents(9), std::nullopt);
  CHECK(refused.status().IsInvalidArgument());
  CHECK(refused.status().message().find("open a new recorder") != std::string::npos);
  early.reset();
  REQUIRE(recorder->Append(SecretEvents(0), std::nullopt).ok());

  Result<std::unique_ptr<Recorder>> without = OpenPostgresRecorder(plain);
  CHECK(without.status().IsInvalidArgument());
  CHECK(without.status().message().find("are encrypted (key id") != std::string::npos);
  Result<std::unique_ptr<Recorder>> other = OpenPostgresRecorder(wrong);
  CHECK(other.status().IsInvalidArgument());
  CHECK(other.status().message().find("it is the wrong key") != std::string::npos);
  CHECK(VerifyPostgres(wrong).status().IsInvalidArgument());
  Result<PostgresInfo> info = InspectPostgres(plain);
  REQUIRE(info.ok());
  REQUIRE(info->key_id.has_value());
  CHECK(*info->key_id > 0);

  // Plain tables with events refuse a key; without create_table none is recorded.
  ThrowawaySchema plain_schema(*cluster);
  PostgresOptions plain_tables = plain_schema.Options();
  {
    auto writer = OpenOrFail(plain_tables);
    REQUIRE(writer->Append(SecretEvents(0), std::nullopt).ok());
  }
  plain_tables.key_provider = keyed.key_provider;
  Result<std::unique_ptr<Recorder>> refused_key = OpenPostgresRecorder(plain_tables);
  CHECK(refused_key.status().IsInvalidArgument());
  CHECK(refused_key.status().message().find("not encrypted") != std::string::npos);
  CHECK(VerifyPostgres(plain_tables).status().IsInvalidArgument());
  ThrowawaySchema empty_schema(*cluster);
  OpenOrFail(empty_schema.Options()).reset();  // tables, no key id
  PostgresOptions no_create = empty_schema.Options();
  no_create.create_table = false;
  no_create.key_provider = keyed.key_provider;
  CHECK(OpenPostgresRecorder(no_create).status().IsInvalidArgument());
  CHECK_FALSE(InspectPostgres(no_create)->key_id.has_value());
}

TEST_CASE("postgres: two opens at once with different keys record one key id") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  for (int round = 0; round < 4; ++round) {
    ThrowawaySchema schema(*cluster);
    OpenOrFail(schema.Options()).reset();  // the tables, so that both opens race on the key only
    std::atomic<int> opened{0};
    std::vector<std::thread> threads;
    for (char key : {'x', 'y'}) {
      threads.emplace_back([&, key] {
        PostgresOptions options = schema.Options();
        options.key_provider = FixedKeyProvider(std::string(32, key));
        Result<std::unique_ptr<Recorder>> recorder = OpenPostgresRecorder(options);
        if (recorder.ok()) {
          ++opened;
        } else {
          CHECK(recorder.status().IsInvalidArgument());
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    CHECK(opened == 1);
  }
}

TEST_CASE("postgres: a tampered sealed value is Corruption on read and a problem for verify") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  ThrowawaySchema schema(*cluster);
  PostgresOptions options = schema.Options();
  options.compression = Compression::kZstd;
  options.key_provider = FixedKeyProvider(std::string(32, 't'));
  auto recorder = OpenOrFail(options);
  for (int batch = 0; batch < 3; ++batch) {
    REQUIRE(recorder->Append(SecretEvents(batch), std::nullopt).ok());
  }
  const std::string events = schema.name() + ".es_events";
  REQUIRE(cluster
              ->Execute("UPDATE " + events +
                        " SET data = overlay(data placing '\\xff'::bytea from 20 for 1)"
                        " WHERE position = 3")
              .ok());
  Result<ReadResult> read = recorder->Read(Query{});
  CHECK(read.status().IsCorruption());
  CHECK(read.status().message().find("event 3 data") != std::string::npos);
  REQUIRE(cluster
              ->Execute("UPDATE " + events +
                        " SET sealed_metadata = substring(sealed_metadata from 1 for 10)"
                        " WHERE position = 5")
              .ok());
  REQUIRE(cluster->Execute("UPDATE " + events + " SET data_codec = 10 WHERE position = 2").ok());
  Result<RecorderVerifyReport> keyed = VerifyPostgres(options);
  REQUIRE_MESSAGE(keyed.ok(), keyed.status().ToString());
  CHECK(::es::testing::Reports(*keyed, "es_events", 3, "event 3 data"));
  CHECK(::es::testing::Reports(*keyed, "es_events", 5, "event 5 metadata"));
  CHECK(::es::testing::Reports(*keyed, "es_events", 2, "unknown data_codec"));
  CHECK(keyed->problems.size() == 3);
  // Without the key: the shape only (the flipped byte passes, the truncated value does not).
  PostgresOptions keyless = options;
  keyless.key_provider = nullptr;
  Result<RecorderVerifyReport> shape = VerifyPostgres(keyless);
  REQUIRE_MESSAGE(shape.ok(), shape.status().ToString());
  CHECK(::es::testing::Reports(*shape, "es_events", 5, "shorter than a sealed value"));
  CHECK(::es::testing::Reports(*shape, "es_events", 2, "unknown data_codec"));
  CHECK(shape->problems.size() == 2);
}

TEST_CASE("postgres: opens with create_table beside busy writers neither fail nor deadlock") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  ThrowawaySchema schema(*cluster);
  const PostgresOptions options = schema.Options();
  std::atomic<bool> done{false};
  std::atomic<int> failed_appends{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, writer = OpenOrFail(options)] {
      while (!done.load()) {
        if (!writer->Append(std::vector<Event>{Ev("Busy", {"t"})}, std::nullopt).ok()) {
          ++failed_appends;
        }
      }
    });
  }
  // Each open runs the create script, which must not take a table lock a writer could be
  // waiting behind while it holds the head row (a deadlock, which failed opens and appends).
  for (int i = 0; i < 100; ++i) {
    Result<std::unique_ptr<Recorder>> opened = OpenPostgresRecorder(options);
    CHECK_MESSAGE(opened.ok(), opened.status().ToString());
  }
  done = true;
  for (std::thread& thread : writers) thread.join();
  CHECK(failed_appends.load() == 0);
}

TEST_CASE("postgres: tables of the version before compression are upgraded by create_table") {
  ThrowawayCluster* cluster = ClusterOrSkip();
  if (cluster == nullptr) return;
  ThrowawaySchema schema(*cluster);
  PostgresOptions options = schema.Options();
  {
    auto recorder = OpenOrFail(options);
    REQUIRE(recorder->Append(SecretEvents(0), std::nullopt).ok());
  }
  // What the earlier version made: no data_codec, sealed_metadata nor key_id.
  const std::string prefix = schema.name() + ".es_";
  REQUIRE(cluster
              ->Execute("ALTER TABLE " + prefix +
                        "events DROP COLUMN data_codec, DROP COLUMN "
                        "sealed_metadata; ALTER TABLE " +
                        prefix + "head DROP COLUMN key_id")
              .ok());
  PostgresOptions no_create = options;
  no_create.create_table = false;
  Result<std::unique_ptr<Recorder>> refused = OpenPostgresRecorder(no_create);
  CHECK(refused.status().IsInvalidArgument());
  CHECK(refused.status().message().find("earlier version") != std::string::npos);
  Result<RecorderVerifyReport> old = VerifyPostgres(options);
  REQUIRE(old.ok());
  CHECK(::es::testing::Reports(*old, "es_events", std::nullopt, "column is missing"));
  Result<PostgresInfo> info = InspectPostgres(options);
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  CHECK_FALSE(info->key_id.has_value());

  options.compression = Compression::kZstd;
  auto recorder = OpenOrFail(options);
  REQUIRE(recorder->Append(SecretEvents(1), std::nullopt).ok());
  std::vector<SequencedEvent> read = ReadAll(*recorder);
  REQUIRE(read.size() == 4);
  CHECK(read[0].event.data == kSecretData + "0");
  CHECK(read[0].event.metadata.at("who") == "secret-meta");
  CHECK(read[2].event.data == kSecretData + "1");
  Result<RecorderVerifyReport> upgraded = VerifyPostgres(options);
  REQUIRE(upgraded.ok());
  CHECK(upgraded->clean());
}

}  // namespace
}  // namespace es
