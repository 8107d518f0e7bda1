// Subscriptions and waits: reference §1.6 (DCB subscribe), §3.3 (notification subscribe) and §3.4
// (tracking wait). Timeouts are only ever asserted in the direction that cannot flake: a wait that
// must time out is given a short timeout, one that must succeed a long one.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/conformance/helpers.h"

namespace es::conformance {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kLong(20'000);  // must not expire: only a bug makes the test wait this long
constexpr milliseconds kShort(50);     // must expire

std::unique_ptr<Subscription<SequencedEvent>> SubscribeOk(Recorder& recorder, const Query& query,
                                                          std::optional<std::int64_t> after) {
  auto sub = recorder.Subscribe(query, after);
  REQUIRE(sub.ok());
  return std::move(sub).value();
}

std::vector<std::int64_t> NextPositions(Subscription<SequencedEvent>& sub, std::size_t n) {
  std::vector<std::int64_t> positions;
  for (std::size_t i = 0; i < n; ++i) {
    auto event = sub.Next(kLong);
    REQUIRE(event.ok());
    positions.push_back(event->position);
  }
  return positions;
}

TEST_CASE("subscribe: yields what is there, then blocks, then wakes for a new event") {
  ForEachBackend([](Fixture& fx) {
    Recorder& r = fx.recorder();
    AppendOk(r, {Ev("A", {"x"})});
    fx.Restart();
    Recorder& recorder = fx.recorder();
    std::optional<std::int64_t> initial = HeadOk(recorder);
    AppendOk(recorder, {Ev("B", {"x"}, "second")});

    auto sub = SubscribeOk(recorder, Q(), initial);
    auto first = sub->Next(kLong);
    REQUIRE(first.ok());
    CHECK(first->position == 2);
    CHECK(first->event.type == "B");
    CHECK(first->event.data == "second");

    // Nothing new: it waits, and times out.
    CHECK(CodeOf(sub->Next(kShort)) == "timeout");

    // A write from another thread wakes a blocked Next.
    std::thread writer([&] {
      std::this_thread::sleep_for(milliseconds(20));
      AppendOk(recorder, {Ev("C", {"y"})});
    });
    auto third = sub->Next(kLong);
    writer.join();
    REQUIRE(third.ok());
    CHECK(third->position == 3);
    CHECK(third->event.type == "C");
  });
}

TEST_CASE("subscribe: only matching events, after the starting point, across many batches") {
  ForEachBackend([](Fixture& fx) {
    Recorder& recorder = fx.recorder();
    std::vector<Event> events;
    for (int i = 0; i < 1'200; ++i) events.push_back(Ev(i % 3 == 0 ? "Match" : "Other", {"t"}));
    AppendOk(recorder, events);
    fx.Restart();
    Recorder& r = fx.recorder();

    auto sub = SubscribeOk(r, Q({Types({"Match"})}), 300);
    std::vector<std::int64_t> want;
    for (std::int64_t p = 301; p <= 1'200; ++p) {
      if ((p - 1) % 3 == 0) want.push_back(p);
    }
    CHECK(NextPositions(*sub, want.size()) == want);
    CHECK(CodeOf(sub->Next(kShort)) == "timeout");

    AppendOk(r, {Ev("Other", {"t"}), Ev("Match", {"u"})});
    CHECK(NextPositions(*sub, 1) == std::vector<std::int64_t>{1'202});

    // Every shape of query: a tag item.
    auto tagged = SubscribeOk(r, Q({Tags({"u"})}), std::nullopt);
    CHECK(NextPositions(*tagged, 1) == std::vector<std::int64_t>{1'202});
    CHECK(CodeOf(tagged->Next(kShort)) == "timeout");
  });
}

TEST_CASE("subscribe: stop ends it, from another thread, before or during a wait") {
  ForEachBackend([](Fixture& fx) {
    Recorder& recorder = fx.recorder();
    AppendOk(recorder, {Ev("A")});

    SUBCASE("before the first Next") {
      auto sub = SubscribeOk(recorder, Q(), std::nullopt);
      sub->Stop();
      CHECK(CodeOf(sub->Next(kLong)) == "interrupted");
    }
    SUBCASE("while Next waits") {
      auto sub = SubscribeOk(recorder, Q(), std::nullopt);
      CHECK(NextPositions(*sub, 1) == std::vector<std::int64_t>{1});
      std::thread stopper([&] {
        std::this_thread::sleep_for(milliseconds(20));
        sub->Stop();
      });
      CHECK(CodeOf(sub->Next(kLong)) == "interrupted");
      stopper.join();
      sub->Stop();  // again: harmless
      AppendOk(recorder, {Ev("B")});
      CHECK(CodeOf(sub->Next(kLong)) == "interrupted");
    }
    SUBCASE("with events still unread") {
      AppendOk(recorder, {Ev("B"), Ev("C")});
      auto sub = SubscribeOk(recorder, Q(), std::nullopt);
      CHECK(NextPositions(*sub, 1) == std::vector<std::int64_t>{1});
      sub->Stop();
      CHECK(CodeOf(sub->Next(kLong)) == "interrupted");
    }
  });
}

TEST_CASE("subscribe: bad starting point") {
  ForEachBackend(
      [](Fixture& fx) { CHECK(CodeOf(fx.recorder().Subscribe(Q(), -1)) == "invalid_argument"); });
}

TEST_CASE("subscribe: never skips an event under concurrent writers") {
  ForEachBackend([](Fixture& fx) {
    Recorder& recorder = fx.recorder();
    constexpr int kWriters = 4;
    constexpr int kAppends = 150;
    auto everything = SubscribeOk(recorder, Q(), std::nullopt);
    auto odd = SubscribeOk(recorder, Q({Tags({"odd"})}), std::nullopt);
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&recorder, w] {
        for (int i = 0; i < kAppends; ++i) {
          std::vector<Event> batch = {Ev("E", {"w" + std::to_string(w)}),
                                      Ev("E", {"w" + std::to_string(w), "odd"})};
          if (!recorder.Append(batch, std::nullopt).ok()) return;
        }
      });
    }
    // Consumed while the writers write: every position, in order, each once.
    constexpr std::int64_t kTotal = kWriters * kAppends * 2;
    CHECK(NextPositions(*everything, kTotal) == Iota(kTotal));
    for (auto& writer : writers) writer.join();
    std::vector<std::int64_t> odd_positions;
    for (std::int64_t p = 2; p <= kTotal; p += 2) odd_positions.push_back(p);
    CHECK(NextPositions(*odd, odd_positions.size()) == odd_positions);
    CHECK(CodeOf(everything->Next(kShort)) == "timeout");
  });
}

TEST_CASE("subscribe notifications: after gt, by topic, then live; stop") {
  ForEachBackend([](Fixture& fx) {
    Recorder& recorder = fx.recorder();
    InsertOk(recorder, {{"a", 1, "Opened", "1"}, {"b", 1, "Closed", "2"}, {"a", 2, "Opened", "3"}});
    fx.Restart();
    Recorder& r = fx.recorder();

    auto all = r.SubscribeNotifications(std::nullopt, {});
    REQUIRE(all.ok());
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 3; ++i) {
      auto n = (*all)->Next(kLong);
      REQUIRE(n.ok());
      ids.push_back(n->id);
    }
    CHECK(ids == std::vector<std::int64_t>{1, 2, 3});

    auto opened = r.SubscribeNotifications(1, {"Opened"});
    REQUIRE(opened.ok());
    auto third = (*opened)->Next(kLong);
    REQUIRE(third.ok());
    CHECK(third->id == 3);
    CHECK(third->originator_id == "a");
    CHECK(third->originator_version == 2);
    CHECK(third->state == "3");
    CHECK(CodeOf((*opened)->Next(kShort)) == "timeout");

    std::thread writer([&] {
      std::this_thread::sleep_for(milliseconds(20));
      InsertOk(r, {{"c", 1, "Closed", "4"}, {"c", 2, "Opened", "5"}});
    });
    auto fifth = (*opened)->Next(kLong);
    writer.join();
    REQUIRE(fifth.ok());
    CHECK(fifth->id == 5);

    (*all)->Stop();
    CHECK(CodeOf((*all)->Next(kLong)) == "interrupted");
  });
}

TEST_CASE("tracking wait: at once, on a later insert, timeout, interrupt") {
  ForEachBackend([](Fixture& fx) {
    Recorder& recorder = fx.recorder();
    CHECK(CodeOf(recorder.InsertTracking({"upstream", 5})) == "ok");
    fx.Restart();
    Recorder& r = fx.recorder();

    CHECK(CodeOf(r.Wait("upstream", std::nullopt, kShort)) == "ok");
    CHECK(CodeOf(r.Wait("other", std::nullopt, kShort)) == "ok");
    CHECK(CodeOf(r.Wait("upstream", 4, kShort)) == "ok");
    CHECK(CodeOf(r.Wait("upstream", 5, kShort)) == "ok");
    CHECK(CodeOf(r.Wait("upstream", 6, kShort)) == "timeout");
    CHECK(CodeOf(r.Wait("other", 1, kShort)) == "timeout");

    SUBCASE("a later insert wakes the wait") {
      std::thread writer([&] {
        std::this_thread::sleep_for(milliseconds(20));
        CHECK(CodeOf(r.InsertTracking({"other", 1})) == "ok");  // not this application
        std::vector<StoredEvent> events = {{"x", 1, "Processed", ""}};
        REQUIRE(r.InsertEvents(events, Tracking{"upstream", 7}).ok());
      });
      CHECK(CodeOf(r.Wait("upstream", 7, kLong)) == "ok");
      writer.join();
      // The events recorded with the tracking record are visible once the wait returns.
      CHECK(MaxNotificationIdOk(r) == 1);
    }
    SUBCASE("an interrupt set during the wait") {
      Interrupt interrupt;
      std::thread stopper([&] {
        std::this_thread::sleep_for(milliseconds(20));
        interrupt.Set();
      });
      CHECK(CodeOf(r.Wait("upstream", 6, kLong, &interrupt)) == "interrupted");
      stopper.join();
      CHECK(interrupt.IsSet());
    }
    SUBCASE("an interrupt set before the wait") {
      Interrupt interrupt;
      interrupt.Set();
      CHECK(CodeOf(r.Wait("upstream", 6, kLong, &interrupt)) == "interrupted");
      // Already processed wins over the interrupt.
      CHECK(CodeOf(r.Wait("upstream", 5, kLong, &interrupt)) == "ok");
    }
  });
}

}  // namespace
}  // namespace es::conformance
