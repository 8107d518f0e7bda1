// The application recorder (notification log): reference §5.3 and §5.6.

#include <doctest/doctest.h>

#include <atomic>
#include <latch>
#include <map>
#include <thread>
#include <utility>

#include "tests/conformance/helpers.h"

namespace es::conformance {
namespace {

struct SelectCase {
  SelectNotificationsOptions options;
  std::vector<std::int64_t> ids;  // expected
};

// Checks every case: the ids returned and, through `expected(id)`, every field of each.
template <typename Expected>
void CheckSelects(Recorder& recorder, const std::vector<SelectCase>& cases, Expected expected) {
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    std::vector<Notification> wanted;
    for (std::int64_t id : cases[i].ids) wanted.push_back(expected(id));
    CHECK(NotificationsOk(recorder, cases[i].options) == wanted);
  }
}

Notification ToNotification(std::int64_t id, const StoredEvent& e) {
  return Notification{id, e.originator_id, e.originator_version, e.topic, e.state};
}

TEST_CASE("application: insert and select notifications (test_insert_select)") {
  ForEachBackend([](Fixture& fx) {
    const StoredEvent e1{"originator-1", 1, "topic1", "state1"};
    const StoredEvent e2{"originator-1", 2, "topic2", "state2"};
    const StoredEvent e3{"originator-2", 1, "topic3", "state3"};
    const std::vector<Notification> notifications = {ToNotification(1, e1), ToNotification(2, e2),
                                                     ToNotification(3, e3)};
    auto expected = [&](std::int64_t id) {
      return notifications[static_cast<std::size_t>(id - 1)];
    };

    // 1. The empty store.
    CHECK(NotificationsOk(fx.recorder(), Notifs({}, 3)).empty());
    CHECK(NotificationsOk(fx.recorder(), Notifs({}, 3, {}, {"topic1"})).empty());
    CHECK(MaxNotificationIdOk(fx.recorder()) == std::nullopt);

    // 2.-3.
    CHECK(InsertOk(fx.recorder(), {e1, e2}) == std::vector<std::int64_t>{1, 2});
    CHECK(InsertOk(fx.recorder(), {e3}) == std::vector<std::int64_t>{3});
    CHECK(CodeOf(fx.recorder().InsertEvents(std::vector<StoredEvent>{e3})) == "integrity_error");
    fx.Restart();
    CHECK(SelectOk(fx.recorder(), "originator-1").size() == 2);
    CHECK(SelectOk(fx.recorder(), "originator-2").size() == 1);

    // 4.-6.
    CheckSelects(fx.recorder(),
                 {
                     {Notifs({}, 10), {1, 2, 3}},
                     {Notifs(1, 10), {1, 2, 3}},
                     {Notifs({}, 10, 2), {1, 2}},
                     {Notifs(1, 10, {}, {}, kExclusive), {2, 3}},
                     {Notifs(2, 10, {}, {}, kExclusive), {3}},
                     {Notifs(1, 10, {}, {"topic1", "topic2", "topic3"}), {1, 2, 3}},
                     {Notifs(1, 10, {}, {"topic1"}), {1}},
                     {Notifs(1, 3, {}, {"topic2"}), {2}},
                     {Notifs(1, 3, {}, {"topic3"}), {3}},
                     {Notifs(1, 3, {}, {"topic1", "topic3"}), {1, 3}},
                 },
                 expected);
    CHECK(MaxNotificationIdOk(fx.recorder()) == 3);
    CheckSelects(fx.recorder(),
                 {
                     {Notifs({}, 1), {1}},
                     {Notifs(2, 1), {2}},
                     {Notifs(1, 1, {}, {}, kExclusive), {2}},
                     {Notifs(2, 2), {2, 3}},
                     {Notifs(3, 1), {3}},
                     {Notifs(3, 1, {}, {}, kExclusive), {}},
                     {Notifs(2, 10, 2), {2}},
                     {Notifs(1, 10, 2), {1, 2}},
                     {Notifs(1, 10, 2, {}, kExclusive), {2}},
                 },
                 expected);
  });
}

TEST_CASE("application: select notifications combining start, limit, stop and topics") {
  ForEachBackend([](Fixture& fx) {
    // Ids 1..10 with topics A B C A B C A B C A, then a DCB event of type A at 11.
    const std::vector<std::string> topics = {"A", "B", "C"};
    std::vector<StoredEvent> events;
    for (std::int64_t id = 1; id <= 10; ++id) {
      events.push_back(
          {"agg", id, topics[static_cast<std::size_t>(id - 1) % 3], "state" + std::to_string(id)});
    }
    CHECK(InsertOk(fx.recorder(), events) == Iota(10));
    CHECK(AppendOk(fx.recorder(), {Ev("A", {}, "state11")}) == 11);
    fx.Restart();
    auto expected = [&](std::int64_t id) {
      return id == 11 ? Notification{11, "", 0, "A", "state11"}
                      : ToNotification(id, events[static_cast<std::size_t>(id - 1)]);
    };
    CheckSelects(fx.recorder(),
                 {
                     {Notifs({}, 2, {}, {"A"}), {1, 4}},
                     {Notifs(2, 2, {}, {"A"}), {4, 7}},
                     {Notifs(4, 10, {}, {"A"}, kExclusive), {7, 10, 11}},
                     {Notifs({}, 10, 7, {"A"}), {1, 4, 7}},
                     {Notifs({}, 2, 7, {"A", "C"}), {1, 3}},
                     {Notifs(5, 3, 9, {"A", "C"}), {6, 7, 9}},
                     {Notifs(5, 2, 6, {"A", "C"}), {6}},
                     {Notifs(5, 10, 8, {"B"}), {5, 8}},
                     {Notifs(5, 10, 8, {"B"}, kExclusive), {8}},
                     {Notifs({}, 0, {}, {"A"}), {}},
                     {Notifs({}, 10, {}, {"missing"}), {}},
                     {Notifs({}, 10, 0), {}},
                     {Notifs(3, 10, 2), {}},
                     {Notifs(12, 10), {}},
                     {Notifs(0, 2), {1, 2}},
                     {Notifs(0, 2, {}, {}, kExclusive), {1, 2}},
                     {Notifs(-5, 2), {1, 2}},
                 },
                 expected);
  });
}

TEST_CASE("application: single-event inserts get consecutive ids (test_performance)") {
  ForEachBackend([](Fixture& fx) {
    for (std::int64_t i = 1; i <= 110; ++i) {
      CAPTURE(i);
      CHECK(InsertOk(fx.recorder(), {{"originator-" + std::to_string(i), 1, "topic", "state"}}) ==
            std::vector<std::int64_t>{i});
    }
    fx.Restart();
    CHECK(Ids(NotificationsOk(fx.recorder(), Notifs({}, 200))) == Iota(110));
  });
}

struct Load {
  int writers;
  int jobs;            // per writer
  int events_per_job;  // one originator per job, versions 1..events_per_job
  int readers;         // tailing the log while the writers run
};

// Writers insert their jobs while readers tail the notification log ten at a time, each reader
// checking that the ids it sees are 1, 2, 3, ... without a gap. Then every id must hold the event
// its insert was told it got.
void RunConcurrentInserts(Fixture& fx, const Load& load) {
  const std::int64_t total = std::int64_t{load.writers} * load.jobs * load.events_per_job;
  ThreadErrors errors;
  std::map<std::int64_t, std::pair<std::string, std::int64_t>> inserted;  // id -> (origin, v)
  std::mutex inserted_mu;
  std::atomic<bool> writers_done{false};
  std::latch start(load.writers + load.readers);

  std::vector<std::thread> readers;
  for (int r = 0; r < load.readers; ++r) {
    readers.emplace_back([&] {
      start.arrive_and_wait();
      std::int64_t last = 0;
      for (;;) {
        const bool done = writers_done.load();
        Result<std::vector<Notification>> batch =
            fx.recorder().SelectNotifications(Notifs(last, 10, {}, {}, kExclusive));
        if (!batch.ok()) return errors.Add(batch.status().ToString());
        for (const Notification& n : *batch) {
          if (n.id != last + 1) {
            return errors.Add("reader saw id " + std::to_string(n.id) + " after " +
                              std::to_string(last));
          }
          last = n.id;
        }
        if (batch->empty() && done) break;
      }
      if (last != total) errors.Add("reader stopped at " + std::to_string(last));
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < load.writers; ++w) {
    writers.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int j = 0; j < load.jobs; ++j) {
        const std::string originator = "w" + std::to_string(w) + "-j" + std::to_string(j);
        std::vector<StoredEvent> events;
        for (std::int64_t v = 1; v <= load.events_per_job; ++v) {
          events.push_back({originator, v, "topic", originator + "-v" + std::to_string(v)});
        }
        Result<std::vector<std::int64_t>> ids = fx.recorder().InsertEvents(events);
        if (!ids.ok()) return errors.Add(ids.status().ToString());
        std::lock_guard<std::mutex> lock(inserted_mu);
        for (std::size_t k = 0; k < ids->size(); ++k) {
          inserted[(*ids)[k]] = {originator, events[k].originator_version};
        }
      }
    });
  }
  for (std::thread& t : writers) t.join();
  writers_done = true;
  for (std::thread& t : readers) t.join();

  CHECK(errors.Get() == std::vector<std::string>{});
  fx.Restart();
  CHECK(inserted.size() == static_cast<std::size_t>(total));
  std::vector<Notification> all = NotificationsOk(fx.recorder(), Notifs({}, total + 1));
  REQUIRE(Ids(all) == Iota(total));
  for (const Notification& n : all) {
    CAPTURE(n);
    CHECK(inserted[n.id] == std::make_pair(n.originator_id, n.originator_version));
  }
}

TEST_CASE("application: concurrent inserts with tailing readers (test_concurrent_no_conflicts)") {
  ForEachBackend([](Fixture& fx) {
    RunConcurrentInserts(fx, {.writers = 4, .jobs = 25, .events_per_job = 50, .readers = 2});
  });
}

TEST_CASE("application: concurrent inserts (test_concurrent_throughput)") {
  ForEachBackend([](Fixture& fx) {
    RunConcurrentInserts(fx, {.writers = 4, .jobs = 10, .events_per_job = 50, .readers = 0});
  });
}

TEST_CASE("application: concurrent batches get non-interleaved ids (NonInterleaving)") {
  ForEachBackend([](Fixture& fx) {
    const std::optional<std::int64_t> prior_max = MaxNotificationIdOk(fx.recorder());
    constexpr std::int64_t kBatch = 1000;
    std::latch start(2);
    std::vector<Result<std::vector<std::int64_t>>> results(2, Status::Timeout("not run"));
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        std::vector<StoredEvent> events;
        for (std::int64_t v = 1; v <= kBatch; ++v) {
          events.push_back({"originator-" + std::to_string(t), v, "topic", "state"});
        }
        start.arrive_and_wait();
        results[t] = fx.recorder().InsertEvents(events);
      });
    }
    for (std::thread& t : threads) t.join();
    for (const auto& result : results) REQUIRE_MESSAGE(result.ok(), result.status().ToString());
    fx.Restart();

    std::map<std::string, std::vector<std::int64_t>> ids_by_originator;
    for (const Notification& n : NotificationsOk(
             fx.recorder(), Notifs(prior_max.value_or(0), 2 * kBatch, {}, {}, kExclusive))) {
      ids_by_originator[n.originator_id].push_back(n.id);
    }
    const std::vector<std::int64_t>& a = ids_by_originator["originator-0"];
    const std::vector<std::int64_t>& b = ids_by_originator["originator-1"];
    CHECK(a == *results[0]);
    CHECK(b == *results[1]);
    REQUIRE(a.size() == kBatch);
    REQUIRE(b.size() == kBatch);
    CHECK((a.back() < b.front() || b.back() < a.front()));
  });
}

}  // namespace
}  // namespace es::conformance
