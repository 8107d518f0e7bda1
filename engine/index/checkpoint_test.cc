// IndexCheckpoint: an index written and read back answers like the index it was taken from, also
// when the writer went on adding events (new and old types, tags, streams, tracking) while the
// snapshot was written, sequentially and from another thread; records that pass their checksums
// but break a rule of the format are refused, and the index can be cleared and loaded again.
#include "engine/index/checkpoint.h"

#include <doctest/doctest.h>

#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/testing/status_checks.h"
#include "engine/testing/test_dir.h"
#include "engine/util/coding.h"
#include "es/env.h"

namespace es {
namespace {

constexpr char kPath[] = "/ckpt";
using Kind = CheckpointBlockKind;

struct TestEvent {
  std::string type;
  std::vector<std::string> tags;
  std::optional<std::string> stream;
  std::int64_t version = 0;
  std::optional<std::pair<std::string, std::int64_t>> tracking;
};

// Random events over a few types, a pool of tags, a few streams whose versions mostly grow (and
// now and then go back), and tracking records of two applications.
std::vector<TestEvent> RandomEvents(std::mt19937_64& rng, std::size_t n, const std::string& salt) {
  std::vector<TestEvent> events;
  std::int64_t tracking = 0;
  for (std::size_t i = 0; i < n; ++i) {
    TestEvent e;
    e.type = "type" + std::to_string(rng() % 7) + salt;
    for (std::uint64_t t = rng() % 4; t > 0; --t)
      e.tags.push_back("tag" + std::to_string(rng() % 50));
    if (rng() % 3 == 0) e.tags.push_back(salt + "tag" + std::to_string(i));  // a fresh tag
    if (rng() % 2 == 0) {
      e.stream = "stream" + std::to_string(rng() % 9) + (rng() % 5 == 0 ? salt : "");
      e.version = static_cast<std::int64_t>(rng() % 40) - 5;
    }
    if (rng() % 6 == 0) {
      tracking += 1 + static_cast<std::int64_t>(rng() % 3);
      e.tracking = {{rng() % 2 == 0 ? "app-a" : "app-b" + salt, tracking}};
    }
    events.push_back(std::move(e));
  }
  return events;
}

void Index(MemIndex* index, std::int64_t position, const TestEvent& e) {
  std::vector<std::string_view> tags(e.tags.begin(), e.tags.end());
  std::string_view stream = e.stream ? std::string_view(*e.stream) : std::string_view();
  index->AddEvent(position, e.type, tags, e.stream ? &stream : nullptr, e.version);
  if (e.tracking) index->SetMaxTrackingId(e.tracking->first, e.tracking->second);
}

// An index of events[0 .. n).
void Build(MemIndex* index, const std::vector<TestEvent>& events, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) Index(index, static_cast<std::int64_t>(i + 1), events[i]);
}

struct Written {
  CheckpointHeader header;
  std::string bytes;
};

// Writes a checkpoint file of the snapshot `index` holds; `during` runs while it is written.
Written WriteCheckpoint(
    Env* env, const MemIndex& index, std::int64_t position,
    const std::function<void()>& during = [] {}) {
  auto file = env->OpenFile(kPath, {.create = true, .writable = true});
  REQUIRE_OK(file.status());
  REQUIRE_OK((*file)->Truncate(0));
  Written w;
  w.header.position = position;
  w.header.salt = 99;
  w.header.segments = {{1, 5}};
  CheckpointBlockWriter writer(file->get(), CheckpointHeaderLength(1), w.header.salt);
  std::thread other(during);
  IndexCheckpoint::Write(index, &writer, &w.header);
  other.join();
  REQUIRE_OK(writer.Finish());
  w.header.block_count = writer.block_count();
  w.header.block_bytes = writer.block_bytes();
  REQUIRE_OK((*file)->Write(0, EncodeCheckpointHeader(w.header)));
  w.bytes = testing::ReadFile(env, kPath);
  return w;
}

Status Load(const Written& w, MemIndex* index) {
  CheckpointHeader header;
  ES_RETURN_IF_ERROR(DecodeCheckpointHeader(w.bytes.data(), w.bytes.size(), &header));
  std::vector<CheckpointBlock> blocks;
  ES_RETURN_IF_ERROR(ReadCheckpointBlocks(w.bytes.data(), w.bytes.size(), header, &blocks));
  return IndexCheckpoint::Read(blocks, header, index);
}

// Whether `loaded` answers like `expected` up to `head`: random queries (with after and limit),
// every stream's record, tracking maxima and counts.
void CheckSame(const MemIndex& expected, const MemIndex& loaded, std::int64_t head,
               const std::vector<TestEvent>& events, std::mt19937_64& rng) {
  CHECK(loaded.type_count() == expected.type_count());
  CHECK(loaded.tag_count() == expected.tag_count());
  CHECK(loaded.stream_count() == expected.stream_count());
  // Events after the head (if any) bring names the index must not know up to it.
  auto pick = [&] { return events[rng() % events.size()]; };
  for (int q = 0; q < 400; ++q) {
    Query query;
    for (std::uint64_t items = rng() % 3; items > 0; --items) {
      QueryItem item;
      if (rng() % 2 == 0) item.types.push_back(rng() % 10 == 0 ? "nope" : pick().type);
      for (const std::string& tag : pick().tags) {
        if (rng() % 2 == 0) item.tags.push_back(tag);
      }
      query.items.push_back(item);
    }
    const std::int64_t after = static_cast<std::int64_t>(rng() % 3 == 0 ? rng() % head : 0);
    const std::int64_t limit = rng() % 4 == 0 ? 1 + static_cast<std::int64_t>(rng() % 5) : head;
    std::vector<std::int64_t> want, got;
    expected.Match(query, after, head, limit, &want);
    loaded.Match(query, after, head, limit, &got);
    CHECK(got == want);
    CHECK(loaded.AnyMatch(query, after, head) == expected.AnyMatch(query, after, head));
  }
  for (const TestEvent& e : events) {
    if (e.stream) {
      CAPTURE(*e.stream);
      const MemIndex::Stream* want = expected.FindStream(*e.stream);
      const MemIndex::Stream* got = loaded.FindStream(*e.stream);
      REQUIRE((want == nullptr) == (got == nullptr));
      if (want != nullptr) {
        CHECK(got->max_version == want->max_version);
        CHECK(got->versions_increasing == want->versions_increasing);
        CHECK(got->positions.size() == want->positions.size());
      }
    }
    if (e.tracking) {
      CHECK(loaded.MaxTrackingId(e.tracking->first) == expected.MaxTrackingId(e.tracking->first));
    }
  }
  CHECK_FALSE(loaded.MaxTrackingId("never").has_value());
}

TEST_CASE("index checkpoint: a written index reads back answering the same") {
  auto env = NewMemEnv();
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const std::vector<TestEvent> events = RandomEvents(rng, 200 + seed * 300, "");
    MemIndex index;
    Build(&index, events, events.size());
    const auto head = static_cast<std::int64_t>(events.size());
    index.BeginSnapshot(head);
    const Written w = WriteCheckpoint(env.get(), index, head);
    index.EndSnapshot();
    CHECK(w.header.type_count == index.type_count());
    CHECK(w.header.tag_count == index.tag_count());
    CHECK(w.header.stream_count == index.stream_count());

    MemIndex loaded;
    REQUIRE_OK(Load(w, &loaded));
    CheckSame(index, loaded, head, events, rng);
  }
}

TEST_CASE("index checkpoint: the snapshot holds while the writer goes on") {
  auto env = NewMemEnv();
  for (const bool concurrent : {false, true}) {
    for (std::uint64_t seed = 0; seed < 6; ++seed) {
      CAPTURE(concurrent);
      CAPTURE(seed);
      std::mt19937_64 rng(seed);
      std::vector<TestEvent> events = RandomEvents(rng, 1500, "");
      const std::size_t at = 500 + seed * 100;
      // Events after the snapshot bring new types, tags, streams and applications, and change
      // old streams: versions above and below their maxima.
      std::vector<TestEvent> later = RandomEvents(rng, 1500, "-late");
      for (std::size_t i = 0; i < later.size(); i += 7) {
        later[i].stream = events[i].stream.value_or("stream1");
        later[i].version = i % 2 == 0 ? 1000 + static_cast<std::int64_t>(i) : -100;
      }
      MemIndex index;
      Build(&index, events, at);
      MemIndex expected;
      Build(&expected, events, at);

      const auto position = static_cast<std::int64_t>(at);
      index.BeginSnapshot(position);
      auto add_later = [&] {
        for (std::size_t i = 0; i < later.size(); ++i) {
          Index(&index, position + 1 + static_cast<std::int64_t>(i), later[i]);
        }
      };
      Written w;
      if (concurrent) {
        w = WriteCheckpoint(env.get(), index, position, add_later);
      } else {
        add_later();
        w = WriteCheckpoint(env.get(), index, position);
      }
      index.EndSnapshot();
      CHECK(w.header.type_count == expected.type_count());

      MemIndex loaded;
      REQUIRE_OK(Load(w, &loaded));
      events.resize(at);
      events.insert(events.end(), later.begin(), later.end());
      CheckSame(expected, loaded, position, events, rng);
    }
  }
}

// A checkpoint file of hand-made records (with right checksums) and header counts.
struct Crafted {
  std::vector<std::pair<Kind, std::string>> records;
  std::int64_t position = 2;
  std::uint64_t types = 1, tags = 1, streams = 1, tracking = 1;

  Crafted() {
    Add(Kind::kTypes, Name("T"));
    Add(Kind::kTypeColumn, Varint(0));
    Add(Kind::kTypeColumn, Varint(0));
    Add(Kind::kTags, Name("tag") + Postings({1, 1}));
    Add(Kind::kStreams, Name("s") + Varint(ZigZagEncode(3)) + '\x01' + Postings({2}));
    Add(Kind::kTracking, Name("app") + Varint(ZigZagEncode(9)));
  }
  void Add(Kind kind, std::string bytes) { records.emplace_back(kind, std::move(bytes)); }
  static std::string Varint(std::uint64_t v) {
    std::string s;
    PutVarint64(&s, v);
    return s;
  }
  static std::string Name(const std::string& name) { return Varint(name.size()) + name; }
  static std::string Postings(const std::vector<std::uint64_t>& gaps) {
    std::string s = Varint(gaps.size());
    for (std::uint64_t gap : gaps) s += Varint(gap);
    return s;
  }

  Status Load(Env* env, MemIndex* index) const {
    auto file = env->OpenFile(kPath, {.create = true, .writable = true});
    ES_RETURN_IF_ERROR(file.status());
    ES_RETURN_IF_ERROR((*file)->Truncate(0));
    Written w;
    w.header.position = position;
    w.header.segments = {{1, 5}};
    w.header.type_count = types;
    w.header.tag_count = tags;
    w.header.stream_count = streams;
    w.header.tracking_count = tracking;
    CheckpointBlockWriter writer(file->get(), CheckpointHeaderLength(1), 0);
    for (const auto& [kind, bytes] : records) writer.AddRecord(kind)->append(bytes);
    ES_RETURN_IF_ERROR(writer.Finish());
    w.header.block_count = writer.block_count();
    w.header.block_bytes = writer.block_bytes();
    ES_RETURN_IF_ERROR((*file)->Write(0, EncodeCheckpointHeader(w.header)));
    w.bytes = testing::ReadFile(env, kPath);
    return es::Load(w, index);
  }
};

TEST_CASE("index checkpoint: records that break a rule are refused; the index clears") {
  auto env = NewMemEnv();
  MemIndex index;
  REQUIRE_OK(Crafted().Load(env.get(), &index));
  CHECK(index.FindStream("s")->max_version == 3);
  CHECK(index.MaxTrackingId("app") == 9);
  index.Clear();

  Crafted bad;
  SUBCASE("repeated type") {
    bad.records.insert(bad.records.begin() + 1, {Kind::kTypes, Crafted::Name("T")});
    bad.types = 2;
  }
  SUBCASE("empty type name") { bad.records[0].second = Crafted::Name(""); }
  SUBCASE("unknown type id") { bad.records[1].second = Crafted::Varint(1); }
  SUBCASE("type column shorter than the position") { bad.position = 3; }
  SUBCASE("posting gap of zero") {
    bad.records[3].second = Crafted::Name("tag") + Crafted::Postings({1, 0});
  }
  SUBCASE("posting beyond the position") {
    bad.records[3].second = Crafted::Name("tag") + Crafted::Postings({1, 2});
  }
  SUBCASE("empty posting list") { bad.records[3].second = Crafted::Name("tag") + '\0'; }
  SUBCASE("posting count beyond the record") {
    bad.records[3].second = Crafted::Name("tag") + Crafted::Varint(1000) + '\x01';
  }
  SUBCASE("repeated tag") {
    bad.records.insert(bad.records.begin() + 4, bad.records[3]);
    bad.tags = 2;
  }
  SUBCASE("bad stream flags") {
    bad.records[4].second =
        Crafted::Name("s") + Crafted::Varint(6) + '\x02' + Crafted::Postings({2});
  }
  SUBCASE("truncated record") { bad.records[4].second.pop_back(); }
  SUBCASE("bytes after the records") { bad.records[5].second += "x"; }
  SUBCASE("repeated application") {
    bad.Add(Kind::kTracking, bad.records[5].second);
    bad.tracking = 2;
  }
  SUBCASE("header counts disagree") { bad.tags = 2; }
  SUBCASE("name longer than the record") { bad.records[3].second = Crafted::Varint(200) + "tag"; }
  CHECK(bad.Load(env.get(), &index).IsCorruption());
  index.Clear();
  REQUIRE_OK(Crafted().Load(env.get(), &index));
  CHECK(index.type_count() == 1);
  CHECK(index.tag_count() == 1);
  std::vector<std::int64_t> positions;
  index.Match(Query{{QueryItem{{"T"}, {"tag"}}}}, 0, 2, 10, &positions);
  CHECK(positions == std::vector<std::int64_t>{1, 2});
}

}  // namespace
}  // namespace es
