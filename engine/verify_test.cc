// VerifyStore past damage: each damaged stretch of the log is reported with its segment file, its
// offset and the positions it made unreadable, the walk going on after it, in the same segment and
// in the later ones; the position indexes and checkpoints are checked for every event found; a
// torn tail is no problem. Recovery's own rules (Open fails at the first damage) are store_test's.
#include "es/verify.h"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/checkpoints.h"
#include "engine/format/file_headers.h"
#include "engine/log/segment.h"
#include "engine/testing/test_dir.h"
#include "es/store.h"

namespace es {
namespace {

constexpr char kDir[] = "/store";

std::string Describe(const VerifyReport& report);

// The store of testing::WriteSegmentedStore: segments from positions 1, 61, 121 and 181.
struct DamagedStore {
  std::unique_ptr<Env> env = NewMemEnv();
  Options options = testing::WriteSegmentedStore(env.get(), kDir);
  const std::vector<std::int64_t> bases = {1, 61, 121, 181};

  std::string Name(int segment) const { return Segment::FileName(bases[segment]); }
  std::string Path(const std::string& name) const { return std::string(kDir) + "/" + name; }

  // Offsets of the frames of a segment, in order.
  std::vector<std::uint64_t> Frames(int segment) const {
    return testing::FrameOffsets(testing::ReadFile(env.get(), Path(Name(segment))));
  }
  void Flip(const std::string& name, std::uint64_t offset) {
    testing::FlipBit(env.get(), Path(name), offset);
  }
  // Flips a bit in the body of the `frame`th frame of `segment`: its checksum then fails.
  void FlipFrame(int segment, std::size_t frame) {
    Flip(Name(segment), Frames(segment)[frame] + 100);
  }

  // Opens and closes the store with checkpoints on, which writes one at position 200.
  void WriteCheckpoint() {
    Options with_checkpoints = options;
    with_checkpoints.checkpoint_interval_events = 1'000'000;
    REQUIRE(Store::Open(with_checkpoints, kDir).ok());
  }

  // Verifies the store while a live writer does `write` at verify's first open of the file at
  // `path`, checking that it did and that the report is clean.
  VerifyReport VerifyLive(const std::string& path, std::function<void()> write) {
    testing::OpenHookEnv live(env.get(), path, std::move(write));
    Options with_writer = options;
    with_writer.env = &live;
    auto report = VerifyStore(with_writer, kDir);
    REQUIRE_MESSAGE(report.ok(), report.status().ToString());
    CHECK(live.hooked());
    CHECK_MESSAGE(report->clean(), Describe(*report));
    return *report;
  }

  // Verifies the store, checking that verifying changed no file.
  VerifyReport Verify() {
    const testing::DirImage before = testing::ReadDir(env.get(), kDir);
    auto report = VerifyStore(options, kDir);
    REQUIRE_MESSAGE(report.ok(), report.status().ToString());
    CHECK(testing::ReadDir(env.get(), kDir) == before);
    return *report;
  }
};

// The problems of `report`, one a line, for failure messages.
std::string Describe(const VerifyReport& report) {
  std::string lines;
  for (const VerifyProblem& problem : report.problems) {
    lines += problem.file + " at " + std::to_string(problem.offset.value_or(0)) + ": " +
             problem.message + "\n";
  }
  return lines;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Checks that `problem` is the damage of frames in `file` from `offset`, with `rest` in its
// message (the frame the walk went on at, the positions lost).
void CheckDamage(const VerifyProblem& problem, const std::string& file, std::uint64_t offset,
                 const std::vector<std::string>& rest) {
  CHECK(problem.file == file);
  CHECK(problem.offset == offset);
  for (const std::string& part : rest) CHECK_MESSAGE(Contains(problem.message, part), part);
}

TEST_CASE("verify: a damaged frame is reported with the positions it lost; the walk goes on") {
  DamagedStore s;
  VerifyReport clean = s.Verify();
  CHECK(clean.clean());
  CHECK(clean.frames == 20);
  CHECK(clean.events == 200);
  CHECK(clean.index_entries == 200);

  const std::vector<std::uint64_t> frames = s.Frames(0);
  REQUIRE(frames.size() == 6);
  std::string what;  // what is wrong at the damaged frame
  SUBCASE("a flipped bit") {
    s.FlipFrame(0, 1);
    what = "checksum mismatch";
  }
  SUBCASE("its length word zeroed, which does not end the segment") {
    testing::PatchFile(s.env.get(), s.Path(s.Name(0)), frames[1], std::string(4, '\0'));
    what = "bad length 0";
  }
  VerifyReport report = s.Verify();
  INFO(Describe(report));
  REQUIRE(report.problems.size() == 1);
  CheckDamage(report.problems[0], s.Name(0), frames[1],
              {what, "next valid frame is at offset " + std::to_string(frames[2]),
               "positions 11..20 are unreadable"});
  CHECK(report.segments == 4);
  CHECK(report.frames == 19);
  CHECK(report.events == 190);
  CHECK(report.index_entries == 190);  // the indexes of every segment, past the damage too

  // Open's recovery is unchanged: it fails at the damage, naming it, and changes nothing.
  const testing::DirImage before = testing::ReadDir(s.env.get(), kDir);
  auto store = Store::Open(s.options, kDir);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().IsCorruption());
  CHECK(Contains(store.status().message(), s.Name(0) + " at offset " + std::to_string(frames[1])));
  CHECK(testing::ReadDir(s.env.get(), kDir) == before);
}

TEST_CASE("verify: every damage is reported, each with its own segment and offset") {
  // A frame (segment, frame) whose checksum fails, and the positions it loses.
  struct Damage {
    int segment;
    std::size_t frame;
    std::string lost;
  };
  const std::vector<std::pair<Damage, Damage>> cases = {
      {{0, 1, "11..20"}, {0, 4, "41..50"}},     // two frames apart in one segment
      {{0, 2, "21..30"}, {2, 3, "151..160"}}};  // in the first segment and in the third
  for (const auto& [a, b] : cases) {
    DamagedStore s;
    const std::uint64_t offset_a = s.Frames(a.segment)[a.frame];
    const std::uint64_t offset_b = s.Frames(b.segment)[b.frame];
    s.FlipFrame(a.segment, a.frame);
    s.FlipFrame(b.segment, b.frame);
    VerifyReport report = s.Verify();
    INFO(Describe(report));
    REQUIRE(report.problems.size() == 2);
    CheckDamage(report.problems[0], s.Name(a.segment), offset_a,
                {"positions " + a.lost + " are unreadable"});
    CheckDamage(report.problems[1], s.Name(b.segment), offset_b,
                {"positions " + b.lost + " are unreadable"});
    CHECK(report.segments == 4);
    CHECK(report.events == 180);
    CHECK(report.index_entries == 180);
  }
}

TEST_CASE("verify: damaged frames next to each other are one damaged stretch") {
  DamagedStore s;
  const std::vector<std::uint64_t> frames = s.Frames(0);
  s.FlipFrame(0, 1);
  s.FlipFrame(0, 2);
  VerifyReport report = s.Verify();
  INFO(Describe(report));
  REQUIRE(report.problems.size() == 1);
  CheckDamage(report.problems[0], s.Name(0), frames[1],
              {"next valid frame is at offset " + std::to_string(frames[3]),
               "positions 11..30 are unreadable"});
}

TEST_CASE("verify: damage to the end of a segment, or of its header, goes on with the next one") {
  DamagedStore s;
  SUBCASE("the last frame of a segment") {
    const std::vector<std::uint64_t> frames = s.Frames(0);
    s.FlipFrame(0, frames.size() - 1);
    VerifyReport report = s.Verify();
    INFO(Describe(report));
    REQUIRE(report.problems.size() == 1);
    CheckDamage(report.problems[0], s.Name(0), frames.back(),
                {"no valid frame follows", "positions 51..60 are unreadable"});
    CHECK(report.segments == 4);
    CHECK(report.events == 190);
  }
  SUBCASE("the last frame of the log, which store.meta records as durable") {
    const std::vector<std::uint64_t> frames = s.Frames(3);
    s.FlipFrame(3, frames.size() - 1);
    VerifyReport report = s.Verify();
    INFO(Describe(report));
    REQUIRE(report.problems.size() == 1);  // the log ending early is this damage, not another
    CheckDamage(report.problems[0], s.Name(3), frames.back(),
                {"no valid frame follows", "positions 191..200 are unreadable"});
    CHECK(report.torn_bytes == 0);
  }
  SUBCASE("a segment header, and a frame after it") {
    s.Flip(s.Name(1), 40);  // its base position: the header's checksum fails
    s.FlipFrame(3, 0);
    VerifyReport report = s.Verify();
    INFO(Describe(report));
    REQUIRE(report.problems.size() == 2);
    CheckDamage(report.problems[0], s.Name(1), 0,
                {"segment header", "positions 61..120 are unreadable"});
    CheckDamage(report.problems[1], s.Name(3), s.Frames(3)[0],
                {"positions 181..190 are unreadable"});
    CHECK(report.segments == 3);
    CHECK(report.events == 130);
    CHECK(report.index_entries == 130);
  }
}

TEST_CASE("verify: a torn tail is no problem; damage before it is") {
  DamagedStore s;
  testing::ForgetDurablePosition(s.env.get(), kDir);  // as a crash, not a clean close, leaves it
  s.FlipFrame(3, s.Frames(3).size() - 1);             // never synced: torn
  SUBCASE("the torn tail alone") {
    VerifyReport report = s.Verify();
    INFO(Describe(report));
    CHECK(report.clean());
    CHECK(report.torn_bytes > 0);
    CHECK(report.events == 190);
  }
  SUBCASE("with a damaged frame before it") {
    s.FlipFrame(1, 2);  // a later frame was written when it was durable: corruption
    VerifyReport report = s.Verify();
    INFO(Describe(report));
    REQUIRE(report.problems.size() == 1);
    CheckDamage(report.problems[0], s.Name(1), s.Frames(1)[2], {"positions 81..90 are unreadable"});
    CHECK(report.torn_bytes > 0);
    CHECK(report.events == 180);
  }
}

TEST_CASE("verify: a checkpoint a live writer removes while verify runs is no problem") {
  DamagedStore s;
  s.WriteCheckpoint();
  const std::string checkpoint = s.Path(CheckpointFileName(200));
  REQUIRE(s.env->FileExists(checkpoint));
  // Removed after verify listed the directory, before it reads the checkpoint: a writer that
  // wrote two newer ones does so.
  VerifyReport report =
      s.VerifyLive(checkpoint, [&] { REQUIRE(s.env->RemoveFile(checkpoint).ok()); });
  CHECK(report.checkpoints == 0);
}

TEST_CASE("verify: a segment a live writer's roll makes while verify lists it is no problem") {
  DamagedStore s;
  testing::ForgetDurablePosition(s.env.get(), kDir);  // the writer's open found an empty log
  const std::string last = s.Path(s.Name(3)), made = s.Path("spare-segment.tmp");
  // The listing finds the last segment's index but not the segment, which the roll renames into
  // place before verify reads the segments.
  REQUIRE(s.env->RenameFile(last, made).ok());
  VerifyReport report =
      s.VerifyLive(s.Path(s.Name(2)), [&] { REQUIRE(s.env->RenameFile(made, last).ok()); });
  CHECK(report.events == 180);  // the log as listed
}

TEST_CASE("verify: position indexes and checkpoints are checked past damaged frames") {
  DamagedStore s;
  s.WriteCheckpoint();
  std::string checkpoint;
  auto children = s.env->GetChildren(kDir);
  REQUIRE(children.ok());
  for (const std::string& name : *children) {
    if (name.ends_with(".ckpt")) checkpoint = name;
  }
  REQUIRE_FALSE(checkpoint.empty());
  const std::vector<std::uint64_t> frames = s.Frames(0);
  s.FlipFrame(0, 1);
  // Position 35 (after the damage in its segment) and position 150 (a later segment).
  const std::uint64_t entry_35 = kPositionIndexHeaderSize + 34 * kPositionIndexEntrySize;
  const std::uint64_t entry_150 = kPositionIndexHeaderSize + 29 * kPositionIndexEntrySize;
  s.Flip(Segment::IndexFileName(1), entry_35);
  s.Flip(Segment::IndexFileName(121), entry_150);
  s.Flip(checkpoint, 300);
  VerifyReport report = s.Verify();
  INFO(Describe(report));
  REQUIRE(report.problems.size() == 4);
  CheckDamage(report.problems[0], s.Name(0), frames[1], {"positions 11..20 are unreadable"});
  CheckDamage(report.problems[1], Segment::IndexFileName(1), entry_35, {"position 35"});
  CheckDamage(report.problems[2], Segment::IndexFileName(121), entry_150, {"position 150"});
  CHECK(report.problems[3].file == checkpoint);
  CHECK(report.checkpoints == 1);
  CHECK(report.index_entries == 190);
}

}  // namespace
}  // namespace es
