// The general Write: stream versions, a DCB condition and a tracking record in one atomic request,
// and the validation every request goes through first.

#include <doctest/doctest.h>

#include "tests/conformance/helpers.h"

namespace es::conformance {
namespace {

Result<std::int64_t> WriteRequest(Recorder& recorder, const std::vector<Event>& events,
                                  const std::optional<AppendCondition>& condition = std::nullopt,
                                  const std::optional<Tracking>& tracking = std::nullopt) {
  AppendRequest request;
  request.events = events;
  request.condition = condition ? &*condition : nullptr;
  request.tracking = tracking ? &*tracking : nullptr;
  return recorder.Write(request);
}

TEST_CASE("write: a stream version check combined with a DCB condition") {
  ForEachBackend([](Fixture& fx) {
    const Event created = StreamEv("agg-1", 1, "Created", {"agg-1"});
    const Event updated = StreamEv("agg-1", 2, "Updated", {"agg-1"});
    const Event other = StreamEv("agg-2", 1, "Created", {"agg-2"});
    const Query boundary = Q({Tags({"agg-1"})});
    CHECK(AppendOk(fx.recorder(), {created}) == 1);

    // The condition fails: nothing is written, and it is checked before the stream versions.
    CHECK(CodeOf(WriteRequest(fx.recorder(), {updated}, Cond(boundary, 0))) == "condition_failed");
    CHECK(CodeOf(WriteRequest(fx.recorder(), {created}, Cond(boundary))) == "condition_failed");
    // The condition passes but a stream version exists: nothing is written.
    CHECK(CodeOf(WriteRequest(fx.recorder(), {other, created}, Cond(boundary, 1))) ==
          "integrity_error");
    CHECK(CodeOf(WriteRequest(fx.recorder(), {other, other}, Cond(boundary, 1))) ==
          "integrity_error");
    fx.Restart();
    CHECK(HeadOk(fx.recorder()) == 1);
    CHECK(ReadStreamOk(fx.recorder(), "agg-2").empty());

    // Both pass.
    Result<std::int64_t> written = WriteRequest(fx.recorder(), {updated, other}, Cond(boundary, 1));
    REQUIRE_MESSAGE(written.ok(), written.status().ToString());
    CHECK(*written == 3);
    fx.Restart();
    CHECK(ReadOk(fx.recorder()).events ==
          std::vector<SequencedEvent>{{1, created}, {2, updated}, {3, other}});
    CHECK(ReadStreamOk(fx.recorder(), "agg-1") ==
          std::vector<SequencedEvent>{{1, created}, {2, updated}});
    CHECK(ReadStreamOk(fx.recorder(), "agg-2") == std::vector<SequencedEvent>{{3, other}});
  });
}

TEST_CASE("write: a tracking record carried by a DCB write") {
  ForEachBackend([](Fixture& fx) {
    const std::vector<Event> processed = {Ev("Processed", {"x"})};
    const AppendCondition first_x = Cond(Q({Tags({"x"})}));
    const Tracking at5{"upstream", 5};
    const Tracking at6{"upstream", 6};

    Result<std::int64_t> written = WriteRequest(fx.recorder(), processed, first_x, at5);
    REQUIRE_MESSAGE(written.ok(), written.status().ToString());
    CHECK(*written == 1);
    // A failed condition drops the tracking record; a stale tracking record drops the events.
    CHECK(CodeOf(WriteRequest(fx.recorder(), processed, first_x, at6)) == "condition_failed");
    CHECK(CodeOf(WriteRequest(fx.recorder(), {Ev("Other")}, Cond(Q({Tags({"y"})})), at5)) ==
          "integrity_error");
    fx.Restart();
    CHECK(MaxTrackingOk(fx.recorder(), "upstream") == 5);
    CHECK(HeadOk(fx.recorder()) == 1);

    written = WriteRequest(fx.recorder(), {Ev("Other")}, Cond(Q({Tags({"y"})})), at6);
    REQUIRE_MESSAGE(written.ok(), written.status().ToString());
    CHECK(*written == 2);
    fx.Restart();
    CHECK(MaxTrackingOk(fx.recorder(), "upstream") == 6);
    CHECK(Positions(ReadOk(fx.recorder()).events) == std::vector<std::int64_t>{1, 2});
  });
}

TEST_CASE("write: invalid requests are rejected before any check and write nothing") {
  ForEachBackend([](Fixture& fx) {
    CHECK(AppendOk(fx.recorder(), {Ev("seed")}) == 1);
    // Every request but the last carries a condition that would fail and a stale tracking record:
    // validation comes first.
    CHECK(CodeOf(fx.recorder().InsertTracking({"upstream", 5})) == "ok");
    const AppendCondition failing = Cond(Q());
    const Tracking stale{"upstream", 5};
    const Event empty_stream = StreamEv("", 1);

    struct Case {
      std::string what;
      std::vector<Event> events;
      std::optional<AppendCondition> condition;
      std::optional<Tracking> tracking;
    };
    const std::vector<Case> cases = {
        {"no events and no tracking", {}, failing, std::nullopt},
        {"an empty type", {Ev("ok"), Ev("")}, failing, stale},
        {"an empty stream id", {Ev("ok"), empty_stream}, failing, stale},
        {"an empty application name", {Ev("ok")}, failing, Tracking{"", 9}},
        {"a negative condition after", {Ev("ok")}, Cond(Q({Tags({"nothing"})}), -1), std::nullopt},
    };
    for (const Case& c : cases) {
      INFO(c.what);
      CHECK(CodeOf(WriteRequest(fx.recorder(), c.events, c.condition, c.tracking)) ==
            "invalid_argument");
    }
    CHECK(CodeOf(fx.recorder().Append(std::vector<Event>{Ev("")}, std::nullopt)) ==
          "invalid_argument");
    CHECK(CodeOf(fx.recorder().InsertEvents(std::vector<StoredEvent>{{"", 1, "topic", "state"}})) ==
          "invalid_argument");
    CHECK(CodeOf(fx.recorder().InsertTracking({"", 9})) == "invalid_argument");
    fx.Restart();
    CHECK(HeadOk(fx.recorder()) == 1);
    CHECK(MaxTrackingOk(fx.recorder(), "upstream") == 5);
    CHECK(MaxTrackingOk(fx.recorder(), "") == std::nullopt);
  });
}

}  // namespace
}  // namespace es::conformance
