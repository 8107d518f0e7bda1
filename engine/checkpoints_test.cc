// Index checkpoints at the store level: a store opened from a checkpoint answers exactly like a
// full replay of its log (reads of many queries, streams, tracking maxima, counts, and the
// stream-version checks of appends); checkpoints are written in the background and at close and
// two are kept; and every way of damaging one (each byte, truncation, another store's, one beyond
// the log, a replaced or torn last frame, a recreated segment, a forged header, records that pass
// their checksum but break the rules, missing or lying position indexes) makes Open fall back to
// the previous checkpoint or to a full replay, never to another answer. Crashes on the
// fault-injection Env and concurrent writers (run under ThreadSanitizer) too.
#include "engine/checkpoints.h"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/env/fault_env.h"
#include "engine/format/checkpoint_file.h"
#include "engine/log/segment.h"
#include "engine/log/store_meta.h"
#include "engine/testing/status_checks.h"
#include "engine/testing/test_dir.h"
#include "engine/util/checksum.h"
#include "engine/util/coding.h"
#include "engine/util/file_names.h"
#include "es/store.h"

namespace es {
namespace {

using testing::Item;
using testing::MakeEvent;

constexpr char kDir[] = "/store";
constexpr int kTypes = 5;
constexpr int kTags = 40;
constexpr int kStreams = 6;
constexpr int kApps = 3;

std::string TypeName(int i) { return "T" + std::to_string(i); }
std::string TagName(int i) { return "tag" + std::to_string(i); }
std::string StreamName(int i) { return "s" + std::to_string(i); }
std::string AppName(int i) { return "app" + std::to_string(i); }

// Random writes that always succeed: 0-5 events of random types, tags and data, some with stream
// versions (mostly the next one, now and then an unused one below the maximum, so that versions
// stop increasing), some with a tracking record (a write of a tracking record alone too).
class Workload {
 public:
  explicit Workload(std::uint64_t seed) : rng_(seed) {}

  void Write(Store& store, int writes, Durability durability = Durability::kNone) {
    for (int i = 0; i < writes; ++i) WriteOne(store, durability);
  }

  void WriteOne(Store& store, Durability durability) {
    std::vector<Event> events;
    const std::uint64_t count = rng_() % 8 == 0 ? 0 : 1 + rng_() % 5;
    for (std::uint64_t i = 0; i < count; ++i) {
      Event e = MakeEvent(TypeName(static_cast<int>(rng_() % kTypes)), {},
                          std::string(rng_() % 100, static_cast<char>('a' + rng_() % 26)));
      for (std::uint64_t t = rng_() % 4; t > 0; --t) {
        e.tags.push_back(TagName(static_cast<int>(rng_() % kTags)));
      }
      if (rng_() % 2 == 0) {
        const std::string stream = StreamName(static_cast<int>(rng_() % kStreams));
        std::set<std::int64_t>& used = versions_[stream];
        std::int64_t version = used.empty() ? 1 : *used.rbegin() + 1;
        if (!used.empty() && rng_() % 4 == 0) {
          const std::int64_t lower = *used.begin() - 3 + static_cast<std::int64_t>(rng_() % 5);
          if (used.count(lower) == 0) version = lower;
        }
        used.insert(version);
        e.stream = StreamVersion{stream, version};
      }
      events.push_back(std::move(e));
    }
    std::optional<Tracking> tracking;
    if (count == 0 || rng_() % 5 == 0) {
      const std::string app = AppName(static_cast<int>(rng_() % kApps));
      tracking = Tracking{app, tracking_[app] += 1 + static_cast<std::int64_t>(rng_() % 3)};
    }
    AppendRequest request;
    request.events = events;
    request.tracking = tracking ? &*tracking : nullptr;
    request.options.durability = durability;
    auto written = store.Write(request);
    REQUIRE_MESSAGE(written.ok(), written.status().ToString());
  }

 private:
  std::mt19937_64 rng_;
  std::map<std::string, std::set<std::int64_t>> versions_;
  std::map<std::string, std::int64_t> tracking_;
};

std::string Positions(const Result<ReadResult>& result) {
  if (!result.ok()) return result.status().ToString();
  std::string out;
  for (const SequencedEvent& e : result->events) {
    out += std::to_string(e.position) + ":" + e.event.type + ":" + e.event.data.substr(0, 3) + " ";
  }
  return out + "| head " + (result->head ? std::to_string(*result->head) : "none");
}

// Everything a store answers without writing, as lines of text.
std::vector<std::string> Answers(Store& store) {
  std::vector<std::string> lines;
  const StoreInfo info = store.Info();
  const std::int64_t head = info.head.value_or(0);
  lines.push_back("head " + std::to_string(head) + " types " + std::to_string(info.type_count) +
                  " tags " + std::to_string(info.tag_count) + " streams " +
                  std::to_string(info.stream_count) + " log bytes " +
                  std::to_string(info.log_bytes) + " segments " +
                  std::to_string(info.segment_count));
  std::vector<Query> queries = {Query{}};
  for (int t = 0; t < kTypes; ++t) queries.push_back(Query{{Item({TypeName(t)}, {})}});
  for (int g = 0; g < kTags; ++g) {
    queries.push_back(Query{{Item({}, {TagName(g)})}});
    queries.push_back(Query{{Item({}, {TagName(g), TagName((g + 1) % kTags)})}});
    queries.push_back(Query{
        {Item({TypeName(g % kTypes)}, {TagName(g)}), Item({TypeName((g + 2) % kTypes)}, {})}});
  }
  queries.push_back(Query{{Item({"unknown"}, {})}});
  for (const Query& query : queries) {
    lines.push_back(Positions(store.Read(query, {})));
    lines.push_back(Positions(store.Read(query, {.after = head / 2, .limit = 3})));
  }
  for (int s = 0; s < kStreams; ++s) {
    for (const bool desc : {false, true}) {
      auto events = store.ReadStream(StreamName(s), {.gt = 1, .desc = desc});
      std::string line = StreamName(s) + ":";
      if (!events.ok()) line += events.status().ToString();
      for (const SequencedEvent& e : events.ok() ? *events : std::vector<SequencedEvent>{}) {
        line += " " + std::to_string(e.position) + "@" + std::to_string(e.event.stream->version);
      }
      lines.push_back(line);
    }
  }
  for (int a = 0; a < kApps; ++a) {
    auto max = store.MaxTrackingId(AppName(a));
    lines.push_back(AppName(a) + ": " +
                    (!max.ok()          ? max.status().ToString()
                     : max->has_value() ? std::to_string(**max)
                                        : "none"));
  }
  return lines;
}

// Appends, to a store opened from a checkpoint and to a full replay alike, every version near
// each stream's range, and requires the same outcomes: a stream's maximum version decides them.
void CheckSameVersionChecks(Store& a, Store& b) {
  for (int s = 0; s < kStreams; ++s) {
    for (std::int64_t version = -6; version <= 130; version += 1) {
      Event e = MakeEvent("Probe", {});
      e.stream = StreamVersion{StreamName(s), version};
      std::vector<Event> one{e};
      auto from_a = a.Append(one, std::nullopt);
      auto from_b = b.Append(one, std::nullopt);
      CAPTURE(StreamName(s));
      CAPTURE(version);
      CHECK(from_a.status().ToString() == from_b.status().ToString());
    }
  }
}

void CheckSameAnswers(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == want[i]);
}

std::vector<std::int64_t> CheckpointPositions(Env* env, const std::string& dir) {
  auto children = env->GetChildren(dir);
  REQUIRE_OK(children.status());
  std::vector<std::int64_t> positions;
  for (const std::string& name : *children) {
    std::int64_t position;
    if (ParseCheckpointFileName(name, &position)) positions.push_back(position);
  }
  std::sort(positions.begin(), positions.end());
  return positions;
}

// A store on a memory (or fault-injection) Env, with small segments so that checkpoints cover
// several.
struct Fixture {
  std::unique_ptr<Env> owned = NewMemEnv();
  Env* env = owned.get();
  Options options;

  Fixture() {
    options.env = env;
    options.durability = Durability::kNone;
    options.segment_bytes = 64 * 1024;
    options.segment_events = 64;
    options.max_write_bytes = 32 * 1024;
    options.max_write_events = 16;
  }
  void UseEnv(Env* other) {
    env = other;
    options.env = other;
  }
  std::unique_ptr<Store> Open(const std::string& dir = kDir) {
    auto store = Store::Open(options, dir);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    return std::move(store).value();
  }
  // Opens without writing a checkpoint at close, ignoring checkpoints or not.
  std::unique_ptr<Store> OpenQuietly(bool ignore_checkpoints, const std::string& dir = kDir) {
    Options quiet = options;
    quiet.checkpoint_interval_events = 0;
    quiet.ignore_checkpoints = ignore_checkpoints;
    auto store = Store::Open(quiet, dir);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    return std::move(store).value();
  }
  std::vector<std::string> ReplayAnswers(const std::string& dir = kDir) {
    return Answers(*OpenQuietly(/*ignore_checkpoints=*/true, dir));
  }
  std::string CheckpointPath(std::int64_t position) const {
    return std::string(kDir) + "/" + CheckpointFileName(position);
  }
};

// Two checkpoints (at close) with writes in between, and a few writes after the second that it
// does not cover. Returns the two positions.
std::pair<std::int64_t, std::int64_t> TwoCheckpoints(Fixture& f, Workload& w) {
  w.Write(*f.Open(), 60);
  w.Write(*f.Open(), 40);
  {
    auto store = f.OpenQuietly(false);
    w.Write(*store, 10);
  }
  const std::vector<std::int64_t> positions = CheckpointPositions(f.env, kDir);
  REQUIRE(positions.size() == 2);
  return {positions[0], positions[1]};
}

TEST_CASE("checkpoints: a store opened from its checkpoint answers like a full replay") {
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    CAPTURE(seed);
    Fixture f;
    Workload w(seed);
    std::int64_t head;
    {
      auto store = f.Open();
      w.Write(*store, 150);
      head = *store->Info().head;
    }
    REQUIRE(CheckpointPositions(f.env, kDir) == std::vector<std::int64_t>{head});
    std::vector<std::string> answers;
    {
      auto store = f.Open();
      const StoreInfo info = store->Info();
      CHECK(info.checkpoint_loaded == head);
      CHECK(info.checkpoint_position == head);
      CHECK(info.replayed_events == 0);
      CHECK(info.checkpoints_rejected.empty());
      CHECK(info.segment_count > 2);
      answers = Answers(*store);
    }
    CheckSameAnswers(answers, f.ReplayAnswers());
    // Nothing new: closing wrote no other checkpoint.
    CHECK(CheckpointPositions(f.env, kDir) == std::vector<std::int64_t>{head});

    // Writes after the checkpoint are replayed.
    {
      auto store = f.OpenQuietly(false);
      w.Write(*store, 50);
    }
    auto store = f.OpenQuietly(false);
    const StoreInfo info = store->Info();
    CHECK(info.checkpoint_loaded == head);
    CHECK(static_cast<std::int64_t>(info.replayed_events) == *info.head - head);
    answers = Answers(*store);
    store.reset();
    CheckSameAnswers(answers, f.ReplayAnswers());
  }
}

TEST_CASE("checkpoints: stream version checks agree with a replay after a checkpoint") {
  Fixture f;
  Workload w(7);
  w.Write(*f.Open(), 120);
  REQUIRE_OK(f.env->CreateDir("/replay"));
  testing::WriteDir(f.env, "/replay", testing::ReadDir(f.env, kDir));
  auto loaded = f.OpenQuietly(false);
  auto replayed = f.OpenQuietly(true, "/replay");
  REQUIRE(loaded->Info().checkpoint_loaded.has_value());
  CheckSameVersionChecks(*loaded, *replayed);
}

TEST_CASE("checkpoints: written in the background every N events, and the newest two kept") {
  Fixture f;
  f.options.checkpoint_interval_events = 50;
  f.options.sync_interval_ms = 1;
  Workload w(11);
  auto store = f.Open();
  for (int round = 0; round < 4; ++round) {
    const std::uint64_t before = store->Info().checkpoints_written;
    w.Write(*store, 30);
    // The checkpointer looks every millisecond; give it time on a busy machine.
    for (int i = 0; i < 5000 && store->Info().checkpoints_written == before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const StoreInfo info = store->Info();
    CHECK(info.checkpoints_written > before);
    CHECK(info.checkpoint_failures == 0);
    // A checkpoint makes the log durable up to its position (the writes were kNone).
    CHECK(info.durable_head >= info.checkpoint_position);
    CHECK(CheckpointPositions(f.env, kDir).size() <= 2);
  }
  const std::int64_t head = *store->Info().head;
  store.reset();
  const std::vector<std::int64_t> positions = CheckpointPositions(f.env, kDir);
  REQUIRE(positions.size() == 2);
  CHECK(positions[1] == head);
  CHECK(f.Open()->Info().checkpoint_loaded == head);
}

TEST_CASE("checkpoints: none are written with an interval of 0, and ignore_checkpoints replays") {
  Fixture f;
  Workload w(3);
  w.Write(*f.OpenQuietly(false), 40);
  CHECK(CheckpointPositions(f.env, kDir).empty());
  w.Write(*f.Open(), 10);
  REQUIRE(CheckpointPositions(f.env, kDir).size() == 1);
  auto store = f.OpenQuietly(true);
  const StoreInfo info = store->Info();
  CHECK_FALSE(info.checkpoint_loaded.has_value());
  CHECK(static_cast<std::int64_t>(info.replayed_events) == *info.head);
  CHECK(info.checkpoints_rejected.empty());
  store.reset();
  CHECK(CheckpointPositions(f.env, kDir).size() == 1);  // ignored, not removed
}

// Opens the store as damaged, and checks that it loaded the checkpoint at `expect_loaded` (null:
// a full replay), that it rejected `expect_rejected` checkpoints, and that it answers like a full
// replay of the same files.
void CheckFallsBack(Fixture& f, const testing::DirImage& damaged,
                    std::optional<std::int64_t> expect_loaded, std::size_t expect_rejected,
                    const std::string& reason = "") {
  testing::WriteDir(f.env, kDir, damaged);
  std::vector<std::string> answers;
  {
    auto store = f.OpenQuietly(false);
    const StoreInfo info = store->Info();
    CHECK(info.checkpoint_loaded == expect_loaded);
    REQUIRE(info.checkpoints_rejected.size() == expect_rejected);
    if (!reason.empty()) {
      CHECK_MESSAGE(info.checkpoints_rejected[0].find(reason) != std::string::npos,
                    info.checkpoints_rejected[0]);
    }
    answers = Answers(*store);
  }
  testing::WriteDir(f.env, kDir, damaged);
  CheckSameAnswers(answers, f.ReplayAnswers());
}

TEST_CASE("checkpoints: any flipped byte makes Open fall back to the previous checkpoint") {
  Fixture f;
  Workload w(21);
  const auto [older, newer] = TwoCheckpoints(f, w);
  const testing::DirImage image = testing::ReadDir(f.env, kDir);
  const std::string name = CheckpointFileName(newer);
  const std::string& bytes = image.at(name);
  const std::vector<std::string> replay = f.ReplayAnswers();
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    CAPTURE(i);
    testing::DirImage damaged = image;
    damaged[name][i] = static_cast<char>(damaged[name][i] ^ (1 << (i % 8)));
    testing::WriteDir(f.env, kDir, damaged);
    auto store = f.OpenQuietly(false);
    const StoreInfo info = store->Info();
    CHECK(info.checkpoint_loaded == older);
    CHECK(info.checkpoints_rejected.size() == 1);
    // Comparing every answer at every byte would take minutes; a sample does.
    if (i % 97 == 0) CheckSameAnswers(Answers(*store), replay);
  }
  SUBCASE("both damaged: a full replay") {
    testing::DirImage damaged = image;
    damaged[name][100] ^= 1;
    damaged[CheckpointFileName(older)][200] ^= 1;
    CheckFallsBack(f, damaged, std::nullopt, 2);
  }
}

TEST_CASE("checkpoints: a cut checkpoint makes Open fall back") {
  Fixture f;
  Workload w(22);
  const auto [older, newer] = TwoCheckpoints(f, w);
  const testing::DirImage image = testing::ReadDir(f.env, kDir);
  const std::string name = CheckpointFileName(newer);
  for (std::size_t length = 0; length < image.at(name).size(); length += 13) {
    CAPTURE(length);
    testing::DirImage damaged = image;
    damaged[name].resize(length);
    testing::WriteDir(f.env, kDir, damaged);
    auto store = f.OpenQuietly(false);
    CHECK(store->Info().checkpoint_loaded == older);
  }
  testing::DirImage damaged = image;
  damaged[name].resize(damaged[name].size() - 1);
  CheckFallsBack(f, damaged, older, 1);
}

TEST_CASE("checkpoints: another store's checkpoint is passed over") {
  Fixture a, b;
  Workload wa(5), wb(5);  // the same writes: the same positions and frame layout
  wa.Write(*a.Open(), 80);
  wb.Write(*b.Open(), 80);
  testing::DirImage image = testing::ReadDir(a.env, kDir);
  const std::vector<std::int64_t> positions = CheckpointPositions(a.env, kDir);
  REQUIRE(positions.size() == 1);
  const std::string name = CheckpointFileName(positions[0]);
  image[name] = testing::ReadFile(b.env, std::string(kDir) + "/" + name);
  CheckFallsBack(a, image, std::nullopt, 1, "another store");
}

TEST_CASE("checkpoints: a checkpoint beyond the log is passed over") {
  // A few writes after the first checkpoint stay in its last segment; many roll into new ones.
  for (const int more : {1, 60}) {
    CAPTURE(more);
    Fixture f;
    Workload w(6);
    w.Write(*f.Open(), 60);
    const testing::DirImage short_log = testing::ReadDir(f.env, kDir);
    const std::int64_t older = CheckpointPositions(f.env, kDir).back();
    const std::uint64_t segments = f.Open()->Info().segment_count;
    w.Write(*f.Open(), more);
    const std::int64_t newer = CheckpointPositions(f.env, kDir).back();
    REQUIRE(newer > older);
    const bool rolled = f.Open()->Info().segment_count > segments;
    CHECK(rolled == (more > 1));
    // The log as it was at the first checkpoint, with the second checkpoint next to it (and the
    // store.meta of now: its epoch only grows).
    testing::DirImage damaged = short_log;
    testing::ForgetDurablePosition(f.env, kDir);  // the writes after it were lost in a crash
    for (const std::string& name : {CheckpointFileName(newer), std::string(kStoreMetaName)}) {
      damaged[name] = testing::ReadFile(f.env, std::string(kDir) + "/" + name);
    }
    CheckFallsBack(
        f, damaged, older, 1,
        rolled ? "covers segments the log does not have" : "does not hold the last frame");
    // Writing the next checkpoint removes the stale one.
    testing::WriteDir(f.env, kDir, damaged);
    {
      auto store = f.Open();
      w.Write(*store, 3);
    }
    const std::vector<std::int64_t> positions = CheckpointPositions(f.env, kDir);
    CHECK(std::find(positions.begin(), positions.end(), newer) == positions.end());
  }
}

// Puts the directory back to `image`, as a crash that lost every write made since would leave it:
// with the store.meta of now (its epoch only grows) recording no position as durable.
void RestoreAfterCrash(Env* env, const testing::DirImage& image) {
  testing::ForgetDurablePosition(env, kDir);
  testing::DirImage restored = image;
  restored[kStoreMetaName] = testing::ReadFile(env, std::string(kDir) + "/" + kStoreMetaName);
  testing::WriteDir(env, kDir, restored);
}

TEST_CASE("checkpoints: a checkpoint whose last frame was replaced is passed over") {
  for (const bool same_length : {true, false}) {
    CAPTURE(same_length);
    Fixture f;
    Workload w(8);
    w.Write(*f.Open(), 50);
    const testing::DirImage before = testing::ReadDir(f.env, kDir);
    const std::int64_t older = CheckpointPositions(f.env, kDir).back();
    const std::vector<Event> original = {MakeEvent("T0", {"tag1"}, "original"),
                                         MakeEvent("T1", {"tag2"}, "original")};
    const std::vector<Event> replacement = {
        MakeEvent("T0", {"tag1"}, same_length ? "replaced" : "a longer replacement"),
        MakeEvent("T3", {"tag3"}, "replaced")};
    {
      auto store = f.Open();
      REQUIRE_OK(store->Append(original, std::nullopt).status());
    }
    const std::int64_t newer = CheckpointPositions(f.env, kDir).back();
    const std::string stale =
        testing::ReadFile(f.env, std::string(kDir) + "/" + CheckpointFileName(newer));
    // The same positions written again with other events, as after a crash that lost them.
    RestoreAfterCrash(f.env, before);
    {
      auto store = f.OpenQuietly(false);
      REQUIRE(*store->Append(replacement, std::nullopt) == newer);
    }
    testing::DirImage damaged = testing::ReadDir(f.env, kDir);
    damaged[CheckpointFileName(newer)] = stale;
    CheckFallsBack(f, damaged, older, 1, "does not hold the last frame");
  }
}

TEST_CASE("checkpoints: a segment recreated since the checkpoint is passed over") {
  Fixture f;
  Workload w(9);
  w.Write(*f.Open(), 30);
  const testing::DirImage before = testing::ReadDir(f.env, kDir);
  const std::int64_t older = CheckpointPositions(f.env, kDir).back();
  const std::size_t segments = f.Open()->Info().segment_count;
  // Enough writes to roll into a new segment, covered by the next checkpoint.
  Workload again = w;
  {
    auto store = f.Open();
    while (store->Info().segment_count == segments) w.Write(*store, 1);
  }
  const std::int64_t newer = CheckpointPositions(f.env, kDir).back();
  const std::string stale =
      testing::ReadFile(f.env, std::string(kDir) + "/" + CheckpointFileName(newer));
  // The same writes again (as after a crash that lost them, with the epoch of now): the new
  // segment is created again, with another salt.
  RestoreAfterCrash(f.env, before);
  {
    auto store = f.OpenQuietly(false);
    while (store->Info().head < newer) again.Write(*store, 1);
    REQUIRE(*store->Info().head == newer);
  }
  testing::DirImage damaged = testing::ReadDir(f.env, kDir);
  damaged[CheckpointFileName(newer)] = stale;
  CheckFallsBack(f, damaged, older, 1, "is not the segment it covers");
}

TEST_CASE("checkpoints: a torn last frame, cut by recovery, makes Open fall back") {
  Fixture f;
  Workload w(10);
  const auto [older, newer] = TwoCheckpoints(f, w);
  testing::ForgetDurablePosition(f.env, kDir);  // as a crash would leave it
  testing::DirImage image = testing::ReadDir(f.env, kDir);
  // Tear the frame that ends the newer checkpoint: zero its second half.
  CheckpointHeader header;
  const std::string& ckpt = image.at(CheckpointFileName(newer));
  REQUIRE_OK(DecodeCheckpointHeader(ckpt.data(), ckpt.size(), &header));
  std::string& segment = image[Segment::FileName(header.segments.back().base_position)];
  const std::uint64_t end = header.resume_offset;
  const std::uint64_t begin = end - header.last_frame_length / 2;
  // Everything after the checkpoint goes too, as a crash of unsynced writes would leave it.
  std::memset(segment.data() + begin, 0, segment.size() - begin);
  for (auto it = image.begin(); it != image.end();) {
    std::int64_t base;
    const bool later = (ParsePositionFileName(it->first, ".seg", &base) ||
                        ParsePositionFileName(it->first, ".pidx", &base)) &&
                       base > header.segments.back().base_position;
    it = later ? image.erase(it) : std::next(it);
  }
  CheckFallsBack(f, image, older, 1, "does not hold the last frame");
}

// Rewrites the header of the checkpoint at `path` with `change` applied (a valid checksum).
void ForgeHeader(Env* env, const std::string& path,
                 const std::function<void(CheckpointHeader&)>& change) {
  const std::string bytes = testing::ReadFile(env, path);
  CheckpointHeader header;
  REQUIRE_OK(DecodeCheckpointHeader(bytes.data(), bytes.size(), &header));
  change(header);
  testing::PatchFile(env, path, 0, EncodeCheckpointHeader(header));
}

TEST_CASE("checkpoints: a header that lies about the log is passed over") {
  Fixture f;
  Workload w(12);
  const auto [older, newer] = TwoCheckpoints(f, w);
  const testing::DirImage image = testing::ReadDir(f.env, kDir);
  const std::string path = f.CheckpointPath(newer);
  std::string reason;
  SUBCASE("a later writer epoch") {
    ForgeHeader(f.env, path, [](CheckpointHeader& h) { h.writer_epoch += 10; });
    reason = "later than";
  }
  SUBCASE("another position") {
    ForgeHeader(f.env, path, [](CheckpointHeader& h) { h.position -= 1; });
    reason = "holds position";
  }
  SUBCASE("another store") {
    ForgeHeader(f.env, path, [](CheckpointHeader& h) { h.store_id[3] ^= 1; });
    reason = "another store";
  }
  SUBCASE("another segment salt") {
    ForgeHeader(f.env, path, [](CheckpointHeader& h) { h.segments[0].salt ^= 1; });
    reason = "is not the segment";
  }
  SUBCASE("another segment base") {
    ForgeHeader(f.env, path, [](CheckpointHeader& h) { h.segments.back().base_position += 1; });
    reason = "segments the log does not have";
  }
  SUBCASE("another seal") {
    ForgeHeader(f.env, path, [](CheckpointHeader& h) { h.last_frame_checksum ^= 1; });
    reason = "another frame";
  }
  SUBCASE("another resume offset") {
    ForgeHeader(f.env, path, [](CheckpointHeader& h) { h.resume_offset -= 8; });
    reason = "does not hold the last frame";
  }
  SUBCASE("a renamed file") {
    REQUIRE_OK(f.env->RenameFile(path, f.CheckpointPath(newer + 1)));
    reason = "holds position";
  }
  CheckFallsBack(f, testing::ReadDir(f.env, kDir), older, 1, reason);
}

TEST_CASE("checkpoints: records that pass their checksum but break the rules fall back") {
  Fixture f;
  Workload w(13);
  const auto [older, newer] = TwoCheckpoints(f, w);
  testing::DirImage image = testing::ReadDir(f.env, kDir);
  std::string& bytes = image[CheckpointFileName(newer)];
  CheckpointHeader header;
  REQUIRE_OK(DecodeCheckpointHeader(bytes.data(), bytes.size(), &header));
  // The first type-column block: a type id no type has, then the block sealed again. Loading
  // fails half-way, after types and part of the column went into the index.
  std::uint64_t offset = CheckpointHeaderLength(header.segments.size());
  for (std::uint64_t i = 0; i < header.block_count; ++i) {
    const std::uint64_t sealed = (16 + DecodeFixed<std::uint32_t>(bytes.data() + offset) + 7) & ~7u;
    if (bytes[offset + 4] == static_cast<char>(CheckpointBlockKind::kTypeColumn)) {
      bytes[offset + 16 + 40] = 0x7f;
      EncodeFixed<std::uint64_t>(bytes.data() + offset + sealed,
                                 Checksum64(bytes.data() + offset, sealed, header.salt + i));
      break;
    }
    offset += sealed + 8;
  }
  CheckFallsBack(f, image, older, 1, "unknown type id");
}

TEST_CASE("checkpoints: position indexes that cannot be trusted make Open replay everything") {
  Fixture f;
  Workload w(14);
  const auto [older, newer] = TwoCheckpoints(f, w);
  (void)older;
  const testing::DirImage image = testing::ReadDir(f.env, kDir);
  const std::string index = Segment::IndexFileName(1);
  testing::DirImage damaged = image;
  SUBCASE("missing") { damaged.erase(index); }
  SUBCASE("bad header") { damaged[index][20] ^= 1; }
  SUBCASE("wrong size") { damaged[index].resize(damaged[index].size() - 8); }
  SUBCASE("an entry pointing at another event") {
    // The last position of the first segment is among those checked.
    const std::string& ckpt = image.at(CheckpointFileName(newer));
    CheckpointHeader header;
    REQUIRE_OK(DecodeCheckpointHeader(ckpt.data(), ckpt.size(), &header));
    REQUIRE(header.segments.size() > 1);
    const std::int64_t last = header.segments[1].base_position - 1;
    std::string& entries = damaged[index];
    std::memcpy(entries.data() + kPositionIndexHeaderSize + (last - 1) * kPositionIndexEntrySize,
                entries.data() + kPositionIndexHeaderSize, kPositionIndexEntrySize);
  }
  // Older checkpoints are not tried: the fault is not theirs.
  CheckFallsBack(f, damaged, std::nullopt, 1, "position index");
  CHECK(newer > 0);
}

TEST_CASE(
    "checkpoints: a lying position index entry Open does not sample fails reads, never lies") {
  Fixture f;
  Workload w(15);
  const auto [older, newer] = TwoCheckpoints(f, w);
  (void)older;
  testing::DirImage image = testing::ReadDir(f.env, kDir);
  // Position 2 (not sampled) now points at the event at position 1.
  std::string& entries = image[Segment::IndexFileName(1)];
  std::memcpy(entries.data() + kPositionIndexHeaderSize + kPositionIndexEntrySize,
              entries.data() + kPositionIndexHeaderSize, kPositionIndexEntrySize);
  testing::WriteDir(f.env, kDir, image);
  auto store = f.OpenQuietly(false);
  REQUIRE(store->Info().checkpoint_loaded == newer);
  auto all = store->Read(Query{}, {});
  REQUIRE_FALSE(all.ok());
  CHECK(all.status().IsCorruption());
  auto after = store->Read(Query{}, {.after = 2, .limit = std::nullopt});
  CHECK_OK(after.status());
}

// Waits until the background checkpointer has caught up with the head (its last checkpoint
// within `interval` events of it, so that it starts no other), and returns that checkpoint.
std::int64_t WaitForIdleCheckpointer(Store& store, std::int64_t interval) {
  for (int i = 0; i < 10000; ++i) {
    const StoreInfo info = store.Info();
    if (info.checkpoint_position && *info.head - *info.checkpoint_position < interval) {
      return *info.checkpoint_position;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const StoreInfo info = store.Info();
  FAIL("the checkpointer did not catch up: head " << info.head.value_or(0) << ", checkpoint "
                                                  << info.checkpoint_position.value_or(0)
                                                  << ", failures " << info.checkpoint_failures);
  return 0;
}

TEST_CASE("checkpoints: a crash keeps the checkpoint and the log it covers") {
  using CrashMode = FaultInjectionEnv::CrashMode;
  const CrashMode modes[] = {CrashMode::kDropUnsynced, CrashMode::kTornUnsynced,
                             CrashMode::kScrambledUnsynced, CrashMode::kKeepUnsynced};
  for (std::uint64_t seed = 0; seed < 16; ++seed) {
    CAPTURE(seed);
    FaultInjectionEnv env;  // Open makes the store's directory entry durable itself
    Fixture f;
    f.UseEnv(&env);
    f.options.checkpoint_interval_events = 100;
    f.options.sync_interval_ms = 1;
    Workload w(seed);
    auto store = f.Open();
    // kNone writes: nothing is synced but by checkpoints.
    while (store->Info().head.value_or(0) < 130) w.Write(*store, 1);
    const std::int64_t checkpoint = WaitForIdleCheckpointer(*store, 100);
    // Fewer than the interval more: the checkpointer stays idle while the machine crashes.
    while (*store->Info().head < checkpoint + 60) w.Write(*store, 1);
    REQUIRE_OK(env.SimulateCrash(seed, modes[seed % 4]));
    store.reset();

    REQUIRE_OK(env.CreateDir("/replay"));
    testing::WriteDir(&env, "/replay", testing::ReadDir(&env, kDir));
    // Unsynced frames written back out of order (kScrambledUnsynced) are a torn tail: both ways
    // of opening recover, and agree.
    auto loaded = f.OpenQuietly(false);
    const StoreInfo reopened = loaded->Info();
    CHECK(reopened.checkpoint_loaded == checkpoint);
    CHECK(reopened.checkpoints_rejected.empty());
    CHECK(*reopened.head >= checkpoint);
    auto replayed = f.OpenQuietly(true, "/replay");
    CheckSameAnswers(Answers(*loaded), Answers(*replayed));
    CheckSameVersionChecks(*loaded, *replayed);
  }
}

TEST_CASE("checkpoints: written while concurrent writers append, they hold their position") {
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    CAPTURE(seed);
    FaultInjectionEnv env;  // Open makes the store's directory entry durable itself
    Fixture f;
    f.UseEnv(&env);
    f.options.checkpoint_interval_events = 40;
    f.options.sync_interval_ms = 1;
    f.options.segment_events = 256;
    auto store = f.Open();
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&store, t] {
        // Each thread its own stream and application: shared ones would make writes fail.
        for (int i = 0; i < 150; ++i) {
          Event e = MakeEvent(TypeName(i % kTypes), {TagName((i * 7 + t) % kTags)}, "c");
          e.stream = StreamVersion{StreamName(t), i % 9 == 8 ? -i : i + 1};
          std::vector<Event> events{e, MakeEvent(TypeName(t), {TagName(i % kTags)})};
          Tracking tracking{AppName(t % kApps) + std::to_string(t), i + 1};
          AppendRequest request;
          request.events = events;
          request.tracking = i % 3 == 0 ? &tracking : nullptr;
          auto written = store->Write(request);
          CHECK_MESSAGE(written.ok(), written.status().ToString());
          // Now and then a pause, so that checkpoints are taken amid the writes.
          if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      });
    }
    for (std::thread& writer : writers) writer.join();
    WaitForIdleCheckpointer(*store, 40);
    const StoreInfo info = store->Info();
    REQUIRE(info.checkpoints_written >= 2);
    CHECK(info.checkpoint_failures == 0);
    // Only what the last checkpoint synced survives: it alone rebuilds the index.
    REQUIRE_OK(env.SimulateCrash(seed, FaultInjectionEnv::CrashMode::kDropUnsynced));
    store.reset();
    REQUIRE_OK(env.CreateDir("/replay"));
    testing::WriteDir(&env, "/replay", testing::ReadDir(&env, kDir));
    auto loaded = f.OpenQuietly(false);
    CHECK(loaded->Info().checkpoint_loaded == info.checkpoint_position);
    CHECK(loaded->Info().replayed_events == 0);
    auto replayed = f.OpenQuietly(true, "/replay");
    CheckSameAnswers(Answers(*loaded), Answers(*replayed));
    CheckSameVersionChecks(*loaded, *replayed);
  }
}

}  // namespace
}  // namespace es
