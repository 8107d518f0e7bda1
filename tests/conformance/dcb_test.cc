// The DCB recorder: reference §5.1 (_test_append_read, step by step, and the tests it suggests
// adding) and the deliberate differences of design.md §1. Concurrency is in concurrency_test.cc.

#include <doctest/doctest.h>

#include "tests/conformance/helpers.h"

namespace es::conformance {
namespace {

// Checks that each condition makes an append of `events` fail, writing nothing.
void CheckConditionsFail(Fixture& fx, const std::vector<Event>& events,
                         const std::vector<AppendCondition>& conditions) {
  const std::optional<std::int64_t> head = HeadOk(fx.recorder());
  for (std::size_t i = 0; i < conditions.size(); ++i) {
    INFO("condition ", i, ": ", Describe(conditions[i].fail_if_events_match), " after ",
         doctest::toString(conditions[i].after));
    CHECK(CodeOf(fx.recorder().Append(events, conditions[i])) == "condition_failed");
  }
  CHECK(HeadOk(fx.recorder()) == head);
}

TEST_CASE("dcb: append and read, step by step (_test_append_read)") {
  ForEachBackend([](Fixture& fx) {
    const Event e1 = Ev("type1", {"tagX"}, "data1");
    const Event e2 = Ev("type2", {"tagA", "tagB"}, "data2");
    const Event e3 = Ev("type3", {"tagA", "tagC"}, "data3");
    const std::vector<Event> e4 = {Ev("type4", {}, "data4")};  // appended alone, many times

    // 1. The empty store.
    ReadResult empty = ReadOk(fx.recorder());
    CHECK(empty.events.empty());
    CHECK(empty.head == std::nullopt);

    // 2. One event.
    CHECK(AppendOk(fx.recorder(), {e1}) == 1);
    fx.Restart();

    // 3.
    ReadResult one = ReadOk(fx.recorder(), Q(), 0);
    CHECK(one.events == std::vector<SequencedEvent>{{1, e1}});
    CHECK(one.head == 1);
    // 4.-7. ReadCase columns: query, after, limit, expected positions, expected head.
    const std::vector<ReadCase> after_one_append = {
        {Q(), 1, {}, {}, 1},
        {Q(), 0, 1, {1}, 1},
        {Q(), {}, 0, {}, {}},
        {Q({Types({"type1"})}), 0, {}, {1}, 1},
        {Q({Types({"type2"})}), 0, {}, {}, 1},
        {Q({Tags({"tagX"})}), 0, {}, {1}, 1},
        {Q({Tags({"tagY"})}), 0, {}, {}, 1},
        {Q({Item({"type1"}, {"tagX"})}), 0, {}, {1}, 1},
        {Q({Item({"type1"}, {"tagY"})}), 0, {}, {}, 1},
        {Q({Item({"type2"}, {"tagX"})}), 0, {}, {}, 1},
    };
    CheckReads(fx.recorder(), after_one_append);

    // 8. Two events in one append.
    CHECK(AppendOk(fx.recorder(), {e2, e3}) == 3);
    fx.Restart();

    // 9.
    ReadResult three = ReadOk(fx.recorder(), Q(), 0);
    CHECK(three.events == std::vector<SequencedEvent>{{1, e1}, {2, e2}, {3, e3}});
    CHECK(three.head == 3);
    // 10.-13.
    const Query b_or_c = Q({Tags({"tagB"}), Tags({"tagC"})});
    const Query x_or_y = Q({Tags({"tagX"}), Tags({"tagY"})});
    const Query typed_b_or_c = Q({Item({"type2"}, {"tagB"}), Item({"type3"}, {"tagC"})});
    const Query typed_c_or_b = Q({Item({"type3"}, {"tagC"}), Item({"type2"}, {"tagB"})});
    const std::vector<ReadCase> after_two_appends = {
        {Q(), 1, {}, {2, 3}, 3},
        {Q(), 2, {}, {3}, 3},
        {Q(), 1, 1, {2}, 2},
        {Q({Types({"type1"})}), 1, {}, {}, 3},
        {Q({Tags({"tagX"})}), 1, {}, {}, 3},
        {Q({Item({"type1"}, {"tagX"})}), 1, {}, {}, 3},
        {Q({Tags({"tagA"})}), 0, {}, {2, 3}, 3},
        {Q({Tags({"tagA", "tagB"})}), 0, {}, {2}, 3},
        {b_or_c, 0, {}, {2, 3}, 3},
        {x_or_y, 0, {}, {1}, 3},
        {Q({Item({"type2"}, {"tagA"})}), 0, {}, {2}, 3},
        {Q({Item({"type2"}, {"tagA"})}), 2, {}, {}, 3},
        {typed_b_or_c, 0, {}, {2, 3}, 3},
        {typed_c_or_b, 0, {}, {2, 3}, 3},
    };
    CheckReads(fx.recorder(), after_two_appends);

    // 14. Conditions that fail.
    CheckConditionsFail(fx, e4,
                        {
                            Cond(Q()),
                            Cond(Q(), 1),
                            Cond(Q({Types({"type1"})})),
                            Cond(Q({Types({"type2"})}), 1),
                            Cond(Q({Tags({"tagX"})})),
                            Cond(Q({Tags({"tagA"})}), 1),
                            Cond(Q({Item({"type1"}, {"tagX"})})),
                            Cond(Q({Item({"type2"}, {"tagA"})}), 1),
                            Cond(Q({Tags({"tagA", "tagB"})})),
                            Cond(b_or_c),
                            Cond(x_or_y),
                            Cond(typed_b_or_c),
                        });
    fx.Restart();
    CHECK(HeadOk(fx.recorder()) == 3);

    // 15. Appends that succeed, in this order.
    const std::vector<std::optional<AppendCondition>> passing = {
        std::nullopt,
        Cond(Q({Types({"typeN"})})),
        Cond(Q({Tags({"tagY"})})),
        Cond(Q({Types({"type1"})}), 1),
        Cond(Q({Tags({"tagX"})}), 1),
        Cond(Q({Item({"type1"}, {"tagX"})}), 1),
        Cond(Q({Tags({"tagX"})}), 1),
    };
    for (std::size_t i = 0; i < passing.size(); ++i) {
      CAPTURE(i);
      CHECK(AppendOk(fx.recorder(), e4, passing[i]) == 4 + static_cast<std::int64_t>(i));
    }

    // 16. The course scenario.
    const std::string s = "student-1";
    const std::string c = "course-1";
    const Event registered = Ev("StudentRegistered", {s}, "Sara");
    const Event course = Ev("CourseRegistered", {c}, "French");
    const Event joined = Ev("StudentJoinedCourse", {c, s}, "joined");
    CHECK(AppendOk(fx.recorder(), {registered}, Cond(Q({Item({"StudentRegistered"}, {s})}), 3)) ==
          11);
    CHECK(AppendOk(fx.recorder(), {course}, Cond(Q({Tags({c})}), 3)) == 12);
    CHECK(AppendOk(fx.recorder(), {joined}, Cond(Q({Tags({c, s})}), 3)) == 13);
    fx.Restart();

    // 17. Everything, with the course events' tags in the order given.
    std::vector<SequencedEvent> all = {{1, e1}, {2, e2}, {3, e3}};
    for (std::int64_t position = 4; position <= 10; ++position) all.push_back({position, e4[0]});
    all.push_back({11, registered});
    all.push_back({12, course});
    all.push_back({13, joined});
    ReadResult everything = ReadOk(fx.recorder(), Q(), 0);
    CHECK(everything.events == all);
    CHECK(everything.head == 13);

    // 18.-19.
    const Query join_boundary = Q({Item({"StudentRegistered", "StudentJoinedCourse"}, {s}),
                                   Item({"CourseRegistered", "StudentJoinedCourse"}, {c})});
    const std::vector<ReadCase> after_course_scenario = {
        {Q({Tags({s})}), 0, {}, {11, 13}, 13}, {Q({Tags({c})}), 0, {}, {12, 13}, 13},
        {Q({Tags({c, s})}), 0, {}, {13}, 13},  {Q({Tags({s})}), 2, {}, {11, 13}, 13},
        {Q({Tags({c})}), 2, {}, {12, 13}, 13}, {Q({Tags({c, s})}), 2, {}, {13}, 13},
        {Q({Tags({s})}), 2, 1, {11}, 11},      {Q({Tags({c})}), 2, 1, {12}, 12},
        {Q({Tags({c, s})}), 2, 1, {13}, 13},   {join_boundary, 0, {}, {11, 12, 13}, 13},
    };
    CheckReads(fx.recorder(), after_course_scenario);
  });
}

TEST_CASE("dcb: an append of no events is rejected and writes nothing") {
  ForEachBackend([](Fixture& fx) {
    const std::vector<Event> none;
    CHECK(CodeOf(fx.recorder().Append(none, std::nullopt)) == "invalid_argument");
    CHECK(CodeOf(fx.recorder().Append(none, Cond(Q({Tags({"a"})})))) == "invalid_argument");
    CHECK(AppendOk(fx.recorder(), {Ev("type1")}) == 1);
    CHECK(CodeOf(fx.recorder().Append(none, std::nullopt)) == "invalid_argument");
    fx.Restart();
    CHECK(HeadOk(fx.recorder()) == 1);
  });
}

TEST_CASE("dcb: after beyond the head") {
  ForEachBackend([](Fixture& fx) {
    const std::vector<ReadCase> on_empty_store = {
        {Q(), 5, {}, {}, {}},
        {Q(), 5, 1, {}, {}},
    };
    CheckReads(fx.recorder(), on_empty_store);
    CHECK(AppendOk(fx.recorder(), {Ev("type1", {"tagA"}), Ev("type2"), Ev("type3")}) == 3);
    fx.Restart();
    const std::vector<ReadCase> beyond_head = {
        {Q(), 3, {}, {}, 3},
        {Q(), 10, {}, {}, 3},
        {Q({Tags({"tagA"})}), 10, {}, {}, 3},
        {Q(), 10, 5, {}, {}},
    };
    CheckReads(fx.recorder(), beyond_head);
    // Nothing exists after 10, so even the empty query does not match.
    CHECK(AppendOk(fx.recorder(), {Ev("type4")}, Cond(Q(), 10)) == 4);
  });
}

TEST_CASE("dcb: every query shape works, in reads and in conditions") {
  ForEachBackend([](Fixture& fx) {
    CHECK(AppendOk(fx.recorder(), {Ev("a", {"x"}), Ev("b", {"x", "y"}), Ev("c", {"y"}), Ev("a"),
                                   Ev("b", {"z"})}) == 5);
    fx.Restart();
    const std::vector<ReadCase> cases = {
        {Q({Types({"a"})}), 0, {}, {1, 4}, 5},
        {Q({Types({"a", "c"})}), 0, {}, {1, 3, 4}, 5},
        {Q({Types({"A"})}), 0, {}, {}, 5},
        {Q({Tags({"x"})}), 0, {}, {1, 2}, 5},
        {Q({Tags({"x", "y"})}), 0, {}, {2}, 5},
        {Q({Tags({"nope"})}), 0, {}, {}, 5},
        {Q({Item({"a", "b"}, {"x"})}), 0, {}, {1, 2}, 5},
        {Q({Item({"a"}, {"y"})}), 0, {}, {}, 5},
        {Q({Item({}, {})}), 0, {}, {1, 2, 3, 4, 5}, 5},
        {Q({Types({"a"}), Types({"c"})}), 0, {}, {1, 3, 4}, 5},
        {Q({Tags({"z"}), Types({"c"})}), 0, {}, {3, 5}, 5},
        {Q({Tags({"x"}), Tags({"y"})}), 0, {}, {1, 2, 3}, 5},
        {Q({Tags({"nope"}), Item({}, {})}), 0, {}, {1, 2, 3, 4, 5}, 5},
        {Q({Item({}, {})}), 2, 2, {3, 4}, 4},
    };
    CheckReads(fx.recorder(), cases);

    // A condition (query, after) fails exactly when the read (query, after, limit 1) finds an
    // event: here just before the last match and, for queries matching nothing, from the start.
    const std::vector<Event> probe = {Ev("probe")};  // matches none of the queries above
    std::vector<AppendCondition> failing;
    for (const ReadCase& c : cases) {
      if (!c.positions.empty()) failing.push_back(Cond(c.query, c.positions.back() - 1));
    }
    CheckConditionsFail(fx, probe, failing);
    std::int64_t position = 5;
    for (const ReadCase& c : cases) {
      if (!c.positions.empty()) continue;
      INFO("condition ", Describe(c.query));
      CHECK(AppendOk(fx.recorder(), probe, Cond(c.query)) == ++position);
    }
  });
}

TEST_CASE("dcb: query-item tags and types are sets") {
  ForEachBackend([](Fixture& fx) {
    CHECK(AppendOk(fx.recorder(), {Ev("type1", {"tagX"}), Ev("type2", {"tagA", "tagB"}),
                                   Ev("type3", {"tagA", "tagC"})}) == 3);
    fx.Restart();
    const std::vector<ReadCase> with_repeats = {
        {Q({Tags({"tagA", "tagA"})}), 0, {}, {2, 3}, 3},
        {Q({Item({"type2"}, {"tagA", "tagB", "tagA"})}), 0, {}, {2}, 3},
        {Q({Types({"type1", "type1"})}), 0, {}, {1}, 3},
        {Q({Tags({"tagB", "tagB"}), Tags({"tagC"})}), 0, {}, {2, 3}, 3},
    };
    CheckReads(fx.recorder(), with_repeats);
    CheckConditionsFail(fx, {Ev("type4")}, {Cond(Q({Tags({"tagC", "tagC"})}), 2)});
    CHECK(AppendOk(fx.recorder(), {Ev("type4")}, Cond(Q({Tags({"tagC", "tagC"})}), 3)) == 4);
  });
}

TEST_CASE("dcb: limit counts distinct events when several items match") {
  ForEachBackend([](Fixture& fx) {
    const Event both = Ev("t", {"a", "b"});
    CHECK(AppendOk(fx.recorder(), {both, both, both, both, both, Ev("u", {"a"})}) == 6);
    fx.Restart();
    const Query overlapping = Q({Tags({"a"}), Tags({"b"}), Types({"t"})});
    const std::vector<ReadCase> limited = {
        {overlapping, {}, 3, {1, 2, 3}, 3}, {overlapping, 2, 3, {3, 4, 5}, 5},
        {overlapping, 4, 3, {5, 6}, 6},     {overlapping, {}, 10, {1, 2, 3, 4, 5, 6}, 6},
        {overlapping, {}, 0, {}, {}},
    };
    CheckReads(fx.recorder(), limited);
  });
}

TEST_CASE("dcb: the empty condition query matches every event") {
  ForEachBackend([](Fixture& fx) {
    const std::vector<Event> event = {Ev("type1")};
    // On an empty store nothing matches: a uniqueness guard lets the first writer through.
    CHECK(AppendOk(fx.recorder(), event, Cond(Q())) == 1);
    CheckConditionsFail(fx, event, {Cond(Q()), Cond(Q(), 0)});
    CHECK(AppendOk(fx.recorder(), event, Cond(Q(), 1)) == 2);
    CheckConditionsFail(fx, event, {Cond(Q(), 1)});
    fx.Restart();
    CHECK(HeadOk(fx.recorder()) == 2);
  });
}

TEST_CASE("dcb: events keep their tags in order with duplicates") {
  ForEachBackend([](Fixture& fx) {
    const Event event = Ev("type1", {"z", "a", "z", "m"}, "data");
    CHECK(AppendOk(fx.recorder(), {event, Ev("type2", {"a"})}) == 2);
    fx.Restart();
    CHECK(ReadOk(fx.recorder(), Q({Tags({"z"})})).events ==
          std::vector<SequencedEvent>{{1, event}});
    const std::vector<ReadCase> by_tags = {
        {Q({Tags({"m", "a", "z"})}), {}, {}, {1}, 2},
        {Q({Tags({"a"})}), {}, {}, {1, 2}, 2},
    };
    CheckReads(fx.recorder(), by_tags);
  });
}

TEST_CASE("dcb: uuid, metadata and binary data round trip") {
  ForEachBackend([](Fixture& fx) {
    Event full = Ev("type1", {"tagA"}, std::string("\0bin\xff\x01", 6));
    full.uuid = Uuid{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef,
                     0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
    full.metadata = {{"correlation", "c-1"}, {"empty", ""}, {"unicode", "\xc3\xa9t\xc3\xa9"}};
    Event streamed = full;
    streamed.stream = StreamVersion{"agg-1", 1};
    const Event bare = Ev("type2");
    CHECK(AppendOk(fx.recorder(), {full, streamed, bare}) == 3);
    fx.Restart();
    CHECK(ReadOk(fx.recorder()).events ==
          std::vector<SequencedEvent>{{1, full}, {2, streamed}, {3, bare}});
    CHECK(ReadStreamOk(fx.recorder(), "agg-1") == std::vector<SequencedEvent>{{2, streamed}});
  });
}

TEST_CASE("reads: a negative after or limit is rejected") {
  ForEachBackend([](Fixture& fx) {
    CHECK(AppendOk(fx.recorder(), {StreamEv("agg-1", 1, "type1", {"a"})}) == 1);
    CHECK(CodeOf(fx.recorder().Read(Q(), {-1, std::nullopt})) == "invalid_argument");
    CHECK(CodeOf(fx.recorder().Read(Q(), {std::nullopt, -1})) == "invalid_argument");
    CHECK(CodeOf(fx.recorder().Read(Q({Tags({"a"})}), {0, -1})) == "invalid_argument");
    CHECK(CodeOf(fx.recorder().ReadStream("agg-1", Versions({}, {}, false, -1))) ==
          "invalid_argument");
    CHECK(CodeOf(fx.recorder().SelectEvents("agg-1", Versions({}, {}, false, -1))) ==
          "invalid_argument");
    CHECK(CodeOf(fx.recorder().SelectNotifications(Notifs({}, -1))) == "invalid_argument");
  });
}

}  // namespace
}  // namespace es::conformance
