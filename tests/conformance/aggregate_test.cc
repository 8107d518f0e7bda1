// The aggregate recorder: reference §5.2 (test_insert_and_select) and the select_events options.

#include <doctest/doctest.h>

#include "tests/conformance/helpers.h"

namespace es::conformance {
namespace {

TEST_CASE("aggregate: insert and select (test_insert_and_select)") {
  ForEachBackend([](Fixture& fx) {
    const StoredEvent v1{"originator-1", 1, "topic1", "state1"};
    const StoredEvent v2{"originator-1", 2, "topic2", "state2"};
    const StoredEvent v3{"originator-1", 3, "topic3", "state3"};

    // 1.-2. Nothing inserted, nothing selected.
    CHECK(InsertOk(fx.recorder(), {}).empty());
    CHECK(HeadOk(fx.recorder()) == std::nullopt);
    CHECK(SelectOk(fx.recorder(), "unknown", Versions({}, {}, true, 1)).empty());

    // 3.
    CHECK(InsertOk(fx.recorder(), {v1}) == std::vector<std::int64_t>{1});
    fx.Restart();
    CHECK(SelectOk(fx.recorder(), "originator-1") == std::vector<StoredEvent>{v1});

    // 4.-5. Conflicts with the store or within the batch write nothing.
    const std::vector<std::vector<StoredEvent>> conflicting = {{v1}, {v1, v2}, {v2, v2}};
    for (std::size_t i = 0; i < conflicting.size(); ++i) {
      CAPTURE(i);
      CHECK(CodeOf(fx.recorder().InsertEvents(conflicting[i])) == "integrity_error");
    }
    fx.Restart();
    CHECK(SelectOk(fx.recorder(), "originator-1") == std::vector<StoredEvent>{v1});
    CHECK(HeadOk(fx.recorder()) == 1);

    // 6.
    CHECK(InsertOk(fx.recorder(), {v2, v3}) == std::vector<std::int64_t>{2, 3});
    fx.Restart();
    CHECK(SelectOk(fx.recorder(), "originator-1") == std::vector<StoredEvent>{v1, v2, v3});
    // 7.-9.
    CHECK(SelectOk(fx.recorder(), "originator-1", Versions({}, {}, true, 1)) ==
          std::vector<StoredEvent>{v3});
    CHECK(SelectOk(fx.recorder(), "originator-1", Versions({}, 2, true, 1)) ==
          std::vector<StoredEvent>{v2});
    CHECK(SelectOk(fx.recorder(), "originator-1", Versions(1, 2)) == std::vector<StoredEvent>{v2});

    // 10. Another originator, at version 0.
    const StoredEvent w0{"originator-2", 0, "topic4", "state4"};
    CHECK(SelectOk(fx.recorder(), "originator-2").empty());
    CHECK(InsertOk(fx.recorder(), {w0}) == std::vector<std::int64_t>{4});
    fx.Restart();
    CHECK(SelectOk(fx.recorder(), "originator-2") == std::vector<StoredEvent>{w0});
    CHECK(SelectOk(fx.recorder(), "originator-1") == std::vector<StoredEvent>{v1, v2, v3});
  });
}

TEST_CASE("aggregate: select_events ranges, order and limits") {
  ForEachBackend([](Fixture& fx) {
    // Versions need not be contiguous: 0, 2, 5, 9, inserted out of order.
    std::vector<StoredEvent> events;
    for (std::int64_t version : {5, 0, 9, 2}) {
      events.push_back({"agg", version, "topic", "state" + std::to_string(version)});
    }
    CHECK(InsertOk(fx.recorder(), events) == std::vector<std::int64_t>{1, 2, 3, 4});
    CHECK(InsertOk(fx.recorder(), {{"aggregate", 1, "other", "other"}}) ==
          std::vector<std::int64_t>{5});
    fx.Restart();

    struct Case {
      SelectEventsOptions options;
      std::vector<std::int64_t> versions;
    };
    const std::vector<Case> cases = {
        {{}, {0, 2, 5, 9}},
        {Versions({}, {}, true), {9, 5, 2, 0}},
        {Versions(0), {2, 5, 9}},
        {Versions(-1), {0, 2, 5, 9}},
        {Versions({}, 5), {0, 2, 5}},
        {Versions(2, 9), {5, 9}},
        {Versions(2, 8, true), {5}},
        {Versions(5, 5), {}},
        {Versions(9, 2), {}},
        {Versions({}, {}, false, 2), {0, 2}},
        {Versions({}, {}, true, 2), {9, 5}},
        {Versions(0, {}, true, 10), {9, 5, 2}},
        {Versions({}, {}, false, 0), {}},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(i);
      std::vector<std::int64_t> versions;
      for (const StoredEvent& e : SelectOk(fx.recorder(), "agg", cases[i].options)) {
        CHECK(e.state == "state" + std::to_string(e.originator_version));
        versions.push_back(e.originator_version);
      }
      CHECK(versions == cases[i].versions);
    }
    // Stream ids are compared exactly, not by prefix.
    CHECK(SelectOk(fx.recorder(), "ag").empty());
  });
}

}  // namespace
}  // namespace es::conformance
