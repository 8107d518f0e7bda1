// DCB appends from several threads (reference §5.1, "tests we should add") and read-your-writes
// (design.md §1).

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <thread>

#include "tests/conformance/helpers.h"

namespace es::conformance {
namespace {

std::string WriterTag(std::size_t writer) { return "writer-" + std::to_string(writer); }

TEST_CASE("dcb: positions are contiguous and in commit order under concurrent writers") {
  ForEachBackend([](Fixture& fx) {
    constexpr std::size_t kWriters = 4;
    constexpr std::size_t kAppends = 60;
    struct Batch {
      std::int64_t last;
      std::vector<Event> events;
    };
    std::vector<std::vector<Batch>> batches(kWriters);
    ThreadErrors errors;
    std::atomic<bool> writers_done{false};
    std::int64_t tailed = 0;
    std::latch start(kWriters + 1);

    // A reader tailing the log must see 1, 2, 3, ... without ever skipping a position.
    std::thread tail([&] {
      start.arrive_and_wait();
      for (;;) {
        const bool done = writers_done.load();
        Result<ReadResult> read = fx.recorder().Read(Q(), {tailed, 7});
        if (!read.ok()) return errors.Add(read.status().ToString());
        for (const SequencedEvent& e : read->events) {
          if (e.position != tailed + 1) {
            return errors.Add("tail saw " + std::to_string(e.position) + " after " +
                              std::to_string(tailed));
          }
          tailed = e.position;
        }
        if (read->events.empty() && done) return;
      }
    });
    std::vector<std::thread> writers;
    for (std::size_t w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        start.arrive_and_wait();
        for (std::size_t i = 0; i < kAppends; ++i) {
          Batch batch;
          for (std::size_t k = 0; k <= i % 3; ++k) {
            batch.events.push_back(
                Ev("type", {WriterTag(w)}, std::to_string(i) + "-" + std::to_string(k)));
          }
          Result<std::int64_t> last = fx.recorder().Append(batch.events, std::nullopt);
          if (!last.ok()) return errors.Add(last.status().ToString());
          batch.last = *last;
          batches[w].push_back(std::move(batch));
        }
      });
    }
    for (std::thread& t : writers) t.join();
    writers_done = true;
    tail.join();
    CHECK(errors.Get() == std::vector<std::string>{});
    fx.Restart();

    ReadResult all = ReadOk(fx.recorder());
    const auto total = static_cast<std::int64_t>(all.events.size());
    CHECK(Positions(all.events) == Iota(total));
    CHECK(tailed == total);
    std::int64_t appended = 0;
    for (std::size_t w = 0; w < kWriters; ++w) {
      CAPTURE(w);
      std::vector<std::int64_t> own;  // this writer's positions, in the order it appended
      for (const Batch& batch : batches[w]) {
        const auto size = static_cast<std::int64_t>(batch.events.size());
        for (std::int64_t k = 0; k < size; ++k) {
          const std::int64_t position = batch.last - size + 1 + k;
          REQUIRE(position >= 1);
          REQUIRE(position <= total);
          CHECK(all.events[static_cast<std::size_t>(position - 1)].event ==
                batch.events[static_cast<std::size_t>(k)]);
          own.push_back(position);
        }
        appended += size;
      }
      CHECK(std::is_sorted(own.begin(), own.end()));
      CHECK(Positions(ReadOk(fx.recorder(), Q({Tags({WriterTag(w)})})).events) == own);
    }
    CHECK(appended == total);
  });
}

TEST_CASE("dcb: of concurrent conditional appends on one boundary exactly one wins") {
  ForEachBackend([](Fixture& fx) {
    constexpr int kRounds = 20;
    constexpr std::size_t kContenders = 4;
    const Query boundary = Q({Item({"CourseRegistered", "StudentJoinedCourse"}, {"course-1"})});
    CHECK(AppendOk(fx.recorder(), {Ev("CourseRegistered", {"course-1"})}) == 1);

    for (int round = 0; round < kRounds; ++round) {
      CAPTURE(round);
      ThreadErrors errors;
      std::atomic<int> wins{0};
      std::atomic<int> refusals{0};
      // Every contender reads the boundary before any of them appends; a bystander appends
      // outside the boundary at the same time, which must not make anyone fail.
      std::latch all_read(kContenders + 1);
      std::vector<std::thread> threads;
      for (std::size_t t = 0; t < kContenders; ++t) {
        threads.emplace_back([&, t] {
          Result<ReadResult> read = fx.recorder().Read(boundary, {});
          all_read.arrive_and_wait();
          if (!read.ok()) return errors.Add(read.status().ToString());
          Result<std::int64_t> appended = fx.recorder().Append(
              std::vector<Event>{
                  Ev("StudentJoinedCourse", {"course-1", "student-" + std::to_string(t)})},
              Cond(boundary, read->head));
          if (appended.ok()) {
            ++wins;
          } else if (appended.status().IsConditionFailed()) {
            ++refusals;
          } else {
            errors.Add(appended.status().ToString());
          }
        });
      }
      threads.emplace_back([&] {
        all_read.arrive_and_wait();
        Result<std::int64_t> appended = fx.recorder().Append(
            std::vector<Event>{Ev("StudentJoinedCourse", {"course-2", "student-0"})}, std::nullopt);
        if (!appended.ok()) errors.Add(appended.status().ToString());
      });
      for (std::thread& t : threads) t.join();
      CHECK(errors.Get() == std::vector<std::string>{});
      CHECK(wins == 1);
      CHECK(refusals == static_cast<int>(kContenders) - 1);
    }
    fx.Restart();
    CHECK(ReadOk(fx.recorder(), boundary).events.size() == static_cast<std::size_t>(kRounds) + 1);
    CHECK(HeadOk(fx.recorder()) == 2 * kRounds + 1);
  });
}

TEST_CASE("dcb: reads see every append that returned before they began (read-your-writes)") {
  ForEachBackend([](Fixture& fx) {
    constexpr std::int64_t kAppends = 100;
    // The same thread.
    for (std::int64_t i = 1; i <= kAppends / 2; ++i) {
      CAPTURE(i);
      const Event event = Ev("type", {"same-thread"}, std::to_string(i));
      REQUIRE(AppendOk(fx.recorder(), {event}) == i);
      CHECK(ReadOk(fx.recorder(), Q({Tags({"same-thread"})}), i - 1).events ==
            std::vector<SequencedEvent>{{i, event}});
      CHECK(HeadOk(fx.recorder()) == i);
      CHECK(MaxNotificationIdOk(fx.recorder()) == i);
    }
    // Another thread: once a position is published, the append that produced it has returned.
    std::atomic<std::int64_t> published{0};
    ThreadErrors errors;
    std::thread writer([&] {
      for (std::int64_t i = kAppends / 2 + 1; i <= kAppends; ++i) {
        Result<std::int64_t> position =
            fx.recorder().Append(std::vector<Event>{Ev("type", {"other-thread"})}, std::nullopt);
        if (!position.ok()) return errors.Add(position.status().ToString());
        published.store(*position, std::memory_order_release);
      }
    });
    std::int64_t seen = 0;
    while (seen < kAppends && errors.Get().empty()) {
      const std::int64_t position = published.load(std::memory_order_acquire);
      if (position == seen) {
        std::this_thread::yield();
        continue;
      }
      Result<ReadResult> read = fx.recorder().Read(Q({Tags({"other-thread"})}), {position - 1, 1});
      if (!read.ok() || Positions(read->events) != std::vector<std::int64_t>{position}) {
        errors.Add("append at " + std::to_string(position) + " not visible after it returned");
        break;
      }
      seen = position;
    }
    writer.join();
    CHECK(errors.Get() == std::vector<std::string>{});
    CHECK(seen == kAppends);
  });
}

}  // namespace
}  // namespace es::conformance
