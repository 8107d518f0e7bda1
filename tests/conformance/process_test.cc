// The process recorder: reference §5.5 (events and tracking records written atomically).

#include <doctest/doctest.h>

#include "tests/conformance/helpers.h"

namespace es::conformance {
namespace {

constexpr std::string_view kUpstream = "upstream_app";

Result<std::vector<std::int64_t>> InsertTracked(Recorder& recorder,
                                                const std::vector<StoredEvent>& events,
                                                std::int64_t tracking_id) {
  return recorder.InsertEvents(events, Tracking{std::string(kUpstream), tracking_id});
}

TEST_CASE("process: insert and select with tracking (test_insert_select)") {
  ForEachBackend([](Fixture& fx) {
    const StoredEvent e1{"originator-1", 1, "topic1", "state1"};
    const StoredEvent e2{"originator-1", 2, "topic2", "state2"};
    const StoredEvent e3{"originator-2", 1, "topic3", "state3"};
    const StoredEvent e4{"originator-2", 2, "topic4", "state4"};

    // 1.-2. A duplicate event fails the tracking record with it.
    CHECK(MaxTrackingOk(fx.recorder(), kUpstream) == std::nullopt);
    Result<std::vector<std::int64_t>> first = InsertTracked(fx.recorder(), {e1, e2}, 1);
    REQUIRE_MESSAGE(first.ok(), first.status().ToString());
    CHECK(*first == std::vector<std::int64_t>{1, 2});
    CHECK(CodeOf(InsertTracked(fx.recorder(), {e2}, 2)) == "integrity_error");
    fx.Restart();
    CHECK(MaxTrackingOk(fx.recorder(), kUpstream) == 1);

    // 3. A duplicate tracking record fails the events with it.
    CHECK(CodeOf(InsertTracked(fx.recorder(), {e3}, 1)) == "integrity_error");
    fx.Restart();
    CHECK(MaxTrackingOk(fx.recorder(), kUpstream) == 1);
    CHECK(SelectOk(fx.recorder(), "originator-2").empty());
    CHECK(HeadOk(fx.recorder()) == 2);

    // 4.
    Result<std::vector<std::int64_t>> third = InsertTracked(fx.recorder(), {e3}, 2);
    REQUIRE_MESSAGE(third.ok(), third.status().ToString());
    CHECK(*third == std::vector<std::int64_t>{3});
    CHECK(InsertOk(fx.recorder(), {e4}) == std::vector<std::int64_t>{4});
    fx.Restart();
    CHECK(MaxTrackingOk(fx.recorder(), kUpstream) == 2);
    CHECK(SelectOk(fx.recorder(), "originator-1") == std::vector<StoredEvent>{e1, e2});
    CHECK(SelectOk(fx.recorder(), "originator-2") == std::vector<StoredEvent>{e3, e4});
  });
}

TEST_CASE("process: tracking records without events (test_has_tracking_id)") {
  ForEachBackend([](Fixture& fx) {
    CheckHasTracking(fx.recorder(), kUpstream, {std::nullopt}, {1, 2, 3, 4});
    CHECK(CodeOf(InsertTracked(fx.recorder(), {}, 1)) == "ok");
    fx.Restart();
    CheckHasTracking(fx.recorder(), kUpstream, {std::nullopt, 1}, {2, 3, 4});
    Result<std::vector<std::int64_t>> ids = InsertTracked(fx.recorder(), {}, 3);
    REQUIRE_MESSAGE(ids.ok(), ids.status().ToString());
    CHECK(ids->empty());
    fx.Restart();
    CheckHasTracking(fx.recorder(), kUpstream, {std::nullopt, 1, 2, 3}, {4});
    CHECK(HeadOk(fx.recorder()) == std::nullopt);
  });
}

TEST_CASE(
    "process: a lower tracking id inserted later fails "
    "(test_raises_when_lower_inserted_later)") {
  ForEachBackend([](Fixture& fx) {
    CHECK(CodeOf(InsertTracked(fx.recorder(), {}, 2)) == "ok");
    CHECK(CodeOf(InsertTracked(fx.recorder(), {{"originator-1", 1, "topic", "state"}}, 1)) ==
          "integrity_error");
    fx.Restart();
    CHECK(MaxTrackingOk(fx.recorder(), kUpstream) == 2);
    CHECK(HeadOk(fx.recorder()) == std::nullopt);
  });
}

TEST_CASE("process: one event and one tracking record per insert (test_performance)") {
  ForEachBackend([](Fixture& fx) {
    for (std::int64_t i = 1; i <= 100; ++i) {
      CAPTURE(i);
      Result<std::vector<std::int64_t>> ids = InsertTracked(
          fx.recorder(), {{"originator-" + std::to_string(i), 1, "topic", "state"}}, i);
      REQUIRE_MESSAGE(ids.ok(), ids.status().ToString());
      CHECK(*ids == std::vector<std::int64_t>{i});
    }
    fx.Restart();
    CHECK(MaxTrackingOk(fx.recorder(), kUpstream) == 100);
    CHECK(MaxNotificationIdOk(fx.recorder()) == 100);
  });
}

}  // namespace
}  // namespace es::conformance
