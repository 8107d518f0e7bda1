// Differential test: the engine's DCB reads and conditional appends against an independent
// brute-force model of reference/python-eventsourcing-semantics.md §1 (design.md §9: "planner
// results against a brute-force scan").
//
// A seeded generator appends more than 100,000 DCB-shaped events (~20 types; tags from a pool sized
// so that a typical tag has ~10 events, plus a few hot tags with thousands; duplicate tags on some
// events), then runs 10,000 random queries of every shape and 2,500 conditional appends against
// both the engine and the model, then reopens the store and re-runs 1,000 of the queries against
// the rebuilt index. The seed is printed; ES_TEST_SEED=<n> reproduces a run.
//
// The model shares no code with the engine: it keeps every event in a vector and answers a read by
// scanning positions after `after` upward, stopping at `limit`.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "es/env.h"
#include "es/options.h"
#include "es/query.h"
#include "es/store.h"

namespace es {
namespace {

constexpr std::size_t kInitialEvents = 100'000;
constexpr int kQueries = 10'000;
constexpr int kQueriesPerConditionalAppend = 4;  // 2,500 conditional appends
// Reading and comparing an event costs microseconds in a sanitized debug build, so most reads of
// more than kLargeResult events are traded for smaller reads of the same query.
constexpr int kLargeResult = 1'000;
constexpr int kLargeResultPercent = 5;
constexpr int kReopenQueries = 1'000;
constexpr int kMaxBatch = 8;
constexpr int kTypes = 20;
constexpr int kCommonTypes = 4;   // the first few types are five times as frequent
constexpr int kTagPool = 12'000;  // ~1.4 tags per event, 88% from the pool: ~10 events per tag
constexpr int kHotTags = 6;       // ~12% of tags: ~2,800 events each
constexpr std::size_t kMaxEventTags = 4;  // 3 distinct tags plus one duplicate
constexpr std::size_t kMaxItemTags = 8;
constexpr int kMaxFailures = 10;  // stop a phase after this many mismatches
constexpr char kDir[] = "/differential";

std::uint64_t TestSeed() {
  if (const char* text = std::getenv("ES_TEST_SEED"); text != nullptr && *text != '\0') {
    return std::strtoull(text, nullptr, 0);
  }
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device() ^
         static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string TypeName(int k) { return "Type-" + std::to_string(k); }
std::string PoolTag(int k) { return "t" + std::to_string(k); }  // t1 is a prefix of t12
std::string HotTag(int k) { return "hot-" + std::to_string(k); }

// ---- Printing, for failure messages ----

std::string Quoted(const std::vector<std::string>& strings) {
  std::string out = "[";
  for (std::size_t i = 0; i < strings.size(); ++i) {
    if (i > 0) out += ",";
    out += "\"" + strings[i] + "\"";
  }
  return out + "]";
}

std::string ToString(std::optional<std::int64_t> value) {
  return value ? std::to_string(*value) : "null";
}

std::string ToString(const Query& query, const ReadOptions& options) {
  std::string out = "query [";
  for (std::size_t i = 0; i < query.items.size(); ++i) {
    if (i > 0) out += ",";
    out += "{types:" + Quoted(query.items[i].types) + ",tags:" + Quoted(query.items[i].tags) + "}";
  }
  return out + "] after " + ToString(options.after) + " limit " + ToString(options.limit);
}

std::string ToString(const Event& event) {
  return "{type \"" + event.type + "\", tags " + Quoted(event.tags) + ", " +
         std::to_string(event.data.size()) + " data bytes" + (event.uuid ? ", uuid" : "") +
         (event.metadata.empty() ? "" : ", metadata") + "}";
}

// ---- The model ----

// What a read must return: the matching positions and the head.
struct Expected {
  std::vector<std::int64_t> positions;
  std::optional<std::int64_t> head;
};

// Every appended event by position, and a brute-force reader over them.
class Model {
 public:
  std::int64_t head() const { return static_cast<std::int64_t>(events_.size()); }
  const Event& at(std::int64_t position) const {
    return events_[static_cast<std::size_t>(position - 1)];
  }

  void Append(const Event& event) {
    Compact compact;
    auto [type, inserted] = type_bits_.try_emplace(event.type, 0);
    if (inserted) {
      REQUIRE(type_bits_.size() <= 32);
      type->second = std::uint32_t{1} << (type_bits_.size() - 1);
    }
    compact.type_bit = type->second;
    if (event.tags.size() > kMaxEventTags) FAIL("the generator made too many tags");
    for (const std::string& tag : event.tags) {
      auto [it, added] = tag_ids_.try_emplace(tag, static_cast<std::int32_t>(tag_ids_.size()));
      compact.tags[compact.tag_count++] = it->second;
    }
    events_.push_back(event);
    compact_.push_back(compact);
  }

  // Reference §1.2 and §1.4: positions > after matching the query, ascending, at most `limit`;
  // the head is the store's last position without a limit, else the last position returned.
  Expected Read(const Query& query, const ReadOptions& options) const {
    const std::vector<Item> items = Compile(query);
    const std::int64_t limit = options.limit.value_or(std::numeric_limits<std::int64_t>::max());
    Expected out;
    // Raw pointers and no calls in the loop: this runs over millions of events in debug builds.
    const Item* const items_begin = items.data();
    const Item* const items_end = items_begin + items.size();
    const Compact* const events = compact_.data();
    const std::int64_t last = head();
    std::int64_t found = 0;
    for (std::int64_t p = options.after.value_or(0) + 1; p <= last && found < limit; ++p) {
      const Compact& event = events[p - 1];
      bool match = items_begin == items_end;  // the empty query matches every event
      for (const Item* item = items_begin; item != items_end && !match; ++item) {
        if (!item->any_type && (item->type_mask & event.type_bit) == 0) continue;
        match = true;
        for (std::uint32_t t = 0; t < item->tag_count && match; ++t) {
          bool has_tag = false;
          for (std::uint32_t i = 0; i < event.tag_count; ++i)
            has_tag |= event.tags[i] == item->tags[t];
          match = has_tag;
        }
      }
      if (match) {
        out.positions.push_back(p);
        ++found;
      }
    }
    if (options.limit) {
      if (!out.positions.empty()) out.head = out.positions.back();
    } else if (head() > 0) {
      out.head = head();
    }
    return out;
  }

  // Whether an append under `condition` must fail (reference §1.5).
  bool ConditionMatches(const AppendCondition& condition) const {
    ReadOptions options;
    options.after = condition.after;
    options.limit = 1;
    return !Read(condition.fail_if_events_match, options).positions.empty();
  }

 private:
  // An event reduced to numbers: its type's bit and its tags' ids in order.
  struct Compact {
    std::uint32_t type_bit = 0;
    std::uint32_t tag_count = 0;
    std::int32_t tags[kMaxEventTags] = {};  // a C array: no call per access in debug builds
  };
  // A query item reduced to numbers. Unknown types add no bit; unknown tags are -1, which no
  // event carries.
  struct Item {
    bool any_type = true;
    std::uint32_t type_mask = 0;
    std::uint32_t tag_count = 0;
    std::int32_t tags[kMaxItemTags] = {};
  };

  std::vector<Item> Compile(const Query& query) const {
    std::vector<Item> items;
    for (const QueryItem& q : query.items) {
      Item& item = items.emplace_back();
      item.any_type = q.types.empty();
      for (const std::string& type : q.types) {
        if (auto it = type_bits_.find(type); it != type_bits_.end()) item.type_mask |= it->second;
      }
      if (q.tags.size() > kMaxItemTags) FAIL("the generator made too many tags");
      for (const std::string& tag : q.tags) {
        auto it = tag_ids_.find(tag);
        item.tags[item.tag_count++] = it == tag_ids_.end() ? -1 : it->second;
      }
    }
    return items;
  }

  std::vector<Event> events_;  // position p at p - 1
  std::vector<Compact> compact_;
  std::unordered_map<std::string, std::uint32_t> type_bits_;
  std::unordered_map<std::string, std::int32_t> tag_ids_;
};

// Empty when `got` is what the model expects; else a description of the first difference.
std::string Diff(const Model& model, const Expected& want, const ReadResult& got) {
  const std::size_t n = std::min(got.events.size(), want.positions.size());
  for (std::size_t i = 0; i < n; ++i) {
    const SequencedEvent& event = got.events[i];
    if (event.position != want.positions[i]) {
      return "event #" + std::to_string(i) + " is at position " + std::to_string(event.position) +
             ", expected " + std::to_string(want.positions[i]);
    }
    if (event.event != model.at(event.position)) {
      return "event at position " + std::to_string(event.position) + " is " +
             ToString(event.event) + ", expected " + ToString(model.at(event.position));
    }
  }
  if (got.events.size() != want.positions.size()) {
    return std::to_string(got.events.size()) + " events, expected " +
           std::to_string(want.positions.size()) + " (first extra or missing position " +
           std::to_string(got.events.size() > n ? got.events[n].position : want.positions[n]) + ")";
  }
  if (got.head != want.head) {
    return "head " + ToString(got.head) + ", expected " + ToString(want.head);
  }
  return "";
}

// ---- The generator ----

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {
    std::vector<double> weights(kTypes, 1.0);
    std::fill_n(weights.begin(), kCommonTypes, 5.0);
    type_dist_ = std::discrete_distribution<int>(weights.begin(), weights.end());
  }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::int64_t Uniform64(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  bool Chance(int percent) { return Uniform(0, 99) < percent; }

  std::vector<Event> Batch() {
    std::vector<Event> events(static_cast<std::size_t>(Uniform(1, kMaxBatch)));
    for (Event& event : events) event = NextEvent();
    return events;
  }

  // 0-3 distinct tags (hot or from the pool), sometimes one of them repeated; 0-24 bytes of any
  // value as data; rarely a uuid and metadata.
  Event NextEvent() {
    Event event;
    event.type = TypeName(type_dist_(rng_));
    const int tag_count = Pick({20, 35, 30, 15});
    while (static_cast<int>(event.tags.size()) < tag_count) {
      std::string tag =
          Chance(12) ? HotTag(Uniform(0, kHotTags - 1)) : PoolTag(Uniform(0, kTagPool - 1));
      if (std::find(event.tags.begin(), event.tags.end(), tag) == event.tags.end()) {
        event.tags.push_back(std::move(tag));
      }
    }
    if (!event.tags.empty() && Chance(5)) {
      std::string copy = event.tags[static_cast<std::size_t>(Uniform(0, tag_count - 1))];
      event.tags.insert(event.tags.begin() + Uniform(0, tag_count), std::move(copy));
    }
    event.data.resize(static_cast<std::size_t>(Uniform(0, 24)));
    for (char& c : event.data) c = static_cast<char>(Uniform(0, 255));
    if (Chance(1)) {
      Uuid uuid;
      for (std::uint8_t& b : uuid) b = static_cast<std::uint8_t>(Uniform(0, 255));
      event.uuid = uuid;
    }
    if (Chance(1)) event.metadata = {{"k" + std::to_string(Uniform(0, 9)), "v"}, {"", ""}};
    return event;
  }

  // Every query shape: the empty query (no items); 1-4 items with types only, tags only, both or
  // neither; duplicate tags within an item; duplicate items; unknown types and tags among known.
  Query NextQuery(const Model& model) {
    Query query;
    if (Chance(4)) return query;
    const int items = 1 + Pick({50, 25, 15, 10});
    while (static_cast<int>(query.items.size()) < items) {
      if (!query.items.empty() && Chance(8)) {
        QueryItem copy = query.items[static_cast<std::size_t>(
            Uniform(0, static_cast<int>(query.items.size()) - 1))];
        std::shuffle(copy.tags.begin(), copy.tags.end(), rng_);
        query.items.push_back(std::move(copy));
        continue;
      }
      QueryItem item;
      switch (Pick({30, 33, 34, 3})) {
        case 0:
          item.types = NextTypes();
          break;
        case 1:
          item.tags = NextTags(model);
          break;
        case 2:
          item.types = NextTypes();
          item.tags = NextTags(model);
          break;
        default:
          break;  // neither: matches every event
      }
      query.items.push_back(std::move(item));
    }
    return query;
  }

  ReadOptions NextReadOptions(std::int64_t head) {
    ReadOptions options;
    options.after = NextAfter(head, {15, 10, 35, 25, 10, 5});
    switch (Pick({30, 5, 15, 30, 20})) {
      case 0:
        break;  // no limit
      case 1:
        options.limit = 0;
        break;
      case 2:
        options.limit = 1;
        break;
      case 3:
        options.limit = Uniform(2, 20);
        break;
      default:
        options.limit = Uniform(100, 2'000);
        break;
    }
    return options;
  }

  // Options that keep a broad query's result small: a window at the head, or a limit.
  ReadOptions SmallReadOptions(std::int64_t head) {
    ReadOptions options;
    if (Chance(50)) {
      options.after = std::max<std::int64_t>(0, head - Uniform(0, kLargeResult));
    } else {
      options.after = NextAfter(head, {15, 10, 35, 25, 10, 5});
      options.limit = Uniform(1, kLargeResult / 2);
    }
    return options;
  }

  // A condition mostly near the head, so that it fails or passes about equally often.
  AppendCondition NextCondition(const Model& model) {
    AppendCondition condition;
    condition.fail_if_events_match = NextQuery(model);
    condition.after = NextAfter(model.head(), {5, 2, 10, 50, 3, 30});
    return condition;
  }

 private:
  // An index drawn with the given weights.
  int Pick(std::initializer_list<int> weights) {
    int r = Uniform(0, std::accumulate(weights.begin(), weights.end(), 0) - 1);
    int i = 0;
    for (int w : weights) {
      if (r < w) return i;
      r -= w;
      ++i;
    }
    return i - 1;
  }

  // `after` absent / 0 / random / near the head / beyond the head / at the head, by weight.
  std::optional<std::int64_t> NextAfter(std::int64_t head, std::initializer_list<int> weights) {
    switch (Pick(weights)) {
      case 0:
        return std::nullopt;
      case 1:
        return 0;
      case 2:
        return Uniform64(0, head);
      case 3:
        return std::max<std::int64_t>(0, head - Uniform(1, 30));
      case 4:
        return head + Uniform(1, 100);
      default:
        return head;
    }
  }

  // 1-3 types, mostly known ones (duplicates allowed), sometimes unknown ones: names that no
  // event has, including a known name in another case.
  std::vector<std::string> NextTypes() {
    std::vector<std::string> types(static_cast<std::size_t>(Uniform(1, 3)));
    for (std::string& type : types) {
      switch (Pick({88, 6, 6})) {
        case 0:
          type = TypeName(type_dist_(rng_));
          break;
        case 1:
          type = TypeName(Uniform(kTypes, kTypes + 50));
          break;
        default:
          type = "type-" + std::to_string(Uniform(0, kTypes - 1));
          break;
      }
    }
    return types;
  }

  // 1-3 tags in random order: a subset of some event's tags (so that AND items match), random
  // pool tags, hot tags; sometimes with an unknown tag or a repeated tag.
  std::vector<std::string> NextTags(const Model& model) {
    std::vector<std::string> tags;
    switch (Pick({45, 25, 15, 15})) {
      case 0: {
        std::int64_t p = Chance(50) ? Uniform64(1, model.head())
                                    : std::max<std::int64_t>(1, model.head() - Uniform(0, 300));
        tags = model.at(p).tags;
        std::shuffle(tags.begin(), tags.end(), rng_);
        if (!tags.empty())
          tags.resize(static_cast<std::size_t>(Uniform(1, static_cast<int>(tags.size()))));
        break;
      }
      case 1:
        for (int i = Uniform(1, 3); i > 0; --i) tags.push_back(PoolTag(Uniform(0, kTagPool - 1)));
        break;
      case 2:
        tags.push_back(HotTag(Uniform(0, kHotTags - 1)));
        if (Chance(50)) {
          tags.push_back(Chance(50) ? HotTag(Uniform(0, kHotTags - 1))
                                    : PoolTag(Uniform(0, kTagPool - 1)));
        }
        break;
      default:
        tags.push_back(PoolTag(Uniform(0, kTagPool - 1)));
        tags.push_back(UnknownTag());
        break;
    }
    if (tags.empty()) tags.push_back(PoolTag(Uniform(0, kTagPool - 1)));
    if (Chance(10))
      tags.push_back(tags[static_cast<std::size_t>(Uniform(0, static_cast<int>(tags.size()) - 1))]);
    if (Chance(5)) tags.push_back(UnknownTag());
    std::shuffle(tags.begin(), tags.end(), rng_);
    return tags;
  }

  std::string UnknownTag() {
    switch (Uniform(0, 2)) {
      case 0:
        return PoolTag(kTagPool + Uniform(0, 1'000));
      case 1:
        return HotTag(kHotTags + Uniform(0, 10));
      default:
        return "T" + std::to_string(Uniform(0, kTagPool - 1));  // a known tag in another case
    }
  }

  std::mt19937_64 rng_;
  std::discrete_distribution<int> type_dist_;
};

// ---- The store under test ----

class Fixture {
 public:
  Fixture() {
    options_.env = env_.get();
    options_.durability = Durability::kNone;
    // Several segments, so that reads cross segment boundaries.
    options_.segment_bytes = 1u << 20;
    options_.segment_events = 8'192;
    options_.max_write_events = 8'192;
    options_.max_write_bytes = 512u << 10;
    Open();
  }

  Store& store() { return *store_; }

  void Reopen() {
    store_.reset();
    Open();
  }

 private:
  void Open() {
    Result<std::unique_ptr<Store>> store = Store::Open(options_, kDir);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    store_ = std::move(*store);
  }

  std::unique_ptr<Env> env_ = NewMemEnv();
  Options options_;
  std::unique_ptr<Store> store_;
};

std::int64_t HeadOf(Store& store) {
  Result<std::optional<std::int64_t>> head = store.Head();
  REQUIRE_MESSAGE(head.ok(), head.status().ToString());
  return head->value_or(0);
}

struct ReadCase {
  Query query;
  ReadOptions options;
};

// Counts what the queries exercised, so that a generator that drifts into trivial cases fails.
struct Coverage {
  int reads = 0;
  int non_empty = 0;
  int limited_full = 0;  // results cut by their limit
  int large = 0;         // results of more than kLargeResult events
  std::int64_t returned = 0;
  double engine_seconds = 0;
  double model_seconds = 0;
  int failures = 0;
};

// Runs one read against the store and the model; true when they agree.
bool CheckRead(Store& store, const Model& model, const ReadCase& c, const Expected& want,
               Coverage* coverage) {
  auto t0 = std::chrono::steady_clock::now();
  Result<ReadResult> got = store.Read(c.query, c.options);
  coverage->engine_seconds += SecondsSince(t0);
  coverage->returned += static_cast<std::int64_t>(want.positions.size());
  if (want.positions.size() > kLargeResult) ++coverage->large;
  ++coverage->reads;
  if (!want.positions.empty()) ++coverage->non_empty;
  if (c.options.limit && *c.options.limit > 0 &&
      static_cast<std::int64_t>(want.positions.size()) == *c.options.limit) {
    ++coverage->limited_full;
  }
  const std::string diff = got.ok() ? Diff(model, want, *got) : got.status().ToString();
  if (diff.empty()) return true;
  ++coverage->failures;
  FAIL_CHECK(ToString(c.query, c.options)
             << " on a store of " << model.head() << " events: " << diff);
  return false;
}

// Appends `events` to the store and the model under `condition` and checks that the store fails
// exactly when the model says the condition matches, writing nothing then. Returns whether it
// was expected to fail; false in `*ok` on a mismatch.
bool CheckConditionalAppend(Store& store, Model& model, const std::vector<Event>& events,
                            const AppendCondition& condition, bool* ok) {
  const std::int64_t head = model.head();
  const bool must_fail = model.ConditionMatches(condition);
  ReadOptions where;
  where.after = condition.after;
  const std::string what = "append under " + ToString(condition.fail_if_events_match, where) +
                           " on a store of " + std::to_string(head) + " events";
  Result<std::int64_t> appended = store.Append(events, condition);
  *ok = false;
  if (must_fail) {
    if (appended.ok() || !appended.status().IsConditionFailed()) {
      FAIL_CHECK(what << ": expected condition_failed, got "
                      << (appended.ok() ? "position " + std::to_string(*appended)
                                        : appended.status().ToString()));
    } else if (HeadOf(store) != head) {
      FAIL_CHECK(what << ": failed but the head moved to " << HeadOf(store));
    } else {
      *ok = true;
    }
    return true;
  }
  if (!appended.ok()) {
    FAIL_CHECK(what << ": expected success, got " << appended.status().ToString());
    return false;
  }
  for (const Event& event : events) model.Append(event);
  if (*appended != model.head() || HeadOf(store) != model.head()) {
    FAIL_CHECK(what << ": returned " << *appended << ", head " << HeadOf(store) << ", expected "
                    << model.head());
    return false;
  }
  *ok = true;
  return false;
}

TEST_CASE("differential: engine reads and conditional appends agree with a brute-force model") {
  const std::uint64_t seed = TestSeed();
  std::printf("differential: seed %llu (set ES_TEST_SEED to reproduce)\n",
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  INFO("seed " << seed << " (ES_TEST_SEED)");
  Generator gen(seed);
  Fixture fx;
  Model model;
  const auto start = std::chrono::steady_clock::now();

  // Phase 1: unconditional batches of 1..8 events.
  while (static_cast<std::size_t>(model.head()) < kInitialEvents) {
    const std::vector<Event> batch = gen.Batch();
    Result<std::int64_t> last = fx.store().Append(batch, std::nullopt);
    REQUIRE_MESSAGE(last.ok(), last.status().ToString());
    for (const Event& event : batch) model.Append(event);
    REQUIRE(*last == model.head());
  }
  const double append_seconds = SecondsSince(start);
  std::printf("differential: appended %lld events in %.1f s\n",
              static_cast<long long>(model.head()), append_seconds);
  std::fflush(stdout);

  // Phase 2: random reads, with a conditional append after every few.
  Coverage coverage;
  std::vector<ReadCase> sample;
  int condition_failed = 0;
  int condition_passed = 0;
  int append_mismatches = 0;
  for (int i = 0; i < kQueries && coverage.failures < kMaxFailures; ++i) {
    ReadCase c{gen.NextQuery(model), gen.NextReadOptions(model.head())};
    auto t0 = std::chrono::steady_clock::now();
    Expected want = model.Read(c.query, c.options);
    if (want.positions.size() > kLargeResult && !gen.Chance(kLargeResultPercent)) {
      c.options = gen.SmallReadOptions(model.head());
      want = model.Read(c.query, c.options);
    }
    coverage.model_seconds += SecondsSince(t0);
    CheckRead(fx.store(), model, c, want, &coverage);
    if (static_cast<int>(sample.size()) < kReopenQueries && gen.Chance(15)) {
      sample.push_back(std::move(c));
    }
    if (i % kQueriesPerConditionalAppend == 0 && append_mismatches < kMaxFailures) {
      bool ok;
      const bool failed =
          CheckConditionalAppend(fx.store(), model, gen.Batch(), gen.NextCondition(model), &ok);
      (failed ? condition_failed : condition_passed) += 1;
      if (!ok) ++append_mismatches;
    }
  }
  const double query_seconds = SecondsSince(start) - append_seconds;
  std::printf(
      "differential: %d reads (%d non-empty, %d cut by their limit, %d of more than %d events; "
      "%lld events returned; engine %.1f s, model %.1f s) and %d conditional appends (%d "
      "failed) in %.1f s\n",
      coverage.reads, coverage.non_empty, coverage.limited_full, coverage.large, kLargeResult,
      static_cast<long long>(coverage.returned), coverage.engine_seconds, coverage.model_seconds,
      condition_failed + condition_passed, condition_failed, query_seconds);
  std::fflush(stdout);
  CHECK(coverage.failures == 0);
  CHECK(append_mismatches == 0);
  CHECK(coverage.reads == kQueries);
  CHECK(condition_failed + condition_passed >= 2'000);
  // The generator must keep producing interesting cases: many non-empty and limit-cut results,
  // and conditions that fail and pass in roughly equal measure.
  CHECK(coverage.non_empty > kQueries * 3 / 10);
  CHECK(coverage.limited_full > kQueries / 10);
  CHECK(coverage.large >= 8);
  CHECK(condition_failed > (condition_failed + condition_passed) / 5);
  CHECK(condition_passed > (condition_failed + condition_passed) / 5);

  // Phase 3: the index rebuilt from the log gives the same answers.
  fx.Reopen();
  CHECK(HeadOf(fx.store()) == model.head());
  Coverage reopened;
  for (std::size_t i = 0; i < sample.size() && reopened.failures < kMaxFailures; ++i) {
    CheckRead(fx.store(), model, sample[i], model.Read(sample[i].query, sample[i].options),
              &reopened);
  }
  CHECK(reopened.failures == 0);
  CHECK(sample.size() == kReopenQueries);

  std::printf("differential: %zu reads after reopening a store of %lld events; total %.1f s\n",
              sample.size(), static_cast<long long>(model.head()), SecondsSince(start));
}

}  // namespace
}  // namespace es
