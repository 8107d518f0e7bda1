// Crash safety of the engine, on the fault-injection Env: stores take random writes, have syncs,
// writes and every operation of Open and of a segment roll fail, and crash with their unsynced
// bytes torn, dropped, kept or scrambled. Each is reopened, and what it recovers is checked
// against what it acknowledged: every acknowledged durable write whole and identical at its
// position, positions dense from 1, nothing that was not written whole, and indexes that answer
// like a scan.
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "engine/env/fault_env.h"
#include "engine/store_impl.h"
#include "engine/testing/status_checks.h"
#include "engine/testing/test_dir.h"
#include "es/store.h"

namespace es {
namespace {

using CrashMode = FaultInjectionEnv::CrashMode;
using OpKind = FaultInjectionEnv::OpKind;
using testing::Item;
using testing::MakeEvent;

constexpr char kDir[] = "/store";
const char* const kTypes[] = {"Opened", "Deposited", "Withdrawn", "Closed"};
const char* const kTags[] = {"acct:0", "acct:1", "acct:2",    "acct:3",
                             "acct:4", "acct:5", "region:eu", "region:us"};
const char* const kStreams[] = {"stream-0", "stream-1", "stream-2"};
const char* const kApps[] = {"app-a", "app-b"};

template <typename T, std::size_t N>
const T& Pick(std::mt19937_64& rng, const T (&choices)[N]) {
  return choices[rng() % N];
}

// A store directory on a fault-injection Env, with segments small enough to roll every few
// writes, so that crashes and faults hit rolls too.
struct Harness {
  FaultInjectionEnv env;
  Options options;

  explicit Harness(Durability durability = Durability::kSync) {
    options.env = &env;
    options.durability = durability;
    options.segment_bytes = 128 * 1024;
    options.segment_events = 40;
    options.max_write_bytes = 124 * 1024;
    options.max_write_events = 20;
    // The spare maker's file operations would interleave with the test's at random: tests that
    // count operations turn it on themselves and wait for it (WaitForSpareMaker).
    options.prepare_spare_segment = false;
  }

  Result<std::unique_ptr<Store>> Open() { return Store::Open(options, kDir); }
  std::unique_ptr<Store> OpenOk() {
    auto store = Open();
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    return std::move(store).value();
  }
};

// Waits until the store's spare maker is idle, so that operation counts are reproducible.
void WaitForSpareMaker(Store& store) { static_cast<StoreImpl&>(store).TEST_WaitForSpareMaker(); }

// A write the test makes.
struct Request {
  std::vector<Event> events;  // never empty
  std::optional<AppendCondition> condition;
  std::optional<Tracking> tracking;
  Durability durability = Durability::kSync;
};

// Every query shape over the workload's types and tags, including ones that match nothing.
std::vector<Query> IndexQueries() {
  std::vector<Query> queries{Query{}};
  for (const char* type : kTypes) queries.push_back(Query{{Item({type}, {})}});
  for (const char* tag : kTags) queries.push_back(Query{{Item({}, {tag})}});
  queries.push_back(Query{{Item({kTypes[1]}, {kTags[0]})}});
  queries.push_back(Query{{Item({}, {kTags[0], kTags[6]})}});
  queries.push_back(Query{{Item({kTypes[0], kTypes[2]}, {kTags[1]}), Item({}, {kTags[7]})}});
  queries.push_back(Query{{Item({}, {"acct:missing"})}});
  queries.push_back(Query{{Item({"Missing"}, {})}});
  return queries;
}

// Checks the store's indexed reads against a scan: the reference recorder, loaded with `events`
// (the whole log as read back), answers by looking at every event.
void CheckIndexAgainstScan(Store& store, const std::vector<SequencedEvent>& events) {
  std::unique_ptr<Recorder> scan = NewInMemoryRecorder();
  for (const SequencedEvent& e : events) {
    AppendRequest request;
    request.events = std::span<const Event>(&e.event, 1);
    auto position = scan->Write(request);
    REQUIRE_OK(position.status());
    REQUIRE(*position == e.position);
  }
  const auto n = static_cast<std::int64_t>(events.size());
  const ReadOptions reads[] = {{}, {.after = n / 2}, {.limit = 3}, {.after = 1, .limit = 5}};
  for (const Query& query : IndexQueries()) {
    for (const ReadOptions& options : reads) {
      auto indexed = store.Read(query, options);
      auto scanned = scan->Read(query, options);
      REQUIRE_OK(indexed.status());
      REQUIRE_OK(scanned.status());
      CHECK(indexed->events == scanned->events);
      CHECK(indexed->head == scanned->head);
    }
  }
  for (const char* stream : kStreams) {
    auto indexed = store.ReadStream(stream, {});
    auto scanned = scan->ReadStream(stream, {});
    REQUIRE_OK(indexed.status());
    REQUIRE_OK(scanned.status());
    CHECK(*indexed == *scanned);
  }
}

// What the test knows of the log: the writes the store acknowledged and the ones that failed with
// an I/O error (which may be found whole or not at all), in the order they were made.
class LogModel {
 public:
  // Makes `request` on `store` and records the outcome.
  Result<std::int64_t> Write(Store& store, const Request& request) {
    ++serial_;
    AppendRequest append;
    append.events = request.events;
    append.condition = request.condition ? &*request.condition : nullptr;
    append.tracking = request.tracking ? &*request.tracking : nullptr;
    append.options.durability = request.durability;
    Result<std::int64_t> result = store.Write(append);
    if (result.ok()) {
      frames_.push_back(Frame{request.events, request.tracking, *result, true, false});
      Account(frames_.back());
      if (request.durability == Durability::kSync) AllAcknowledgedSurvive();
    } else if (!result.status().IsConditionFailed() && !result.status().IsIntegrityError()) {
      CHECK_MESSAGE((result.status().IsIOError() || result.status().IsPoisoned()),
                    result.status().ToString());
      frames_.push_back(Frame{request.events, request.tracking, 0, false, false});
    }
    return result;
  }

  // Write, for requests whose outcome only the model needs.
  void Attempt(Store& store, const Request& request) { static_cast<void>(Write(store, request)); }

  // Store::Sync: when it succeeds, every write acknowledged before must survive.
  void Sync(Store& store) {
    if (store.Sync().ok()) AllAcknowledgedSurvive();
  }

  // Every acknowledged write must survive: they were all synced, or the crash kept everything.
  void AllAcknowledgedSurvive() {
    for (Frame& frame : frames_) frame.must_survive = frame.acknowledged;
  }

  // Checks what a reopened store recovered, then makes that the model: the recovered log is
  // durable (Open syncs what it recovers) and the lost writes are forgotten.
  void Recover(Store& store) {
    auto read = store.Read(Query{}, {});
    REQUIRE_OK(read.status());
    const std::vector<SequencedEvent>& got = read->events;
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i].position == std::int64_t(i) + 1);
    auto head = store.Head();
    REQUIRE_OK(head.status());
    CHECK(head->value_or(0) == std::int64_t(got.size()));

    // The log must be the writes in order, each whole, skipping only failed ones, and ending
    // before the first lost acknowledged one, which must not be one that had to survive.
    std::vector<Frame> recovered;
    std::size_t cursor = 0;
    bool ended = false;
    for (std::size_t f = 0; f < frames_.size(); ++f) {
      const Frame& frame = frames_[f];
      if (!ended && Holds(got, cursor, frame.events)) {
        cursor += frame.events.size();
        if (frame.acknowledged) CHECK(frame.last_position == std::int64_t(cursor));
        recovered.push_back(frame);
      } else if (frame.acknowledged) {
        CHECK_MESSAGE(!frame.must_survive,
                      "acknowledged write " << f << " of " << frames_.size() << " (last position "
                                            << frame.last_position << ") was lost");
        ended = true;
      }
    }
    CHECK_MESSAGE(cursor == got.size(), "positions " << cursor + 1 << " to " << got.size()
                                                     << " hold events of no whole write");

    frames_.clear();
    head_ = 0;
    versions_.clear();
    tracking_.clear();
    for (Frame& frame : recovered) {
      frame.acknowledged = true;
      frame.must_survive = true;
      frame.last_position = head_ + std::int64_t(frame.events.size());
      frames_.push_back(frame);
      Account(frame);
    }
    for (const char* app : kApps) {
      auto max = store.MaxTrackingId(app);
      REQUIRE_OK(max.status());
      CHECK(*max == tracking(app));
    }
    CheckIndexAgainstScan(store, got);
  }

  int serial() const { return serial_; }
  std::int64_t head() const { return head_; }
  std::optional<std::int64_t> version(const std::string& stream) const {
    auto it = versions_.find(stream);
    return it == versions_.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<std::int64_t> tracking(const std::string& app) const {
    auto it = tracking_.find(app);
    return it == tracking_.end() ? std::nullopt : std::optional(it->second);
  }

 private:
  struct Frame {
    std::vector<Event> events;
    std::optional<Tracking> tracking;
    std::int64_t last_position;  // acknowledged ones
    bool acknowledged;
    bool must_survive;
  };

  static bool Holds(const std::vector<SequencedEvent>& got, std::size_t at,
                    const std::vector<Event>& events) {
    if (at + events.size() > got.size()) return false;
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (!(got[at + i].event == events[i])) return false;
    }
    return true;
  }

  // Advances the head, stream versions and tracking maxima past an accepted write.
  void Account(const Frame& frame) {
    head_ = frame.last_position;
    for (const Event& event : frame.events) {
      if (!event.stream) continue;
      std::int64_t& version = versions_[event.stream->id];
      version = std::max(version, event.stream->version);
    }
    if (frame.tracking)
      tracking_[frame.tracking->application_name] = frame.tracking->notification_id;
  }

  std::vector<Frame> frames_;
  int serial_ = 0;
  std::int64_t head_ = 0;
  std::map<std::string, std::int64_t> versions_;
  std::map<std::string, std::int64_t> tracking_;
};

// A write of one plain event. Its data names the write (like every event's here), so that the
// model cannot take one write for another.
Request OneEvent(const LogModel& log, const std::string& text) {
  Request request;
  request.events.push_back(
      MakeEvent("Plain", {"acct:0"}, "w" + std::to_string(log.serial()) + ":" + text));
  return request;
}

// A random write: DCB events with tags, some in streams, some with uuids and metadata; some
// with a condition or a tracking record; a few conflict. Each event's data names the write, so
// that events of different writes differ.
Request RandomRequest(std::mt19937_64& rng, const LogModel& log, bool mixed_durability) {
  Request request;
  const std::size_t count = rng() % 10 == 0 ? 1 + rng() % 20 : 1 + rng() % 4;
  const bool in_streams = rng() % 3 == 0;
  // At most one event big enough to be written with pwrite rather than through the mapping.
  const bool big = count <= 4 && rng() % 30 == 0;
  std::map<std::string, std::int64_t> versions;
  for (std::size_t i = 0; i < count; ++i) {
    Event event;
    event.type = Pick(rng, kTypes);
    for (std::uint64_t t = rng() % 4; t > 0; --t) event.tags.push_back(Pick(rng, kTags));
    std::size_t size = rng() % 200;
    if (big && i == 0) {
      size = 70000;
    } else if (count <= 4 && rng() % 20 == 0) {
      size = 1000 + rng() % 10000;
    }
    event.data = "w" + std::to_string(log.serial()) + "e" + std::to_string(i) + ":";
    for (std::size_t b = 0; b < size; ++b) event.data += static_cast<char>(rng());
    if (rng() % 10 == 0) {
      Uuid uuid;
      for (auto& byte : uuid) byte = static_cast<std::uint8_t>(rng());
      event.uuid = uuid;
    }
    if (rng() % 10 == 0) event.metadata = {{"serial", std::to_string(log.serial())}};
    if (in_streams && rng() % 2 == 0) {
      const std::string id = Pick(rng, kStreams);
      if (versions.count(id) == 0) versions[id] = log.version(id).value_or(0);
      // Now and then a version the stream already has: an IntegrityError.
      const bool conflict = versions[id] > 0 && rng() % 20 == 0;
      event.stream = StreamVersion{id, conflict ? versions[id] : ++versions[id]};
    }
    request.events.push_back(std::move(event));
  }
  if (rng() % 4 == 0) {
    AppendCondition condition;
    condition.fail_if_events_match.items.push_back(rng() % 2 == 0 ? Item({Pick(rng, kTypes)}, {})
                                                                  : Item({}, {Pick(rng, kTags)}));
    // After the head it always passes; after an earlier position it may fail.
    const std::int64_t head = log.head();
    condition.after = rng() % 2 == 0 ? head : std::int64_t(rng() % std::uint64_t(head + 1));
    request.condition = condition;
  }
  if (rng() % 5 == 0) {
    const std::string app = Pick(rng, kApps);
    const std::optional<std::int64_t> max = log.tracking(app);
    const bool conflict = max && rng() % 10 == 0;
    request.tracking =
        Tracking{app, conflict ? *max : max.value_or(0) + 1 + std::int64_t(rng() % 3)};
  }
  if (mixed_durability && rng() % 3 != 0) request.durability = Durability::kNone;
  return request;
}

FaultInjectionEnv::Fault RandomFault(std::mt19937_64& rng) {
  const OpKind kinds[] = {OpKind::kAny, OpKind::kWrites, OpKind::kSyncs};
  return {.kind = Pick(rng, kinds),
          .nth = 1 + rng() % 8,
          .sticky = rng() % 2 == 0,
          .short_write_bytes = rng() % 2 == 0 ? rng() % 20000 : 0};
}

// Random writes, syncs when the durability is mixed, and with `faults` a fault armed part-way
// through.
void WriteRandomly(Harness& h, Store& store, LogModel& log, std::mt19937_64& rng, bool mixed,
                   bool faults) {
  const std::uint64_t writes = 1 + rng() % 40;
  const std::uint64_t fault_at = faults ? rng() % writes : writes;
  for (std::uint64_t i = 0; i < writes; ++i) {
    if (i == fault_at) h.env.InjectFault(RandomFault(rng));
    if (mixed && rng() % 8 == 0) log.Sync(store);
    log.Attempt(store, RandomRequest(rng, log, mixed));
  }
}

// One run: random writes, a crash with the store open or just closed, a reopen checked against
// the model; then one more durable write, a second crash and a second check, which shows that
// recovery left a durable log that takes writes at the next position.
void CrashRun(std::uint64_t seed, bool mixed, bool faults, CrashMode mode) {
  CAPTURE(seed);
  CAPTURE(static_cast<int>(mode));
  std::mt19937_64 rng(seed);
  Harness h(mixed ? Durability::kNone : Durability::kSync);
  LogModel log;
  std::unique_ptr<Store> store = h.OpenOk();
  WriteRandomly(h, *store, log, rng, mixed, faults);
  if (rng() % 2 == 0) {
    // Closing syncs every write, unless a failure poisoned the store or fails that sync.
    store.reset();
    if (h.env.InjectedFailures() == 0) log.AllAcknowledgedSurvive();
  }
  h.env.ClearFault();
  REQUIRE_OK(h.env.SimulateCrash(seed, mode));
  store.reset();
  if (mode == CrashMode::kKeepUnsynced) log.AllAcknowledgedSurvive();
  store = h.OpenOk();
  log.Recover(*store);

  auto after = log.Write(*store, OneEvent(log, "after the crash"));
  REQUIRE_OK(after.status());
  CHECK(*after == log.head());
  REQUIRE_OK(h.env.SimulateCrash(seed + 1, CrashMode::kDropUnsynced));
  store = h.OpenOk();
  log.Recover(*store);
}

constexpr CrashMode kModes[] = {CrashMode::kTornUnsynced, CrashMode::kTornUnsynced,
                                CrashMode::kDropUnsynced, CrashMode::kKeepUnsynced};

TEST_CASE("crash: every acknowledged kSync write survives a crash, whole and identical") {
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    CrashRun(seed, /*mixed=*/false, /*faults=*/false, kModes[seed % 4]);
  }
}

TEST_CASE("crash: acknowledged kSync writes survive failed syncs and writes, then a crash") {
  for (std::uint64_t seed = 500; seed < 700; ++seed) {
    CrashRun(seed, /*mixed=*/false, /*faults=*/true, kModes[seed % 4]);
  }
}

TEST_CASE("crash: with kNone and kSync writes mixed, a dense prefix up to the last sync survives") {
  for (std::uint64_t seed = 1000; seed < 1200; ++seed) {
    CrashRun(seed, /*mixed=*/true, /*faults=*/seed % 2 == 0, kModes[seed % 4]);
  }
}

// Appends from several threads at once, so that writes commit in groups, with a sticky sync
// failure part-way through that poisons the store and leaves a failed group's frames unsynced;
// then the machine crashes.
class ConcurrentWriters {
 public:
  ConcurrentWriters(std::uint64_t seed, CrashMode mode)
      : acknowledged_(kThreads, std::vector<std::int64_t>(kWrites)) {
    std::mt19937_64 rng(seed);
    h_.options.prepare_spare_segment = true;  // nothing here is counted: rolls from spares too
    std::unique_ptr<Store> store = h_.OpenOk();
    h_.env.InjectFault({.kind = OpKind::kSyncs, .nth = 1 + rng() % 60, .sticky = true});
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([this, &store, t] {
        for (int w = 0; w < kWrites; ++w) {
          auto position = store->Append(MakeWrite(t, w), std::nullopt);
          if (position.ok()) acknowledged_[t][w] = *position;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    h_.env.ClearFault();
    REQUIRE_OK(h_.env.SimulateCrash(seed, mode));
  }

  Result<std::unique_ptr<Store>> Reopen() { return h_.Open(); }

  // Every event found belongs to a write found whole, once, at consecutive positions; every
  // acknowledged write is found at the positions acknowledged; the indexes answer like a scan.
  void Check(Store& store) {
    auto read = store.Read(Query{}, {});
    REQUIRE_OK(read.status());
    const std::vector<SequencedEvent>& got = read->events;
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i].position == std::int64_t(i) + 1);
    std::set<std::pair<int, int>> found;
    for (std::size_t i = 0; i < got.size();) {
      int t = -1;
      int w = -1;
      REQUIRE(std::sscanf(got[i].event.data.c_str(), "t%dw%de", &t, &w) == 2);
      CHECK(found.insert({t, w}).second);
      const std::vector<Event> events = MakeWrite(t, w);
      REQUIRE(i + events.size() <= got.size());
      for (std::size_t e = 0; e < events.size(); ++e) CHECK(got[i + e].event == events[e]);
      i += events.size();
      if (acknowledged_[t][w] != 0) CHECK(acknowledged_[t][w] == std::int64_t(i));
    }
    for (int t = 0; t < kThreads; ++t) {
      for (int w = 0; w < kWrites; ++w) {
        CHECK_MESSAGE((acknowledged_[t][w] == 0 || found.count({t, w}) == 1),
                      "write " << w << " of thread " << t << " was lost");
      }
    }
    CheckIndexAgainstScan(store, got);
  }

 private:
  static constexpr int kThreads = 4;
  static constexpr int kWrites = 25;

  // The events of write w of thread t; their data names them.
  static std::vector<Event> MakeWrite(int t, int w) {
    std::vector<Event> events;
    for (int i = 0; i <= w % 3; ++i) {
      events.push_back(
          MakeEvent(kTypes[w % 4], {kTags[(t + w) % 8]},
                    "t" + std::to_string(t) + "w" + std::to_string(w) + "e" + std::to_string(i)));
    }
    return events;
  }

  Harness h_;
  // acknowledged_[t][w]: the last position of write w of thread t if acknowledged, else 0.
  std::vector<std::vector<std::int64_t>> acknowledged_;
};

// Files are written back independently: unless a roll makes the old segment durable first, a
// crash can keep the new segment's frames and lose frames before them.
TEST_CASE("crash: kNone frames lost before a roll leave a store that opens") {
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    CAPTURE(seed);
    Harness h(Durability::kNone);
    h.options.segment_events = 4;
    h.options.max_write_events = 4;
    LogModel log;
    std::unique_ptr<Store> store = h.OpenOk();
    REQUIRE_OK(log.Write(*store, OneEvent(log, "durable")).status());
    for (int i = 0; i < 6; ++i) {
      Request unsynced = OneEvent(log, "unsynced " + std::to_string(i));
      unsynced.durability = Durability::kNone;
      REQUIRE_OK(log.Write(*store, unsynced).status());
    }
    REQUIRE(store->Info().segment_count == 2);
    REQUIRE_OK(h.env.SimulateCrash(seed, CrashMode::kTornUnsynced));
    store = h.OpenOk();
    log.Recover(*store);
  }
}

TEST_CASE("crash: unsynced frames written back out of order") {
  SUBCASE("kSync: only the frame whose sync failed is unsynced, and recovery cuts it") {
    for (std::uint64_t seed = 2000; seed < 2050; ++seed) {
      CAPTURE(seed);
      std::mt19937_64 rng(seed);
      Harness h;
      LogModel log;
      std::unique_ptr<Store> store = h.OpenOk();
      for (std::uint64_t i = rng() % 30; i > 0; --i) {
        log.Attempt(*store, RandomRequest(rng, log, false));
      }
      h.env.InjectFault({.kind = OpKind::kSyncs, .nth = 1});
      log.Attempt(*store, RandomRequest(rng, log, false));
      h.env.ClearFault();
      REQUIRE_OK(h.env.SimulateCrash(seed, CrashMode::kScrambledUnsynced));
      store = h.OpenOk();
      log.Recover(*store);
    }
  }
  SUBCASE("kNone: recovery finds a dense prefix") {
    // A torn frame followed by intact later ones is a torn tail when none of them was written
    // after the torn one became durable (docs/format.md, "Recovery", step 4).
    for (std::uint64_t seed = 3000; seed < 3050; ++seed) {
      CAPTURE(seed);
      std::mt19937_64 rng(seed);
      Harness h(Durability::kNone);
      LogModel log;
      std::unique_ptr<Store> store = h.OpenOk();
      for (int i = 0; i < 20; ++i) log.Attempt(*store, RandomRequest(rng, log, true));
      REQUIRE_OK(h.env.SimulateCrash(seed, CrashMode::kScrambledUnsynced));
      store.reset();
      auto reopened = h.Open();
      REQUIRE_MESSAGE(reopened.ok(), reopened.status().ToString());
      log.Recover(**reopened);
    }
  }
  SUBCASE("kSync group commit: recovery finds the acknowledged writes") {
    // A group whose sync never completed leaves several frames unsynced, written back in any
    // order; none of them was acknowledged.
    for (std::uint64_t seed = 100; seed < 112; ++seed) {
      CAPTURE(seed);
      ConcurrentWriters run(seed, CrashMode::kScrambledUnsynced);
      auto store = run.Reopen();
      REQUIRE_MESSAGE(store.ok(), store.status().ToString());
      run.Check(**store);
    }
  }
}

TEST_CASE("crash: a failed sync poisons the store; reads go on; a reopen recovers") {
  Harness h;
  LogModel log;
  std::unique_ptr<Store> store = h.OpenOk();
  for (int i = 0; i < 3; ++i)
    REQUIRE_OK(log.Write(*store, OneEvent(log, "before " + std::to_string(i))).status());

  h.env.InjectFault({.kind = OpKind::kSyncs, .nth = 1});
  auto failed = log.Write(*store, OneEvent(log, "its sync fails"));
  CHECK(failed.status().IsPoisoned());
  // The fault was a single one, yet the store refuses writes until it is reopened.
  auto refused = log.Write(*store, OneEvent(log, "refused"));
  CHECK(refused.status().IsPoisoned());
  CHECK(store->Sync().IsPoisoned());
  auto read = store->Read(Query{}, {});
  REQUIRE_OK(read.status());
  CHECK(read->events.size() == 3);
  CHECK(read->head == 3);

  SUBCASE("reopened without a crash: the failed write may be found whole") { store.reset(); }
  SUBCASE("reopened after a crash") {
    REQUIRE_OK(h.env.SimulateCrash(1, CrashMode::kTornUnsynced));
    store.reset();
  }
  store = h.OpenOk();
  log.Recover(*store);
  REQUIRE_OK(log.Write(*store, OneEvent(log, "after")).status());
}

TEST_CASE("crash: a failed or short write of a frame leaves nothing visible") {
  Harness h;
  LogModel log;
  std::unique_ptr<Store> store = h.OpenOk();
  for (int i = 0; i < 2; ++i)
    REQUIRE_OK(log.Write(*store, OneEvent(log, "small " + std::to_string(i))).status());

  // Frames this large are written with pwrite, not through the mapping.
  SUBCASE("no space") { h.env.InjectFault({.kind = OpKind::kWrites, .nth = 1}); }
  SUBCASE("a short write") {
    h.env.InjectFault({.kind = OpKind::kWrites, .nth = 1, .short_write_bytes = 30000});
  }
  auto failed = log.Write(*store, OneEvent(log, std::string(80000, 'b')));
  CHECK_FALSE(failed.ok());
  CHECK(h.env.InjectedFailures() == 1);
  CHECK(log.Write(*store, OneEvent(log, "refused")).status().IsPoisoned());
  auto read = store->Read(Query{}, {});
  REQUIRE_OK(read.status());
  CHECK(read->events.size() == 2);
  CHECK(read->head == 2);
  h.env.ClearFault();

  store.reset();
  store = h.OpenOk();
  log.Recover(*store);
  CHECK(log.head() == 2);
  REQUIRE_OK(log.Write(*store, OneEvent(log, "after")).status());
  store.reset();
  store = h.OpenOk();
  log.Recover(*store);
  CHECK(log.head() == 3);
}

// Writes that fill a few segments, then a store left as a crash leaves it for Open to tidy: a
// stray temporary and a missing position index.
void PrepareStore(Harness& h, LogModel& log) {
  std::mt19937_64 rng(42);
  {
    std::unique_ptr<Store> store = h.OpenOk();
    for (int i = 0; i < 40; ++i) log.Attempt(*store, RandomRequest(rng, log, false));
    REQUIRE(store->Info().segment_count >= 2);
  }
  testing::PatchFile(&h.env, std::string(kDir) + "/stray.tmp", 0, "partial");
  auto children = h.env.GetChildren(kDir);
  REQUIRE_OK(children.status());
  const auto index = std::find_if(children->begin(), children->end(), [](const std::string& name) {
    return name.size() > 5 && name.substr(name.size() - 5) == ".pidx";
  });
  REQUIRE(index != children->end());
  REQUIRE_OK(h.env.RemoveFile(std::string(kDir) + "/" + *index));
}

// Fails operation n of Open (only it, or it and every later one), checks that Open either fails
// with the injected error or opens a working store, then reopens without faults, after a crash
// or not. Returns whether the fault fired.
bool FailOpenAt(Harness& h, LogModel& log, std::uint64_t n, bool sticky, bool crash) {
  CAPTURE(n);
  CAPTURE(sticky);
  CAPTURE(crash);
  const std::uint64_t failures = h.env.InjectedFailures();
  h.env.InjectFault({.kind = OpKind::kAny, .nth = n, .sticky = sticky});
  bool fired;
  {
    auto store = h.Open();
    fired = h.env.InjectedFailures() > failures;
    h.env.ClearFault();
    if (!store.ok()) {
      CHECK(fired);
      CHECK_MESSAGE(store.status().message().find("injected fault") != std::string::npos,
                    store.status().ToString());
    } else if (fired) {
      // Open got over the failure: the store must be whole and working.
      log.Recover(**store);
    }
  }
  if (crash) REQUIRE_OK(h.env.SimulateCrash(n, CrashMode::kTornUnsynced));
  auto store = h.Open();
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  log.Recover(**store);
  return fired;
}

TEST_CASE("crash: a fault at any operation of Open gives a clean error, and a reopen recovers") {
  for (const bool sticky : {false, true}) {
    for (const bool crash : {false, true}) {
      Harness h;
      LogModel log;
      PrepareStore(h, log);
      std::uint64_t n = 1;
      while (FailOpenAt(h, log, n, sticky, crash)) {
        ++n;
        REQUIRE(n < 1000);
      }
    }
  }
}

TEST_CASE("crash: a fault at any operation of creating a store, and a reopen recovers") {
  for (const bool sticky : {false, true}) {
    for (const bool crash : {false, true}) {
      for (std::uint64_t n = 1;; ++n) {
        REQUIRE(n < 1000);
        Harness h;
        LogModel log;
        const bool fired = FailOpenAt(h, log, n, sticky, crash);
        auto store = h.OpenOk();
        REQUIRE_OK(log.Write(*store, OneEvent(log, "first")).status());
        store.reset();
        store = h.OpenOk();
        log.Recover(*store);
        if (!fired) break;
      }
    }
  }
}

// A failed roll can leave a half-made segment file named for positions that the old segment
// would take next: the writes after it must not make that file a hole in the log.
// With a spare, the faults also hit taking it at the roll and making the next one after it.
TEST_CASE("crash: a fault at any operation of a write that rolls, and a reopen recovers") {
  for (const bool spare : {false, true}) {
    for (const bool sticky : {false, true}) {
      for (const bool crash : {false, true}) {
        for (std::uint64_t n = 1;; ++n) {
          REQUIRE(n < 1000);
          CAPTURE(spare);
          CAPTURE(sticky);
          CAPTURE(crash);
          CAPTURE(n);
          Harness h;
          h.options.segment_bytes = 64 * 1024;
          h.options.max_write_bytes = 32 * 1024;
          h.options.prepare_spare_segment = spare;
          LogModel log;
          std::unique_ptr<Store> store = h.OpenOk();
          // Fill the first segment to within 8 KiB of its end: the next 10 KiB write rolls; the
          // writes after it would still fit once or twice and then roll again.
          while (store->Info().log_bytes < 52 * 1024) {
            REQUIRE_OK(log.Write(*store, OneEvent(log, std::string(4000, 'f'))).status());
          }
          REQUIRE(store->Info().segment_count == 1);
          if (spare) WaitForSpareMaker(*store);
          const std::uint64_t failures = h.env.InjectedFailures();
          h.env.InjectFault({.kind = OpKind::kAny, .nth = n, .sticky = sticky});
          // Each write, then the spare maker's work it started, in turn.
          const auto attempt = [&](Request request) {
            log.Attempt(*store, std::move(request));
            if (spare) WaitForSpareMaker(*store);
          };
          attempt(OneEvent(log, std::string(10000, 'r')));
          attempt(OneEvent(log, "small"));
          for (int i = 0; i < 3; ++i) attempt(OneEvent(log, std::string(4000, 'a')));
          const bool fired = h.env.InjectedFailures() > failures;
          if (!fired) {
            CHECK(store->Info().segment_count == 2);
            CHECK(store->Info().rolls_from_spare == (spare ? 1 : 0));
          }
          h.env.ClearFault();
          if (crash) REQUIRE_OK(h.env.SimulateCrash(n, CrashMode::kTornUnsynced));
          store.reset();
          auto reopened = h.Open();
          REQUIRE_MESSAGE(reopened.ok(), reopened.status().ToString());
          log.Recover(**reopened);
          if (!fired) break;
        }
      }
    }
  }
}

TEST_CASE("crash: concurrent acknowledged writes survive a crash amid group commits") {
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    CAPTURE(seed);
    ConcurrentWriters run(seed, CrashMode::kTornUnsynced);
    auto store = run.Reopen();
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    run.Check(**store);
  }
}

// The directory's entry in its parent must be durable too, or everything in it goes with it.
TEST_CASE("crash: a store directory created by Open survives a crash") {
  Harness h;
  LogModel log;
  {
    std::unique_ptr<Store> store = h.OpenOk();
    REQUIRE_OK(log.Write(*store, OneEvent(log, "acknowledged")).status());
  }
  REQUIRE_OK(h.env.SimulateCrash(1, CrashMode::kDropUnsynced));
  std::unique_ptr<Store> store = h.OpenOk();
  log.Recover(*store);
  CHECK(log.head() == 1);
}

}  // namespace
}  // namespace es
