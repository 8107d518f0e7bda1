// The tracking recorder: reference §5.4 (test_insert_tracking) and has_tracking_id semantics.

#include <doctest/doctest.h>

#include "tests/conformance/helpers.h"

namespace es::conformance {
namespace {

TEST_CASE("tracking: insert tracking (test_insert_tracking)") {
  ForEachBackend([](Fixture& fx) {
    // 1.
    const std::vector<Tracking> records = {{"upstream1", 21}, {"upstream1", 22}, {"upstream2", 21}};
    for (const Tracking& tracking : records) {
      CHECK(CodeOf(fx.recorder().InsertTracking(tracking)) == "ok");
    }
    fx.Restart();
    for (const Tracking& tracking : records) {
      CAPTURE(tracking.application_name);
      CAPTURE(tracking.notification_id);
      CHECK(CodeOf(fx.recorder().InsertTracking(tracking)) == "integrity_error");
    }
    // 2.-3.
    CHECK(MaxTrackingOk(fx.recorder(), "upstream1") == 22);
    CHECK(MaxTrackingOk(fx.recorder(), "upstream2") == 21);
    CHECK(MaxTrackingOk(fx.recorder(), "upstream3") == std::nullopt);
    CheckHasTracking(fx.recorder(), "upstream1", {std::nullopt, 20, 21, 22}, {23});
    CheckHasTracking(fx.recorder(), "upstream2", {std::nullopt, 20, 21}, {22});

    // 4. No filling in a gap.
    CHECK(CodeOf(fx.recorder().InsertTracking({"upstream1", 24})) == "ok");
    CHECK(CodeOf(fx.recorder().InsertTracking({"upstream1", 23})) == "integrity_error");
    fx.Restart();
    CHECK(MaxTrackingOk(fx.recorder(), "upstream1") == 24);
    CheckHasTracking(fx.recorder(), "upstream1", {23, 24}, {25});
    // Tracking records are not events.
    CHECK(HeadOk(fx.recorder()) == std::nullopt);
  });
}

TEST_CASE("tracking: the records of every application, for export") {
  ForEachBackend([](Fixture& fx) {
    auto none = fx.recorder().TrackingRecords();
    REQUIRE_MESSAGE(none.ok(), none.status().ToString());
    CHECK(none->empty());
    for (const Tracking& tracking :
         std::vector<Tracking>{{"b-upstream", 3}, {"a-upstream", 9}, {"b-upstream", 7}, {"B", 1}}) {
      CHECK(CodeOf(fx.recorder().InsertTracking(tracking)) == "ok");
    }
    std::vector<StoredEvent> events = {{"originator", 1, "topic", "state"}};
    CHECK(fx.recorder().InsertEvents(events, Tracking{"c-upstream", 2}).ok());
    fx.Restart();
    auto records = fx.recorder().TrackingRecords();
    REQUIRE_MESSAGE(records.ok(), records.status().ToString());
    CHECK(*records ==
          std::vector<Tracking>{{"B", 1}, {"a-upstream", 9}, {"b-upstream", 7}, {"c-upstream", 2}});
  });
}

TEST_CASE("tracking: has_tracking_id means processed up to, per exact application name") {
  ForEachBackend([](Fixture& fx) {
    CheckHasTracking(fx.recorder(), "app", {std::nullopt}, {-1, 0, 1});
    CHECK(CodeOf(fx.recorder().InsertTracking({"app", 5})) == "ok");
    fx.Restart();
    CheckHasTracking(fx.recorder(), "app", {std::nullopt, -1, 0, 1, 5}, {6});
    CheckHasTracking(fx.recorder(), "App", {std::nullopt}, {1, 5});
    CheckHasTracking(fx.recorder(), "app2", {std::nullopt}, {1, 5});
    CheckHasTracking(fx.recorder(), "ap", {std::nullopt}, {1, 5});
    CHECK(MaxTrackingOk(fx.recorder(), "App") == std::nullopt);
  });
}

}  // namespace
}  // namespace es::conformance
