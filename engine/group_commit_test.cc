// Group commit and durability modes: writers queued behind a sync commit together with one sync;
// each request of a group is checked against the ones accepted before it and fails alone; a
// failed sync fails its group and poisons the store; kBuffered writes become durable in the
// background; durability is a prefix property; the I/O backend is chosen and reported.
//
// Groups are made deterministic by holding the first writer inside its sync (a hook of the
// fault-injection Env) until the others are queued behind it.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/env/fault_env.h"
#include "engine/store_impl.h"
#include "engine/testing/status_checks.h"
#include "engine/testing/test_dir.h"

namespace es {
namespace {

using testing::MakeEvent;

constexpr char kDir[] = "/store";

// Holds every sync in the hook while closed, and tells when one is waiting there.
class SyncGate {
 public:
  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  // The hook: blocks while the gate is closed.
  void Pass() {
    std::unique_lock lock(mu_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    --waiting_;
  }
  void AwaitWaiter() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return waiting_ > 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool open_ = true;
  int waiting_ = 0;
};

struct GroupFixture {
  FaultInjectionEnv env;
  SyncGate gate;
  Options options;
  std::unique_ptr<Store> store;
  std::vector<std::thread> threads;

  GroupFixture() {
    options.env = &env;
    options.durability = Durability::kSync;
    env.SetSyncHook([this] { gate.Pass(); });
    Reopen();
  }
  ~GroupFixture() { JoinAll(); }

  void Reopen() {
    store.reset();
    auto opened = Store::Open(options, kDir);
    REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
    store = std::move(opened).value();
  }
  StoreImpl& impl() { return static_cast<StoreImpl&>(*store); }

  // Runs `write` on a new thread and waits until it is queued (as the n-th writer).
  void StartQueued(std::function<void()> write) {
    std::size_t before = impl().TEST_QueuedWriters();
    threads.emplace_back(std::move(write));
    while (impl().TEST_QueuedWriters() == before) std::this_thread::yield();
  }
  // Starts a leader that stops inside its sync, so that writers started next queue behind it.
  void StartBlockedLeader(std::function<void()> write) {
    gate.Close();
    threads.emplace_back(std::move(write));
    gate.AwaitWaiter();
  }
  void JoinAll() {
    gate.Open();
    for (auto& t : threads) t.join();
    threads.clear();
  }
  std::uint64_t Syncs() { return store->Info().sync_count; }
};

TEST_CASE("group commit: writers queued behind a sync commit together, with one sync") {
  GroupFixture fx;
  const std::uint64_t syncs_before = fx.Syncs();
  std::atomic<int> ok{0};
  auto append = [&](std::string tag) {
    return [&, tag] {
      std::vector<Event> events = {MakeEvent("E", {tag})};
      if (fx.store->Append(events, std::nullopt).ok()) ++ok;
    };
  };
  fx.StartBlockedLeader(append("leader"));
  for (int i = 0; i < 7; ++i) fx.StartQueued(append("w" + std::to_string(i)));
  CHECK(fx.impl().TEST_QueuedWriters() == 8);
  // Nothing of the queued writes (nor the leader's, still syncing) is visible before it commits.
  CHECK(fx.store->Head().value() == std::nullopt);
  fx.JoinAll();
  CHECK(ok == 8);
  CHECK(fx.store->Info().head == 8);
  CHECK(fx.store->Info().durable_head == 8);
  CHECK(fx.Syncs() - syncs_before == 2);  // the leader's group, then the seven
}

TEST_CASE("group commit: each request is checked against the ones accepted before it") {
  GroupFixture fx;
  std::vector<std::string> outcomes(8);
  auto record = [&](int slot, auto call) {
    return [&, slot, call] { outcomes[slot] = Status::CodeName(call().code()); };
  };
  auto conditional = [&] {
    std::vector<Event> events = {MakeEvent("Joined", {"course-1"})};
    AppendCondition condition{Query{{testing::Item({}, {"course-1"})}}, 0};
    return fx.store->Append(events, condition).status();
  };
  auto stream_v1 = [&] {
    std::vector<StoredEvent> events = {{"account-1", 1, "Opened", ""}};
    return fx.store->InsertEvents(events).status();
  };
  auto tracking = [&](std::int64_t id) {
    return [&, id] { return fx.store->InsertTracking({"upstream", id}); };
  };
  fx.StartBlockedLeader(record(0, [&] {
    std::vector<Event> events = {MakeEvent("Other", {"other"})};
    return fx.store->Append(events, std::nullopt).status();
  }));
  fx.StartQueued(record(1, conditional));
  fx.StartQueued(record(2, conditional));  // the first one's event now matches
  fx.StartQueued(record(3, stream_v1));
  fx.StartQueued(record(4, stream_v1));  // version 1 was just taken
  fx.StartQueued(record(5, tracking(5)));
  fx.StartQueued(record(6, tracking(5)));  // not above the maximum the group just set
  fx.StartQueued(record(7, tracking(6)));
  fx.JoinAll();
  CHECK(outcomes == std::vector<std::string>{"ok", "ok", "condition_failed", "ok",
                                             "integrity_error", "ok", "integrity_error", "ok"});
  // Positions stay dense: the refused requests took none.
  auto all = fx.store->Read(Query{}, {});
  REQUIRE(all.ok());
  REQUIRE(all->events.size() == 3);
  CHECK(all->events[1].event.type == "Joined");
  CHECK(all->events[2].event.stream->id == "account-1");
  CHECK(fx.store->MaxTrackingId("upstream").value() == 6);

  // The same answers after recovery.
  fx.Reopen();
  CHECK(fx.store->Info().head == 3);
  CHECK(fx.store->MaxTrackingId("upstream").value() == 6);
  CHECK(fx.store->InsertEvents(std::vector<StoredEvent>{{"account-1", 1, "Opened", ""}})
            .status()
            .IsIntegrityError());
}

TEST_CASE("group commit: a failed sync fails the whole group and poisons the store") {
  GroupFixture fx;
  std::vector<Event> first = {MakeEvent("A", {"x"})};
  REQUIRE(fx.store->Append(first, std::nullopt).ok());

  std::vector<std::string> outcomes(4);
  for (int i = 0; i < 4; ++i) {
    auto write = [&, i] {
      std::vector<Event> events = {MakeEvent("B", {"w" + std::to_string(i)})};
      outcomes[i] = Status::CodeName(fx.store->Append(events, std::nullopt).status().code());
    };
    if (i == 0) {
      fx.StartBlockedLeader(write);
    } else {
      fx.StartQueued(write);
    }
  }
  // The hook runs before a sync is attempted, so the leader's sync is the first to fail.
  fx.env.InjectFault({.kind = FaultInjectionEnv::OpKind::kSyncs, .nth = 1, .sticky = true});
  fx.JoinAll();
  CHECK(outcomes == std::vector<std::string>(4, "poisoned"));
  // Reads go on and see no part of a failed group; writes and Sync are refused.
  CHECK(fx.store->Info().head == 1);
  CHECK(fx.store->Read(Query{}, {}).ok());
  std::vector<Event> later = {MakeEvent("C", {})};
  CHECK(fx.store->Append(later, std::nullopt).status().IsPoisoned());
  CHECK(fx.store->Sync().IsPoisoned());

  // Reopened on a working disk: a dense prefix, and writes work again.
  fx.env.ClearFault();
  fx.Reopen();
  auto all = fx.store->Read(Query{}, {});
  REQUIRE(all.ok());
  for (std::size_t i = 0; i < all->events.size(); ++i) {
    CHECK(all->events[i].position == static_cast<std::int64_t>(i + 1));
  }
  CHECK(all->events.size() >= 1);
  CHECK(fx.store->Append(later, std::nullopt).ok());
}

TEST_CASE("group commit: a group that syncs writes its frames at once, and zeros ahead of them") {
  GroupFixture fx;
  // Nothing else writes meanwhile.
  fx.options.prepare_spare_segment = false;
  fx.options.checkpoint_interval_events = 0;
  fx.Reopen();
  const auto writes = [&] { return fx.env.OperationCount(FaultInjectionEnv::OpKind::kWrites); };
  const auto append = [&](std::string tag, Durability durability, std::size_t bytes = 10) {
    return [&fx, tag, durability, bytes] {
      std::vector<Event> events = {MakeEvent("E", {tag}, std::string(bytes, 'd'))};
      AppendRequest request{events, nullptr, nullptr, WriteOptions{durability}};
      CHECK(fx.store->Write(request).ok());  // not REQUIRE: some run on threads of their own
    };
  };
  std::uint64_t before = writes();
  fx.StartBlockedLeader(append("leader", Durability::kSync));
  for (int i = 0; i < 7; ++i) fx.StartQueued(append("w" + std::to_string(i), Durability::kSync));
  fx.JoinAll();
  // The leader's frame, then 256 KiB of zeros after it; the seven frames in one write, into
  // the zeros.
  CHECK(writes() - before == 3);
  CHECK(fx.store->Info().durable_head == 8);

  // Writes without a sync copy into the mapping (a large frame excepted), and make no zeros.
  before = writes();
  append("none", Durability::kNone)();
  append("buffered", Durability::kBuffered)();
  CHECK(writes() == before);
  append("large", Durability::kNone, 100 << 10)();
  CHECK(writes() - before == 1);

  // The frames of every kind read back, after a reopen too.
  for (int round = 0; round < 2; ++round) {
    auto all = fx.store->Read(Query{}, {});
    REQUIRE(all.ok());
    REQUIRE(all->events.size() == 11);
    CHECK(all->events[0].event.tags == std::vector<std::string>{"leader"});
    CHECK(all->events[10].event.data == std::string(100 << 10, 'd'));
    fx.Reopen();
  }

  // A group whose write fails fails with it, and poisons the store.
  fx.env.InjectFault({.kind = FaultInjectionEnv::OpKind::kWrites, .nth = 1, .sticky = true});
  std::vector<Event> events = {MakeEvent("E", {"failing"})};
  CHECK(fx.store->Append(events, std::nullopt).status().IsPoisoned());
  CHECK(fx.store->Append(events, std::nullopt).status().IsPoisoned());
  fx.env.ClearFault();
  fx.Reopen();
  CHECK(fx.store->Info().head == 11);
}

TEST_CASE("durability: kBuffered is synced in the background; kNone by the next kSync") {
  FaultInjectionEnv env;
  Options options;
  options.env = &env;
  options.sync_interval_ms = 5;
  auto opened = Store::Open(options, kDir);
  REQUIRE(opened.ok());
  std::unique_ptr<Store> store = std::move(opened).value();

  SUBCASE("buffered") {
    WriteOptions buffered{Durability::kBuffered};
    std::vector<Event> events = {MakeEvent("A", {"x"}), MakeEvent("B", {"y"})};
    AppendRequest request{events, nullptr, nullptr, buffered};
    REQUIRE(store->Write(request).ok());
    CHECK(store->Info().head == 2);
    // Within the interval (a generous bound: the machine may be busy).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (store->Info().durable_head != 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(store->Info().durable_head == 2);
    REQUIRE_OK(env.SimulateCrash(7, FaultInjectionEnv::CrashMode::kDropUnsynced));
  }
  SUBCASE("none, then sync") {
    WriteOptions none{Durability::kNone};
    std::vector<Event> events = {MakeEvent("A", {"x"})};
    for (int i = 0; i < 3; ++i) {
      AppendRequest request{events, nullptr, nullptr, none};
      REQUIRE(store->Write(request).ok());
    }
    CHECK(store->Info().durable_head == std::nullopt);
    std::vector<Event> last = {MakeEvent("B", {"y"})};
    REQUIRE(store->Append(last, std::nullopt).ok());  // the store's default: kSync
    CHECK(store->Info().durable_head == 4);
    REQUIRE_OK(env.SimulateCrash(11, FaultInjectionEnv::CrashMode::kDropUnsynced));
  }
  store.reset();
  auto reopened = Store::Open(options, kDir);
  REQUIRE_MESSAGE(reopened.ok(), reopened.status().ToString());
  auto all = (*reopened)->Read(Query{}, {});
  REQUIRE(all.ok());
  CHECK(all->events.size() >= 2);
  CHECK((*reopened)->Info().durable_head == (*reopened)->Info().head);
}

TEST_CASE("durability: closing syncs what was not yet durable") {
  FaultInjectionEnv env;
  Options options;
  options.env = &env;
  options.durability = Durability::kNone;
  {
    auto store = Store::Open(options, kDir);
    REQUIRE(store.ok());
    std::vector<Event> events = {MakeEvent("A", {"x"})};
    REQUIRE((*store)->Append(events, std::nullopt).ok());
    REQUIRE((*store)->Append(events, std::nullopt).ok());
  }
  REQUIRE_OK(env.SimulateCrash(3, FaultInjectionEnv::CrashMode::kDropUnsynced));
  auto store = Store::Open(options, kDir);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  CHECK((*store)->Info().head == 2);
}

TEST_CASE("io backend: chosen by Options, reported by Info") {
  testing::TempDir dir;
  Options options;
  options.durability = Durability::kSync;
  SUBCASE("posix") {
    options.io_backend = IoBackend::kPosix;
    auto store = Store::Open(options, dir.path() + "/s");
    REQUIRE(store.ok());
    CHECK((*store)->Info().io_backend == "posix");
  }
  SUBCASE("io_uring, where a ring starts") {
    options.io_backend = IoBackend::kIoUring;
    auto store = Store::Open(options, dir.path() + "/s");
    if (NewIoUringEnv().ok()) {
      REQUIRE_MESSAGE(store.ok(), store.status().ToString());
      CHECK((*store)->Info().io_backend == "io_uring");
      std::vector<Event> big = {MakeEvent("Big", {"x"}, std::string(100'000, 'b'))};
      REQUIRE((*store)->Append(big, std::nullopt).ok());  // a pwrite through the ring
      store->reset();
      auto reopened = Store::Open(options, dir.path() + "/s");
      REQUIRE(reopened.ok());
      auto all = (*reopened)->Read(Query{}, {});
      REQUIRE(all.ok());
      REQUIRE(all->events.size() == 1);
      CHECK(all->events[0].event.data == std::string(100'000, 'b'));
    } else {
      CHECK(store.status().code() == Status::Code::kNotSupported);
    }
  }
  SUBCASE("auto") {
    auto store = Store::Open(options, dir.path() + "/s");
    REQUIRE(store.ok());
    // POSIX, unless ES_IO_BACKEND asks for the ring (as one CI run does).
    const char* forced = std::getenv("ES_IO_BACKEND");
    CHECK((*store)->Info().io_backend ==
          (forced != nullptr && std::string_view(forced) == "io_uring" ? "io_uring" : "posix"));
  }
  SUBCASE("memory") {
    std::unique_ptr<Env> env = NewMemEnv();
    options.env = env.get();
    auto store = Store::Open(options, kDir);
    REQUIRE(store.ok());
    CHECK((*store)->Info().io_backend == "memory");
  }
}

}  // namespace
}  // namespace es
