// MemIndex: every query shape on a small hand-made index with its expected answers, the
// after/head/limit bounds, and the same queries (plus random ones on a larger index) compared with
// a brute-force evaluation of the matching rules of es/query.h. Streams and tracking maxima too.
#include "engine/index/mem_index.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace es {
namespace {

using Positions = std::vector<std::int64_t>;

// "1 3 5": positions as text, so that a failed comparison shows them.
std::string Str(const Positions& positions) {
  std::string out;
  for (std::int64_t p : positions) out += (out.empty() ? "" : " ") + std::to_string(p);
  return out;
}

constexpr std::int64_t kNoLimit = std::numeric_limits<std::int64_t>::max();

struct IndexedEvent {
  std::string type;
  std::vector<std::string> tags;
  std::optional<std::string> stream;
};

// A MemIndex and the events it indexes (event i at position i + 1), for brute-force answers.
class TestIndex {
 public:
  void Add(std::string type, std::vector<std::string> tags,
           std::optional<std::string> stream = std::nullopt, std::int64_t version = 0) {
    events_.push_back({std::move(type), std::move(tags), std::move(stream)});
    const IndexedEvent& e = events_.back();
    std::vector<std::string_view> tag_views(e.tags.begin(), e.tags.end());
    std::string_view stream_view = e.stream ? std::string_view(*e.stream) : std::string_view();
    index_.AddEvent(head(), e.type, tag_views, e.stream ? &stream_view : nullptr, version);
  }

  std::int64_t head() const { return static_cast<std::int64_t>(events_.size()); }
  MemIndex& index() { return index_; }

  std::string Match(const Query& query, std::int64_t after = 0, std::int64_t head = -1,
                    std::int64_t limit = kNoLimit) const {
    Positions out = {-12345};  // Match clears what was there
    index_.Match(query, after, head < 0 ? this->head() : head, limit, &out);
    return Str(out);
  }
  bool AnyMatch(const Query& query, std::int64_t after = 0, std::int64_t head = -1) const {
    return index_.AnyMatch(query, after, head < 0 ? this->head() : head);
  }

  // The reference semantics (es/query.h), by scanning every event.
  std::string BruteMatch(const Query& query, std::int64_t after, std::int64_t head,
                         std::int64_t limit) const {
    Positions out;
    for (std::int64_t p = std::max<std::int64_t>(after + 1, 1);
         p <= std::min(head, this->head()) && static_cast<std::int64_t>(out.size()) < limit; ++p) {
      if (Matches(query, events_[static_cast<std::size_t>(p - 1)])) out.push_back(p);
    }
    return Str(out);
  }

  // Match and AnyMatch agree with the brute force for every after, head and limit.
  void CheckAgainstBruteForce(const Query& query) const {
    for (std::int64_t head = 0; head <= this->head(); ++head) {
      for (std::int64_t after = 0; after <= this->head() + 1; ++after) {
        for (std::int64_t limit :
             {std::int64_t{0}, std::int64_t{1}, std::int64_t{2}, std::int64_t{3}, kNoLimit}) {
          CAPTURE(after);
          CAPTURE(head);
          CAPTURE(limit);
          CHECK(Match(query, after, head, limit) == BruteMatch(query, after, head, limit));
        }
        CHECK(AnyMatch(query, after, head) == !BruteMatch(query, after, head, 1).empty());
      }
    }
  }

 private:
  static bool Matches(const QueryItem& item, const IndexedEvent& e) {
    auto has = [](const std::vector<std::string>& v, const std::string& s) {
      return std::find(v.begin(), v.end(), s) != v.end();
    };
    if (!item.types.empty() && !has(item.types, e.type)) return false;
    return std::all_of(item.tags.begin(), item.tags.end(),
                       [&](const std::string& tag) { return has(e.tags, tag); });
  }
  static bool Matches(const Query& query, const IndexedEvent& e) {
    return query.items.empty() ||
           std::any_of(query.items.begin(), query.items.end(),
                       [&](const QueryItem& item) { return Matches(item, e); });
  }

  MemIndex index_;
  std::vector<IndexedEvent> events_;
};

QueryItem Types(std::vector<std::string> types) { return QueryItem{std::move(types), {}}; }
QueryItem Tags(std::vector<std::string> tags) { return QueryItem{{}, std::move(tags)}; }
QueryItem Both(std::vector<std::string> types, std::vector<std::string> tags) {
  return QueryItem{std::move(types), std::move(tags)};
}
Query Of(std::vector<QueryItem> items) { return Query{std::move(items)}; }

// 1 Order [c1] o1 v1      5 Order [c1 p1] o1 v2
// 2 Pay [c1 p1]           6 Pay [p1]
// 3 Order [c2] o2 v1      7 Ship [c2 p1]
// 4 Ship [c1 c1]          8 Order [] o2 v5
void AddSmallIndex(TestIndex& t) {
  t.Add("Order", {"c1"}, "o1", 1);
  t.Add("Pay", {"c1", "p1"});
  t.Add("Order", {"c2"}, "o2", 1);
  t.Add("Ship", {"c1", "c1"});
  t.Add("Order", {"c1", "p1"}, "o1", 2);
  t.Add("Pay", {"p1"});
  t.Add("Ship", {"c2", "p1"});
  t.Add("Order", {}, "o2", 5);
}

// One query of each shape the small index can be asked.
std::vector<Query> SmallIndexQueries() {
  return {
      Query{},
      Of({QueryItem{}}),
      Of({Types({"Order"})}),
      Of({Types({"Order", "Pay"})}),
      Of({Types({"Order", "nope"})}),
      Of({Types({"nope"})}),
      Of({Types({"Order", "Order"})}),
      Of({Tags({"c1"})}),
      Of({Tags({"c1", "p1"})}),
      Of({Tags({"p1", "c1", "p1"})}),
      Of({Tags({"c1", "nope"})}),
      Of({Tags({"nope"})}),
      Of({Both({"Order"}, {"c1"})}),
      Of({Both({"Pay", "Ship"}, {"p1"})}),
      Of({Both({"nope"}, {"p1"})}),
      Of({Both({"Order"}, {"nope"})}),
      Of({Types({"Ship"}), Tags({"c2"})}),
      Of({Types({"Order"}), Tags({"c1"})}),
      Of({Types({"nope"}), Tags({"p1"})}),
      Of({Tags({"c1", "nope"}), Tags({"c2"})}),
      Of({Types({"nope"}), QueryItem{}}),
      Of({Tags({"c1"}), Tags({"p1"}), Types({"Ship"})}),
      Of({Both({"Order"}, {"c1", "p1"}), Both({"Pay"}, {"c1"})}),
  };
}

TEST_CASE("MemIndex: each query shape on a small index") {
  TestIndex t;
  AddSmallIndex(t);
  const std::string all = "1 2 3 4 5 6 7 8";

  SUBCASE("neither types nor tags") {
    CHECK(t.Match(Query{}) == all);
    CHECK(t.Match(Of({QueryItem{}})) == all);
    CHECK(t.Match(Of({Types({"nope"}), QueryItem{}})) == all);
  }
  SUBCASE("types only") {
    CHECK(t.Match(Of({Types({"Order"})})) == "1 3 5 8");
    CHECK(t.Match(Of({Types({"Order", "Pay"})})) == "1 2 3 5 6 8");
    CHECK(t.Match(Of({Types({"Order", "Order"})})) == "1 3 5 8");
    CHECK(t.Match(Of({Types({"Order", "nope"})})) == "1 3 5 8");
    CHECK(t.Match(Of({Types({"nope"})})).empty());
  }
  SUBCASE("tags only") {
    CHECK(t.Match(Of({Tags({"c1"})})) == "1 2 4 5");  // 4 carries c1 twice
    CHECK(t.Match(Of({Tags({"c1", "p1"})})) == "2 5");
    CHECK(t.Match(Of({Tags({"p1", "c1", "p1"})})) == "2 5");
    CHECK(t.Match(Of({Tags({"c1", "nope"})})).empty());
    CHECK(t.Match(Of({Tags({"nope"})})).empty());
  }
  SUBCASE("types and tags") {
    CHECK(t.Match(Of({Both({"Order"}, {"c1"})})) == "1 5");
    CHECK(t.Match(Of({Both({"Pay", "Ship"}, {"p1"})})) == "2 6 7");
    CHECK(t.Match(Of({Both({"nope"}, {"p1"})})).empty());
    CHECK(t.Match(Of({Both({"Order"}, {"nope"})})).empty());
  }
  SUBCASE("several items, overlapping") {
    CHECK(t.Match(Of({Types({"Ship"}), Tags({"c2"})})) == "3 4 7");
    CHECK(t.Match(Of({Types({"Order"}), Tags({"c1"})})) == "1 2 3 4 5 8");
    CHECK(t.Match(Of({Types({"nope"}), Tags({"p1"})})) == "2 5 6 7");
    CHECK(t.Match(Of({Tags({"c1", "nope"}), Tags({"c2"})})) == "3 7");
    CHECK(t.Match(Of({Tags({"c1"}), Tags({"p1"}), Types({"Ship"})})) == "1 2 4 5 6 7");
  }
  SUBCASE("every shape against the brute force") {
    for (const Query& query : SmallIndexQueries()) {
      CAPTURE(query.items.size());
      t.CheckAgainstBruteForce(query);
    }
  }
}

TEST_CASE("MemIndex: after, head and limit bound the answer") {
  TestIndex t;
  AddSmallIndex(t);

  SUBCASE("after") {
    CHECK(t.Match(Of({Types({"Order"})}), 1) == "3 5 8");
    CHECK(t.Match(Of({Types({"Order"})}), 5) == "8");
    CHECK(t.Match(Of({Tags({"c1", "p1"})}), 2) == "5");
    CHECK(t.Match(Query{}, 6) == "7 8");
    CHECK(t.Match(Query{}, 8).empty());
    CHECK(t.Match(Query{}, 100).empty());
  }
  SUBCASE("positions after the head are invisible although indexed") {
    CHECK(t.Match(Of({Tags({"c1"})}), 0, 3) == "1 2");
    CHECK(t.Match(Of({Types({"Order"})}), 0, 4) == "1 3");
    CHECK(t.Match(Of({Both({"Pay", "Ship"}, {"p1"})}), 0, 6) == "2 6");
    CHECK(t.Match(Of({Types({"Ship"}), Tags({"c2"})}), 0, 6) == "3 4");
    CHECK(t.Match(Query{}, 2, 5) == "3 4 5");
    CHECK(t.Match(Query{}, 0, 0).empty());
    CHECK(t.Match(Query{}, 5, 5).empty());
    CHECK(t.Match(Query{}, 6, 5).empty());
  }
  SUBCASE("limit") {
    CHECK(t.Match(Of({Types({"Order"})}), 0, 8, 2) == "1 3");
    CHECK(t.Match(Of({Tags({"c1"})}), 1, 8, 2) == "2 4");
    CHECK(t.Match(Of({Types({"Order"}), Tags({"c1"})}), 0, 8, 3) == "1 2 3");
    CHECK(t.Match(Query{}, 5, 8, 2) == "6 7");
    CHECK(t.Match(Query{}, 0, 8, 0).empty());
    CHECK(t.Match(Query{}, 0, 8, -1).empty());
    CHECK(t.Match(Of({Tags({"p1"})}), 0, 8, 100) == "2 5 6 7");
  }
  SUBCASE("AnyMatch") {
    CHECK(t.AnyMatch(Query{}));
    CHECK(t.AnyMatch(Query{}, 7));
    CHECK_FALSE(t.AnyMatch(Query{}, 8));
    CHECK_FALSE(t.AnyMatch(Query{}, 0, 0));
    CHECK(t.AnyMatch(Of({Tags({"c1", "p1"})}), 4));
    CHECK_FALSE(t.AnyMatch(Of({Tags({"c1", "p1"})}), 5));
    CHECK_FALSE(t.AnyMatch(Of({Types({"Ship"})}), 4, 6));  // 7 is past the head
    CHECK(t.AnyMatch(Of({Types({"Ship"})}), 4, 7));
    CHECK_FALSE(t.AnyMatch(Of({Types({"nope"})})));
    CHECK_FALSE(t.AnyMatch(Of({Tags({"c1", "nope"})})));
    CHECK(t.AnyMatch(Of({Tags({"nope"}), Types({"Pay"})}), 5));
    CHECK(t.AnyMatch(Of({Types({"nope"}), QueryItem{}}), 7));
  }
}

TEST_CASE("MemIndex: an empty index matches nothing") {
  TestIndex t;
  for (const Query& query : SmallIndexQueries()) {
    CHECK(t.Match(query).empty());
    CHECK_FALSE(t.AnyMatch(query));
  }
  CHECK(t.index().FindStream("o1") == nullptr);
  CHECK(t.index().tag_count() == 0);
  CHECK(t.index().type_count() == 0);
  CHECK(t.index().stream_count() == 0);
}

// A larger index with skewed tag and type frequencies, so that posting lists span many chunks
// and intersections leapfrog; random queries compared with the brute force.
TEST_CASE("MemIndex: random queries on a larger index match the brute force") {
  std::mt19937_64 rng(7);
  const std::vector<std::string> types = {"A", "B", "C", "D", "E", "F"};
  const std::vector<std::string> tags = {"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"};
  // Name i of `names`, skewed towards the front; sometimes a name that is not indexed.
  auto pick = [&](const std::vector<std::string>& names, bool allow_unknown) {
    if (allow_unknown && rng() % 40 == 0) return std::string("unknown");
    std::size_t i = std::min<std::size_t>(rng() % names.size(), rng() % names.size());
    return names[i];
  };
  TestIndex t;
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::string> event_tags;
    for (std::size_t n = rng() % 4; n > 0; --n) event_tags.push_back(pick(tags, false));
    t.Add(pick(types, false), std::move(event_tags));
  }
  CHECK(t.index().type_count() == types.size());
  CHECK(t.index().tag_count() == tags.size());

  for (int q = 0; q < 300; ++q) {
    Query query;
    for (std::size_t items = rng() % 4; items > 0; --items) {
      QueryItem item;
      for (std::size_t n = rng() % 3; n > 0; --n) item.types.push_back(pick(types, true));
      for (std::size_t n = rng() % 4; n > 0; --n) item.tags.push_back(pick(tags, true));
      query.items.push_back(std::move(item));
    }
    const std::int64_t head = 1 + static_cast<std::int64_t>(rng() % 3000);
    const std::int64_t after = static_cast<std::int64_t>(rng() % 3000);
    const std::int64_t limit =
        rng() % 2 == 0 ? kNoLimit : 1 + static_cast<std::int64_t>(rng() % 50);
    CAPTURE(q);
    CAPTURE(after);
    CAPTURE(head);
    CAPTURE(limit);
    CHECK(t.Match(query, after, head, limit) == t.BruteMatch(query, after, head, limit));
    CHECK(t.Match(query, 0, head, kNoLimit) == t.BruteMatch(query, 0, head, kNoLimit));
    CHECK(t.AnyMatch(query, after, head) == !t.BruteMatch(query, after, head, 1).empty());
  }
}

std::string StreamPositions(const MemIndex::Stream& stream) {
  Positions out;
  for (PostingList::Cursor c(stream.positions, stream.positions.size()); c.Valid(); c.Next()) {
    out.push_back(c.position());
  }
  return Str(out);
}

TEST_CASE("MemIndex: FindStream") {
  TestIndex t;
  AddSmallIndex(t);
  t.Add("X", {}, "down", 3);
  t.Add("X", {}, "down", 1);
  t.Add("X", {}, "same", 2);
  t.Add("X", {}, "same", 2);
  t.Add("X", {}, "negative", -5);
  t.Add("X", {}, "negative", -2);

  const MemIndex& index = t.index();
  CHECK(index.stream_count() == 5);
  CHECK(index.FindStream("nope") == nullptr);
  CHECK(index.FindStream("") == nullptr);

  const MemIndex::Stream* o1 = index.FindStream("o1");
  REQUIRE(o1 != nullptr);
  CHECK(o1->max_version == 2);
  CHECK(o1->versions_increasing);
  CHECK(StreamPositions(*o1) == "1 5");

  const MemIndex::Stream* o2 = index.FindStream("o2");
  REQUIRE(o2 != nullptr);
  CHECK(o2->max_version == 5);  // versions need not be contiguous
  CHECK(o2->versions_increasing);
  CHECK(StreamPositions(*o2) == "3 8");

  const MemIndex::Stream* down = index.FindStream("down");
  REQUIRE(down != nullptr);
  CHECK(down->max_version == 3);
  CHECK_FALSE(down->versions_increasing);
  CHECK(StreamPositions(*down) == "9 10");

  const MemIndex::Stream* same = index.FindStream("same");
  REQUIRE(same != nullptr);
  CHECK(same->max_version == 2);
  CHECK_FALSE(same->versions_increasing);

  const MemIndex::Stream* negative = index.FindStream("negative");
  REQUIRE(negative != nullptr);
  CHECK(negative->max_version == -2);
  CHECK(negative->versions_increasing);
}

TEST_CASE("MemIndex: MaxTrackingId") {
  MemIndex index;
  CHECK(index.MaxTrackingId("app") == std::nullopt);
  index.SetMaxTrackingId("app", 5);
  CHECK(index.MaxTrackingId("app") == 5);
  CHECK(index.MaxTrackingId("ap") == std::nullopt);
  CHECK(index.MaxTrackingId("app2") == std::nullopt);
  index.SetMaxTrackingId("app", 9);
  index.SetMaxTrackingId("other", -3);
  CHECK(index.MaxTrackingId("app") == 9);
  CHECK(index.MaxTrackingId("other") == -3);
  index.SetMaxTrackingId(std::string(70000, 'n'), 1);
  CHECK(index.MaxTrackingId(std::string(70000, 'n')) == 1);
  CHECK(index.MaxTrackingId("app") == 9);
}

TEST_CASE("MemIndex: statistics") {
  TestIndex t;
  const std::size_t empty_bytes = t.index().MemoryBytes();
  AddSmallIndex(t);
  CHECK(t.index().type_count() == 3);
  CHECK(t.index().tag_count() == 3);
  CHECK(t.index().stream_count() == 2);
  CHECK(t.index().MemoryBytes() > empty_bytes);
}

}  // namespace
}  // namespace es
