// Engine tests: persistence, segment rolling, recovery from torn and corrupt logs, position-index
// repair, locking and input validation. Recorder semantics are covered by tests/conformance.
#include "es/store.h"

#include <doctest/doctest.h>

#include <cstring>

#include "engine/format/file_headers.h"
#include "engine/log/segment.h"
#include "engine/store_impl.h"
#include "engine/testing/test_dir.h"
#include "engine/util/coding.h"
#include "es/verify.h"

namespace es {
namespace {

using testing::FrameOffsets;
using testing::MakeEvent;

constexpr char kDir[] = "/store";

struct MemStore {
  std::unique_ptr<Env> env = NewMemEnv();
  Options options;

  MemStore() {
    options.env = env.get();
    options.durability = Durability::kNone;
  }
  // Segments of `events` events, and no spare segment made in the background (which would change
  // the directory at any moment).
  void UseSmallSegments(std::uint32_t events) {
    options.segment_bytes = 64 * 1024;
    options.max_write_bytes = 32 * 1024;
    options.segment_events = events;
    options.max_write_events = events;
    options.prepare_spare_segment = false;
  }
  Result<std::unique_ptr<Store>> Open() { return Store::Open(options, kDir); }
  std::unique_ptr<Store> OpenOk() {
    auto store = Open();
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    return std::move(store).value();
  }
  std::string SegmentPath(std::int64_t base = 1) const {
    return std::string(kDir) + "/" + Segment::FileName(base);
  }
  std::string IndexPath(std::int64_t base = 1) const {
    return std::string(kDir) + "/" + Segment::IndexFileName(base);
  }
};

std::int64_t AppendOk(Store& store, std::vector<Event> events) {
  auto position = store.Append(events, std::nullopt);
  REQUIRE_MESSAGE(position.ok(), position.status().ToString());
  return *position;
}

std::vector<std::int64_t> AllPositions(Store& store) {
  auto result = store.Read(Query{}, {});
  REQUIRE(result.ok());
  std::vector<std::int64_t> positions;
  for (const auto& e : result->events) positions.push_back(e.position);
  return positions;
}

std::vector<std::int64_t> Range(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> v;
  for (std::int64_t p = first; p <= last; ++p) v.push_back(p);
  return v;
}

// Three frames: positions 1, 2-3, 4.
void WriteThreeFrames(MemStore& m) {
  auto store = m.OpenOk();
  AppendOk(*store, {MakeEvent("A", {"x"}, "one")});
  AppendOk(*store, {MakeEvent("B", {"x", "y"}, "two"), MakeEvent("C", {}, "three")});
  AppendOk(*store, {MakeEvent("D", {"y"}, "four")});
}

TEST_CASE("store: events survive close and reopen with every field") {
  MemStore m;
  Event full = MakeEvent("T", {"b", "a", "b"}, std::string("\0bin\xff", 5));
  full.stream = StreamVersion{"stream-1", 7};
  full.uuid = Uuid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  full.metadata = {{"k", "v"}, {"", "empty key"}};
  {
    auto store = m.OpenOk();
    CHECK(AppendOk(*store, {full, MakeEvent("U", {})}) == 2);
  }
  auto store = m.OpenOk();
  auto result = store->Read(Query{}, {});
  REQUIRE(result.ok());
  REQUIRE(result->events.size() == 2);
  CHECK(result->events[0].event == full);
  CHECK(result->events[1].position == 2);
  CHECK(result->head == 2);
  CHECK(AppendOk(*store, {MakeEvent("V", {})}) == 3);
}

TEST_CASE("store: the writer epoch is bumped durably on every open") {
  MemStore m;
  std::uint64_t first = m.OpenOk()->Info().writer_epoch;
  CHECK(m.OpenOk()->Info().writer_epoch == first + 1);
  CHECK(m.OpenOk()->Info().writer_epoch == first + 2);
}

TEST_CASE("store: a second opener is refused while the first is open") {
  SUBCASE("memory env") {
    MemStore m;
    auto first = m.OpenOk();
    auto second = m.Open();
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().IsLocked());
    first.reset();
    CHECK(m.Open().ok());
  }
  SUBCASE("posix env") {
    testing::TempDir dir;
    Options options;
    options.durability = Durability::kNone;
    auto first = Store::Open(options, dir.path() + "/s");
    REQUIRE(first.ok());
    auto second = Store::Open(options, dir.path() + "/s");
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().IsLocked());
    CHECK(second.status().message().find("LOCK") != std::string::npos);
  }
}

TEST_CASE("store: durable appends on the POSIX env survive reopen") {
  testing::TempDir dir;
  Options options;  // durability sync
  {
    auto store = Store::Open(options, dir.path() + "/s");
    REQUIRE(store.ok());
    for (int i = 0; i < 5; ++i) AppendOk(**store, {MakeEvent("T", {"t" + std::to_string(i)})});
  }
  auto store = Store::Open(options, dir.path() + "/s");
  REQUIRE(store.ok());
  CHECK(AllPositions(**store) == Range(1, 5));
}

TEST_CASE("store: segments roll at the size and event caps and reopen intact") {
  MemStore m;
  m.options.segment_bytes = 64 * 1024;
  m.options.max_write_bytes = 32 * 1024;
  SUBCASE("event cap") { m.options.segment_events = 7; }
  SUBCASE("size cap") { m.options.segment_events = 1000; }
  m.options.max_write_events = std::min<std::uint32_t>(m.options.segment_events, 5);
  std::string data(1000, 'd');
  {
    auto store = m.OpenOk();
    for (int i = 0; i < 60; ++i) {
      int n = 1 + i % static_cast<int>(m.options.max_write_events);
      std::vector<Event> events(n, MakeEvent("T", {"tag" + std::to_string(i % 3)}, data));
      AppendOk(*store, events);
    }
    CHECK(store->Info().segment_count > 2);
  }
  auto store = m.OpenOk();
  auto head = store->Head();
  REQUIRE(head.ok());
  REQUIRE(head->has_value());
  CHECK(AllPositions(*store) == Range(1, **head));
  auto tagged = store->Read(Query{{testing::Item({}, {"tag1"})}}, {});
  REQUIRE(tagged.ok());
  for (const auto& e : tagged->events) CHECK(e.event.tags == std::vector<std::string>{"tag1"});
}

// Found by fuzz/recovery: a segment is named by the position of its first event, so one that
// holds no event cannot roll (the next segment would take its name: the roll truncated the file,
// losing its tracking frames, or failed and poisoned the store). A write that needs such a roll
// is refused alone; the store and its tracking records are unharmed.
TEST_CASE("store: a write that would roll a segment without events is refused, not rolled") {
  MemStore m;
  m.options.segment_bytes = 64 * 1024;
  m.options.max_write_bytes = 32 * 1024;
  m.options.prepare_spare_segment = false;
  SUBCASE("a write larger than the empty active segment of a store made with smaller ones") {
    m.OpenOk();
    m.options.segment_bytes = 1024 * 1024;
    m.options.max_write_bytes = 512 * 1024;
    {
      auto store = m.OpenOk();
      const std::vector<Event> large = {MakeEvent("T", {}, std::string(100 * 1024, 'd'))};
      CHECK(store->Append(large, std::nullopt).status().IsInvalidArgument());
      AppendOk(*store, {MakeEvent("Small", {})});  // not poisoned
    }
    auto store = m.OpenOk();
    CHECK(AllPositions(*store) == Range(1, 1));
    CHECK(store->Info().segment_count == 1);
  }
  SUBCASE("tracking records alone filling a segment") {
    std::int64_t tracked = 0;
    {
      auto store = m.OpenOk();
      Status inserted;
      while (inserted.ok()) {
        inserted = store->InsertTracking({"projector", tracked + 1});
        if (inserted.ok()) ++tracked;
      }
      CHECK(inserted.IsInvalidArgument());
      CHECK(tracked > 500);
    }
    auto store = m.OpenOk();
    auto max = store->MaxTrackingId("projector");
    REQUIRE(max.ok());
    CHECK(max->value_or(0) == tracked);
  }
}

TEST_CASE("store: rolls take the spare segment made in the background; close removes it") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/s";
  Options options;
  options.durability = Durability::kNone;
  options.segment_bytes = 64 * 1024;
  options.max_write_bytes = 32 * 1024;
  options.segment_events = 8;
  options.max_write_events = 8;
  const auto spare_files = [&] {
    auto children = Env::Default()->GetChildren(path);
    REQUIRE(children.ok());
    return std::count_if(children->begin(), children->end(), [](const std::string& name) {
      return name.find("spare") != std::string::npos;
    });
  };
  {
    auto opened = Store::Open(options, path);
    REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
    Store& store = **opened;
    for (int roll = 0; roll < 3; ++roll) {
      static_cast<StoreImpl&>(store).TEST_WaitForSpareMaker();
      CHECK(spare_files() == 2);  // a segment and its position index, ready
      AppendOk(store, std::vector<Event>(8, MakeEvent("T", {"t"}, std::string(100, 'x'))));
    }
    const StoreInfo info = store.Info();
    CHECK(info.rolls == 3);  // the first segment, made at creation, and two more
    CHECK(info.rolls_from_spare == 2);
    CHECK(info.spare_failures == 0);
  }
  CHECK(spare_files() == 0);
  // A spare left by a process that died is removed by the next open.
  REQUIRE(Env::Default()->OpenFile(path + "/spare-segment.tmp", {.create = true}).ok());
  options.prepare_spare_segment = false;
  auto store = Store::Open(options, path);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  CHECK(spare_files() == 0);
  CHECK(AllPositions(**store) == Range(1, 24));
}

TEST_CASE("store: a read-only open writes nothing, beside a writer too") {
  MemStore m;
  m.UseSmallSegments(4);
  m.options.checkpoint_interval_events = 0;
  auto writer = m.OpenOk();
  for (int i = 0; i < 5; ++i) {
    AppendOk(*writer, {MakeEvent("T", {"t" + std::to_string(i % 2)}, std::to_string(i)),
                       MakeEvent("U", {}, "x")});
  }
  Options read_only = m.options;
  read_only.read_only = true;
  const auto open_read_only = [&] {
    auto store = Store::Open(read_only, kDir);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    return std::move(store).value();
  };
  const testing::DirImage before = testing::ReadDir(m.env.get(), kDir);
  {
    // The writer holds the lock; the reader takes none, and sees what was written.
    auto reader = open_read_only();
    CHECK(AllPositions(*reader) == Range(1, 10));
    auto tagged = reader->Read(Query{{testing::Item({"T"}, {"t1"})}}, {});
    REQUIRE(tagged.ok());
    CHECK(tagged->events.size() == 2);
    CHECK(reader->Info().segment_count == 3);
    CHECK(reader->Info().read_only);
    CHECK_FALSE(writer->Info().read_only);
    CHECK(reader->Append(std::vector<Event>{MakeEvent("T", {})}, std::nullopt)
              .status()
              .IsNotSupported());
    CHECK(reader->Sync().IsNotSupported());
    CHECK(testing::ReadDir(m.env.get(), kDir) == before);
    // Writes after the reader opened are not in its view.
    AppendOk(*writer, {MakeEvent("V", {})});
    CHECK(AllPositions(*reader) == Range(1, 10));
  }
  writer.reset();
  testing::ForgetDurablePosition(m.env.get(), kDir);
  // A torn tail ends the reader's view and stays on disk for the next writer to cut.
  const std::string segment_path = m.SegmentPath(9);
  const std::vector<std::uint64_t> frames =
      FrameOffsets(testing::ReadFile(m.env.get(), segment_path));
  REQUIRE(frames.size() == 2);
  testing::PatchFile(m.env.get(), segment_path, frames[1] + 40, "\x55");
  const testing::DirImage damaged = testing::ReadDir(m.env.get(), kDir);
  {
    auto reader = open_read_only();
    CHECK(AllPositions(*reader) == Range(1, 10));
  }
  CHECK(testing::ReadDir(m.env.get(), kDir) == damaged);
  // No store: NotFound, and nothing created.
  CHECK(Store::Open(read_only, "/nothing").status().IsNotFound());
  CHECK_FALSE(m.env->FileExists("/nothing"));
}

TEST_CASE("store: a read-only open resumes after the newest checkpoint, writing nothing") {
  MemStore m;
  m.UseSmallSegments(8);
  const auto event = [](int i) {
    return MakeEvent(i % 2 == 0 ? "Even" : "Odd", {"t" + std::to_string(i % 3)}, std::to_string(i));
  };
  {
    auto writer = m.OpenOk();  // its close writes a checkpoint at 10, in the segment of 9..16
    for (int i = 1; i <= 10; i += 2) AppendOk(*writer, {event(i), event(i + 1)});
  }
  m.options.checkpoint_interval_events = 0;
  {
    auto writer = m.OpenOk();
    for (int i = 11; i <= 13; ++i) AppendOk(*writer, {event(i)});
  }
  // The entries of 11..13 are derived data past the checkpoint: the reader sets them again, and
  // must do so in memory (a write through the file's read-only mapping would be seen here).
  testing::PatchFile(m.env.get(), m.IndexPath(9),
                     kPositionIndexHeaderSize + (11 - 9) * kPositionIndexEntrySize,
                     std::string(3 * kPositionIndexEntrySize, '\0'));
  const testing::DirImage before = testing::ReadDir(m.env.get(), kDir);
  Options read_only = m.options;
  read_only.read_only = true;
  auto reader = Store::Open(read_only, kDir);
  REQUIRE_MESSAGE(reader.ok(), reader.status().ToString());
  const StoreInfo info = (*reader)->Info();
  CHECK(info.checkpoint_loaded == 10);
  CHECK(info.replayed_events == 3);
  auto all = (*reader)->Read(Query{}, {});
  REQUIRE(all.ok());
  REQUIRE(all->events.size() == 13);
  for (int i = 1; i <= 13; ++i) CHECK(all->events[i - 1].event == event(i));
  // Both sides of the checkpoint answer queries, through the copied position index too.
  auto tagged = (*reader)->Read(Query{{testing::Item({"Odd"}, {"t2"})}}, {});
  REQUIRE(tagged.ok());
  std::vector<std::int64_t> positions;
  for (const auto& e : tagged->events) positions.push_back(e.position);
  CHECK(positions == std::vector<std::int64_t>{5, 11});
  reader->reset();
  CHECK(testing::ReadDir(m.env.get(), kDir) == before);
}

TEST_CASE("store: a read-only open goes on at a frame a live writer finished while it looked") {
  MemStore m;
  m.options.durability = Durability::kSync;  // each frame says the ones before it were durable
  m.options.checkpoint_interval_events = 0;
  m.options.prepare_spare_segment = false;
  m.options.segment_events = 2;
  m.options.max_write_events = 2;
  {
    auto store = m.OpenOk();
    for (int i = 0; i < 3; ++i) AppendOk(*store, {MakeEvent("T", {}, "x"), MakeEvent("T", {})});
  }
  // As a live writer that opened an empty store leaves store.meta.
  testing::ForgetDurablePosition(m.env.get(), kDir);
  const std::string segment = testing::ReadFile(m.env.get(), m.SegmentPath(1));
  const std::vector<std::uint64_t> frames = FrameOffsets(segment);
  REQUIRE(frames.size() == 1);
  const std::uint64_t end = frames[0] + DecodeFixed<std::uint32_t>(segment.data() + frames[0]);
  const std::string tail = segment.substr(frames[0] + 40, end - frames[0] - 40);
  const testing::DirImage whole = testing::ReadDir(m.env.get(), kDir);
  // The reader meets the frame at positions 1-2 half written (its length and first bytes there,
  // the rest still zero); the writer finishes it before the reader looks past it, at the frame
  // of the next segment, written once it was durable.
  testing::PatchFile(m.env.get(), m.SegmentPath(1), frames[0] + 40, std::string(tail.size(), 0));
  testing::OpenHookEnv live(m.env.get(), m.SegmentPath(3), [&] {
    testing::PatchFile(m.env.get(), m.SegmentPath(1), frames[0] + 40, tail);
  });
  Options read_only = m.options;
  read_only.read_only = true;
  read_only.env = &live;

  SUBCASE("Store::Open") {
    auto reader = Store::Open(read_only, kDir);
    REQUIRE_MESSAGE(reader.ok(), reader.status().ToString());
    CHECK(AllPositions(**reader) == Range(1, 6));
  }
  SUBCASE("VerifyStore") {
    Result<VerifyReport> report = VerifyStore(read_only, kDir);
    REQUIRE(report.ok());
    CHECK_MESSAGE(report->clean(), (report->problems.empty() ? "" : report->problems[0].message));
    CHECK(report->events == 6);
  }
  CHECK(live.hooked());
  CHECK(testing::ReadDir(m.env.get(), kDir) == whole);
}

TEST_CASE("recovery: a torn last frame is cut at every byte offset") {
  MemStore m;
  // Small segments and no spare: the store's image is copied back for every offset.
  m.options.segment_bytes = 1 << 20;
  m.options.max_write_bytes = 1 << 19;
  m.options.prepare_spare_segment = false;
  WriteThreeFrames(m);
  testing::ForgetDurablePosition(m.env.get(), kDir);  // the frames were never synced
  const testing::DirImage image = testing::ReadDir(m.env.get(), kDir);
  const std::string& segment = image.at(Segment::FileName(1));
  const std::vector<std::uint64_t> frames = FrameOffsets(segment);
  REQUIRE(frames.size() == 3);
  const std::uint64_t last = frames[2];
  const std::uint64_t end = last + DecodeFixed<std::uint32_t>(segment.data() + last);
  for (char filler : {'\0', '\x5a'}) {
    for (std::uint64_t cut = last; cut < end; ++cut) {
      CAPTURE(cut);
      CAPTURE(static_cast<int>(filler));
      if (segment.find_first_not_of(filler, cut) >= end) continue;  // nothing would change
      testing::DirImage torn = image;
      std::string& bytes = torn[Segment::FileName(1)];
      std::memset(bytes.data() + cut, filler, end - cut);
      testing::WriteDir(m.env.get(), kDir, torn);
      {
        auto store = m.OpenOk();
        CHECK(AllPositions(*store) == Range(1, 3));
        CHECK(AppendOk(*store, {MakeEvent("E", {"z"}, "five")}) == 4);
      }
      auto store = m.OpenOk();
      auto result = store->Read(Query{}, {.after = 3, .limit = std::nullopt});
      REQUIRE(result.ok());
      REQUIRE(result->events.size() == 1);
      CHECK(result->events[0].event.data == "five");
    }
  }
}

TEST_CASE("recovery: a bit flip before the last valid frame fails Open naming segment and offset") {
  MemStore m;
  // Open does not read the frames a checkpoint covers again: this is about a replay.
  m.options.checkpoint_interval_events = 0;
  // Each frame then records that the ones before it were durable when it was written.
  m.options.durability = Durability::kSync;
  WriteThreeFrames(m);
  const testing::DirImage image = testing::ReadDir(m.env.get(), kDir);
  const std::vector<std::uint64_t> frames = FrameOffsets(image.at(Segment::FileName(1)));
  for (std::uint64_t victim : {frames[0] + 20, frames[1] + 60, frames[1] + 4}) {
    CAPTURE(victim);
    testing::WriteDir(m.env.get(), kDir, image);
    std::string byte = image.at(Segment::FileName(1)).substr(victim, 1);
    byte[0] = static_cast<char>(byte[0] ^ 0x10);
    testing::PatchFile(m.env.get(), m.SegmentPath(), victim, byte);
    const std::string before = testing::ReadFile(m.env.get(), m.SegmentPath());
    auto store = m.Open();
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().IsCorruption());
    std::uint64_t bad_frame = victim < frames[1] ? frames[0] : frames[1];
    CHECK(store.status().message().find(Segment::FileName(1)) != std::string::npos);
    CHECK(store.status().message().find("offset " + std::to_string(bad_frame)) !=
          std::string::npos);
    CHECK(testing::ReadFile(m.env.get(), m.SegmentPath()) == before);
  }
}

TEST_CASE(
    "recovery: a bad frame before frames written while it was not yet durable is a torn tail") {
  // Out-of-order write-back of a group (or of kNone writes) that was never synced looks like
  // this: no frame after the bad one proves it durable, so recovery cuts the log there.
  MemStore m;  // kNone: every frame records that the ones before it were not yet durable
  m.options.checkpoint_interval_events = 0;
  WriteThreeFrames(m);
  testing::ForgetDurablePosition(m.env.get(), kDir);  // as a crash, not a clean close, leaves it
  const std::vector<std::uint64_t> frames =
      FrameOffsets(testing::ReadFile(m.env.get(), m.SegmentPath()));
  testing::FlipBit(m.env.get(), m.SegmentPath(), frames[1] + 60);
  auto store = m.OpenOk();
  CHECK(AllPositions(*store) == Range(1, 1));
  const std::string segment = testing::ReadFile(m.env.get(), m.SegmentPath());
  CHECK(segment.find_first_not_of('\0', frames[1]) == std::string::npos);
}

TEST_CASE("recovery: a bit flip in a tail frame that was never synced cuts it") {
  MemStore m;
  WriteThreeFrames(m);
  testing::ForgetDurablePosition(m.env.get(), kDir);  // a crash, not a clean close
  const std::vector<std::uint64_t> frames =
      FrameOffsets(testing::ReadFile(m.env.get(), m.SegmentPath()));
  testing::PatchFile(m.env.get(), m.SegmentPath(), frames[2] + 50, "\x7f");
  auto store = m.OpenOk();
  CHECK(AllPositions(*store) == Range(1, 3));
}

TEST_CASE("recovery: damage to frames store.meta records as durable is corruption") {
  // kNone frames carry no proof of durability; the clean close that synced them recorded it.
  MemStore m;
  m.options.checkpoint_interval_events = 0;  // a replay, which checks every frame
  WriteThreeFrames(m);
  const std::string before = testing::ReadFile(m.env.get(), m.SegmentPath());
  const std::vector<std::uint64_t> frames = FrameOffsets(before);
  SUBCASE("a bit flip in the tail frame") {
    testing::PatchFile(m.env.get(), m.SegmentPath(), frames[2] + 50, "\x7f");
  }
  SUBCASE("the tail frame zeroed") {
    testing::PatchFile(m.env.get(), m.SegmentPath(), frames[2], std::string(64, '\0'));
  }
  SUBCASE("the segment file gone") { REQUIRE(m.env->RemoveFile(m.SegmentPath()).ok()); }
  auto store = m.Open();
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().IsCorruption());
}

// A roll does not sync the segment before it: whether a bad frame followed by later segments is
// a torn tail depends on what the later frames record about durability.
TEST_CASE("recovery: a bad frame in a full segment followed by later segments") {
  for (const Durability durability : {Durability::kSync, Durability::kNone}) {
    CAPTURE(static_cast<int>(durability));
    MemStore m;
    m.options.checkpoint_interval_events = 0;  // as above: this is about a replay
    m.options.segment_events = 2;
    m.options.max_write_events = 2;
    m.options.durability = durability;
    {
      auto store = m.OpenOk();
      for (int i = 0; i < 3; ++i) AppendOk(*store, {MakeEvent("T", {}, "x"), MakeEvent("T", {})});
      REQUIRE(store->Info().segment_count == 3);
    }
    testing::ForgetDurablePosition(m.env.get(), kDir);  // as a crash would leave it
    const std::vector<std::uint64_t> frames =
        FrameOffsets(testing::ReadFile(m.env.get(), m.SegmentPath(1)));
    REQUIRE(frames.size() == 1);
    testing::PatchFile(m.env.get(), m.SegmentPath(1), frames[0] + 50, "\x01");
    auto store = m.Open();
    if (durability == Durability::kSync) {
      // The later frames were written after this one was synced: it was durable.
      REQUIRE_FALSE(store.ok());
      CHECK(store.status().IsCorruption());
    } else {
      // None of them was synced when written: a crash could leave exactly this.
      REQUIRE_MESSAGE(store.ok(), store.status().ToString());
      CHECK(AllPositions(**store) == std::vector<std::int64_t>{});
      CHECK((*store)->Info().segment_count == 1);
      CHECK_FALSE(m.env->FileExists(m.SegmentPath(3)));
    }
  }
}

TEST_CASE("recovery: a missing or lying position index is rebuilt") {
  MemStore m;
  WriteThreeFrames(m);
  SUBCASE("missing") { REQUIRE(m.env->RemoveFile(m.IndexPath()).ok()); }
  SUBCASE("lying entries") {
    // Point every entry at the first event: reads would return the wrong event if trusted.
    std::string index = testing::ReadFile(m.env.get(), m.IndexPath());
    std::string first = index.substr(kPositionIndexHeaderSize, kPositionIndexEntrySize);
    for (int i = 1; i < 4; ++i) {
      testing::PatchFile(m.env.get(), m.IndexPath(), kPositionIndexHeaderSize + i * 8, first);
    }
  }
  SUBCASE("bad header") { testing::PatchFile(m.env.get(), m.IndexPath(), 20, "junk"); }
  SUBCASE("truncated") {
    auto file = m.env->OpenFile(m.IndexPath(), {.writable = true});
    REQUIRE(file.ok());
    REQUIRE((*file)->Truncate(100).ok());
  }
  auto store = m.OpenOk();
  auto result = store->Read(Query{}, {});
  REQUIRE(result.ok());
  std::vector<std::string> data;
  for (const auto& e : result->events) data.push_back(e.event.data);
  CHECK(data == std::vector<std::string>{"one", "two", "three", "four"});
}

TEST_CASE("recovery: a damaged store.meta slot falls back to the other one") {
  MemStore m;
  WriteThreeFrames(m);
  m.OpenOk();  // now both slots hold valid generations
  std::string meta_path = std::string(kDir) + "/store.meta";
  std::string meta = testing::ReadFile(m.env.get(), meta_path);
  // Damage whichever slot is newer (larger generation at offset 32).
  std::uint64_t a = DecodeFixed<std::uint64_t>(meta.data() + 32);
  std::uint64_t b = DecodeFixed<std::uint64_t>(meta.data() + kMetaSlotSize + 32);
  testing::PatchFile(m.env.get(), meta_path, (a > b ? 0 : kMetaSlotSize) + 40, "\x01");
  auto store = m.OpenOk();
  CHECK(AllPositions(*store) == Range(1, 4));
  SUBCASE("both slots damaged") {
    store.reset();
    testing::PatchFile(m.env.get(), meta_path, 8, "\x09");
    testing::PatchFile(m.env.get(), meta_path, kMetaSlotSize + 8, "\x09");
    auto broken = m.Open();
    REQUIRE_FALSE(broken.ok());
    CHECK(broken.status().IsCorruption());
  }
}

TEST_CASE("store: the directory holds nothing unexpected") {
  MemStore m;
  WriteThreeFrames(m);
  SUBCASE("temporaries are removed") {
    testing::PatchFile(m.env.get(), std::string(kDir) + "/x.tmp", 0, "partial");
    auto store = m.OpenOk();
    CHECK_FALSE(m.env->FileExists(std::string(kDir) + "/x.tmp"));
  }
  SUBCASE("an unknown file is an error naming it") {
    testing::PatchFile(m.env.get(), std::string(kDir) + "/notes.txt", 0, "hello");
    auto store = m.Open();
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().IsCorruption());
    CHECK(store.status().message().find("notes.txt") != std::string::npos);
  }
  SUBCASE("segments without store.meta") {
    REQUIRE(m.env->RemoveFile(std::string(kDir) + "/store.meta").ok());
    CHECK(m.Open().status().IsCorruption());
  }
}

TEST_CASE("store: open options are validated") {
  MemStore m;
  SUBCASE("tiny segments") { m.options.segment_bytes = 1000; }
  SUBCASE("writes larger than a segment") { m.options.max_write_bytes = 64u << 20; }
  SUBCASE("more events per write than per segment") {
    m.options.segment_events = 10;
    m.options.max_write_events = 11;
  }
  SUBCASE("missing store without create_if_missing") { m.options.create_if_missing = false; }
  CHECK_FALSE(m.Open().ok());
}

TEST_CASE("store: error_if_exists refuses an existing store") {
  MemStore m;
  m.OpenOk();
  m.options.error_if_exists = true;
  CHECK(m.Open().status().IsInvalidArgument());
}

TEST_CASE("store: writes over the configured maxima are rejected and write nothing") {
  MemStore m;
  m.options.max_write_bytes = 4096;
  m.options.max_write_events = 3;
  auto store = m.OpenOk();
  CHECK(store->Append(std::vector<Event>{MakeEvent("T", {}, std::string(5000, 'x'))}, std::nullopt)
            .status()
            .IsInvalidArgument());
  CHECK(store->Append(std::vector<Event>(4, MakeEvent("T", {})), std::nullopt)
            .status()
            .IsInvalidArgument());
  CHECK(store->Append(std::vector<Event>{MakeEvent("T", {std::string(70000, 't')})}, std::nullopt)
            .status()
            .IsInvalidArgument());
  CHECK(store->Head()->has_value() == false);
}

}  // namespace
}  // namespace es
