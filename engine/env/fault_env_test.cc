// What the fault-injection Env keeps across a simulated crash and how its faults fire. That it is
// an Env like the others is checked by env_test.cc.
#include "engine/env/fault_env.h"

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "engine/testing/status_checks.h"
#include "engine/testing/test_dir.h"

namespace es {
namespace {

using CrashMode = FaultInjectionEnv::CrashMode;
using OpKind = FaultInjectionEnv::OpKind;
using testing::PatchFile;
using testing::ReadFile;

constexpr char kDir[] = "/d";
constexpr char kPath[] = "/d/f";

// An env holding the directory kDir, durably.
struct Fixture {
  FaultInjectionEnv env;

  Fixture() {
    REQUIRE_OK(env.CreateDir(kDir));
    REQUIRE_OK(env.SyncDir("/"));
  }

  std::unique_ptr<File> Open(const std::string& path = kPath) {
    auto file = env.OpenFile(path, {.create = true, .writable = true});
    REQUIRE_OK(file.status());
    return std::move(file).value();
  }

  // Creates `path` holding `contents`, durably (data and directory entry).
  void WriteDurably(const std::string& path, const std::string& contents) {
    auto file = Open(path);
    REQUIRE_OK(file->Write(0, contents));
    REQUIRE_OK(file->Sync());
    REQUIRE_OK(env.SyncDir(kDir));
  }

  void Crash(std::uint64_t seed, CrashMode mode) { REQUIRE_OK(env.SimulateCrash(seed, mode)); }

  std::vector<std::string> Children(const std::string& dir = kDir) {
    auto children = env.GetChildren(dir);
    REQUIRE_OK(children.status());
    std::sort(children->begin(), children->end());
    return *children;
  }
};

TEST_CASE("FaultInjectionEnv: written bytes survive a crash once synced") {
  Fixture f;
  f.WriteDurably(kPath, "synced");
  PatchFile(&f.env, kPath, 6, " unsynced");
  SUBCASE("dropped") {
    f.Crash(1, CrashMode::kDropUnsynced);
    CHECK(ReadFile(&f.env, kPath) == "synced");
  }
  SUBCASE("kept") {
    f.Crash(1, CrashMode::kKeepUnsynced);
    CHECK(ReadFile(&f.env, kPath) == "synced unsynced");
  }
  SUBCASE("synced through another handle") {
    auto other = f.env.OpenFile(kPath, {});
    REQUIRE_OK(other.status());
    REQUIRE_OK((*other)->Sync());
    f.Crash(1, CrashMode::kDropUnsynced);
    CHECK(ReadFile(&f.env, kPath) == "synced unsynced");
  }
  SUBCASE("unsynced truncation and growth revert") {
    auto file = f.Open();
    REQUIRE_OK(file->Truncate(2));
    REQUIRE_OK(file->Allocate(100));
    f.Crash(1, CrashMode::kDropUnsynced);
    CHECK(ReadFile(&f.env, kPath) == "synced");
  }
}

TEST_CASE("FaultInjectionEnv: bytes written through a mapping are durable in the synced range") {
  Fixture f;
  constexpr std::uint64_t kSize = 3 * 4096;
  auto file = f.Open();
  REQUIRE_OK(file->Allocate(kSize));
  REQUIRE_OK(file->Sync());
  REQUIRE_OK(f.env.SyncDir(kDir));
  auto region = file->Map(kSize, /*writable=*/true);
  REQUIRE_OK(region.status());
  std::copy_n("early", 5, (*region)->data() + 100);
  std::copy_n("later", 5, (*region)->data() + 5000);

  SUBCASE("the range only") {
    REQUIRE_OK((*region)->Sync(5000, 5));
    f.Crash(1, CrashMode::kDropUnsynced);
    const std::string bytes = ReadFile(&f.env, kPath);
    REQUIRE(bytes.size() == kSize);
    CHECK(bytes.substr(100, 5) == std::string(5, '\0'));
    CHECK(bytes.substr(5000, 5) == "later");
  }
  SUBCASE("File::Sync covers the mapping") {
    REQUIRE_OK(file->Sync());
    f.Crash(1, CrashMode::kDropUnsynced);
    const std::string bytes = ReadFile(&f.env, kPath);
    CHECK(bytes.substr(100, 5) == "early");
    CHECK(bytes.substr(5000, 5) == "later");
  }
  SUBCASE("a range beyond the durable size extends it") {
    // Grow the file without syncing: only the synced range makes it durable.
    region->reset();
    REQUIRE_OK(file->Allocate(2 * kSize));
    auto grown = file->Map(2 * kSize, /*writable=*/true);
    REQUIRE_OK(grown.status());
    std::copy_n("tail", 4, (*grown)->data() + kSize + 10);
    REQUIRE_OK((*grown)->Sync(kSize + 10, 4));
    f.Crash(1, CrashMode::kDropUnsynced);
    const std::string bytes = ReadFile(&f.env, kPath);
    CHECK(bytes.size() == kSize + 14);
    CHECK(bytes.substr(kSize + 10) == "tail");
  }
  SUBCASE("an invalid range is rejected") { CHECK((*region)->Sync(kSize, 1).IsInvalidArgument()); }
}

// A durable file of 8 KiB of zeros overwritten, unsynced, with nonzero bytes; the crash image for
// `seed`.
std::string TornImage(std::uint64_t seed, CrashMode mode, const std::string& written) {
  Fixture f;
  f.WriteDurably(kPath, std::string(written.size(), '\0'));
  PatchFile(&f.env, kPath, 0, written);
  f.Crash(seed, mode);
  return ReadFile(&f.env, kPath);
}

std::string Pattern(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(1 + i % 251);
  return bytes;
}

TEST_CASE("FaultInjectionEnv: a torn crash keeps a prefix of the unsynced bytes") {
  const std::string written = Pattern(8192);
  std::set<std::size_t> kept;
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    CAPTURE(seed);
    const std::string image = TornImage(seed, CrashMode::kTornUnsynced, written);
    REQUIRE(image.size() == written.size());
    const std::size_t k = static_cast<std::size_t>(
        std::mismatch(image.begin(), image.end(), written.begin()).first - image.begin());
    CHECK(image.substr(k) == std::string(image.size() - k, '\0'));
    kept.insert(k);
    CHECK(TornImage(seed, CrashMode::kTornUnsynced, written) == image);
  }
  CHECK(kept.count(0) == 1);
  CHECK(kept.count(written.size()) == 1);
  CHECK(kept.size() > 3);
}

TEST_CASE("FaultInjectionEnv: a scrambled crash keeps or loses whole sectors in any order") {
  const std::string written = Pattern(8192);
  bool out_of_order = false;
  for (std::uint64_t seed = 0; seed < 16; ++seed) {
    CAPTURE(seed);
    const std::string image = TornImage(seed, CrashMode::kScrambledUnsynced, written);
    REQUIRE(image.size() == written.size());
    std::vector<bool> kept;
    for (std::size_t sector = 0; sector < image.size(); sector += 512) {
      const std::string bytes = image.substr(sector, 512);
      const bool is_new = bytes == written.substr(sector, 512);
      CHECK((is_new || bytes == std::string(512, '\0')));
      kept.push_back(is_new);
    }
    const auto first_lost = std::find(kept.begin(), kept.end(), false);
    out_of_order |= std::find(first_lost, kept.end(), true) != kept.end();
    CHECK(TornImage(seed, CrashMode::kScrambledUnsynced, written) == image);
  }
  // Some seed kept a sector after a lost one.
  CHECK(out_of_order);
}

TEST_CASE("FaultInjectionEnv: directory entries survive a crash once their directory is synced") {
  Fixture f;
  f.WriteDurably("/d/kept", "kept");

  SUBCASE("creation") {
    auto file = f.Open("/d/new");
    REQUIRE_OK(file->Write(0, "data"));
    REQUIRE_OK(file->Sync());
    SUBCASE("not synced") {
      f.Crash(1, CrashMode::kKeepUnsynced);
      CHECK(f.Children() == std::vector<std::string>{"kept"});
    }
    SUBCASE("synced") {
      REQUIRE_OK(f.env.SyncDir(kDir));
      f.Crash(1, CrashMode::kKeepUnsynced);
      CHECK(f.Children() == std::vector<std::string>{"kept", "new"});
      CHECK(ReadFile(&f.env, "/d/new") == "data");
    }
  }
  SUBCASE("removal") {
    REQUIRE_OK(f.env.RemoveFile("/d/kept"));
    SUBCASE("not synced: the file comes back with its durable bytes") {
      f.Crash(1, CrashMode::kKeepUnsynced);
      CHECK(ReadFile(&f.env, "/d/kept") == "kept");
    }
    SUBCASE("synced") {
      REQUIRE_OK(f.env.SyncDir(kDir));
      f.Crash(1, CrashMode::kKeepUnsynced);
      CHECK(f.Children().empty());
    }
  }
  SUBCASE("rename over another file") {
    f.WriteDurably("/d/tmp", "new contents");
    REQUIRE_OK(f.env.RenameFile("/d/tmp", "/d/kept"));
    SUBCASE("not synced") {
      f.Crash(1, CrashMode::kKeepUnsynced);
      CHECK(ReadFile(&f.env, "/d/kept") == "kept");
      CHECK(ReadFile(&f.env, "/d/tmp") == "new contents");
    }
    SUBCASE("synced") {
      REQUIRE_OK(f.env.SyncDir(kDir));
      f.Crash(1, CrashMode::kKeepUnsynced);
      CHECK(f.Children() == std::vector<std::string>{"kept"});
      CHECK(ReadFile(&f.env, "/d/kept") == "new contents");
    }
  }
  SUBCASE("a directory needs its parent synced, and takes its files with it") {
    REQUIRE_OK(f.env.CreateDir("/d/sub"));
    auto file = f.Open("/d/sub/file");
    REQUIRE_OK(file->Write(0, "x"));
    REQUIRE_OK(file->Sync());
    REQUIRE_OK(f.env.SyncDir("/d/sub"));
    SUBCASE("not synced") {
      f.Crash(1, CrashMode::kKeepUnsynced);
      CHECK_FALSE(f.env.FileExists("/d/sub"));
      CHECK_FALSE(f.env.FileExists("/d/sub/file"));
    }
    SUBCASE("synced") {
      REQUIRE_OK(f.env.SyncDir(kDir));
      f.Crash(1, CrashMode::kKeepUnsynced);
      CHECK(ReadFile(&f.env, "/d/sub/file") == "x");
    }
  }
  SUBCASE("paths are normalized like the in-memory Env's") {
    auto file = f.Open("/d//spelled/");
    REQUIRE_OK(file->Write(0, "s"));
    REQUIRE_OK(file->Sync());
    REQUIRE_OK(f.env.SyncDir("/d/"));
    f.Crash(1, CrashMode::kDropUnsynced);
    CHECK(ReadFile(&f.env, "/d/spelled") == "s");
  }
}

TEST_CASE("FaultInjectionEnv: a crash kills the handles, mappings and locks taken before it") {
  Fixture f;
  f.WriteDurably(kPath, std::string(4096, 'a'));
  auto file = f.Open();
  auto region = file->Map(4096, /*writable=*/true);
  REQUIRE_OK(region.status());
  auto lock = f.env.LockFile("/d/LOCK");
  REQUIRE_OK(lock.status());
  const std::uint64_t ops = f.env.OperationCount(OpKind::kAny);

  f.Crash(1, CrashMode::kKeepUnsynced);
  char byte;
  CHECK(file->Read(0, 1, &byte).IsIOError());
  CHECK(file->Write(0, "b").IsIOError());
  CHECK(file->Sync().IsIOError());
  CHECK(file->Size().status().IsIOError());
  CHECK((*region)->Sync(0, 1).IsIOError());
  CHECK(f.env.OperationCount(OpKind::kAny) == ops);
  // The dead process's memory is still its own, and reaches no file.
  (*region)->data()[0] = 'z';
  CHECK(ReadFile(&f.env, kPath) == std::string(4096, 'a'));

  auto relocked = f.env.LockFile("/d/LOCK");
  CHECK_OK(relocked.status());
  auto reopened = f.env.OpenFile(kPath, {.writable = true});
  REQUIRE_OK(reopened.status());
  CHECK_OK((*reopened)->Write(0, "c"));
}

TEST_CASE("FaultInjectionEnv: the nth operation fails") {
  Fixture f;
  auto file = f.Open();

  SUBCASE("any operation, once") {
    f.env.InjectFault({.kind = OpKind::kAny, .nth = 2});
    CHECK_OK(file->Write(0, "a"));
    const Status failed = f.env.SyncDir(kDir);
    CHECK(failed.IsIOError());
    CHECK(failed.message().find("injected fault") != std::string::npos);
    CHECK_OK(file->Write(1, "b"));
    CHECK_OK(file->Sync());
    CHECK(f.env.InjectedFailures() == 1);
  }
  SUBCASE("sticky: every later operation") {
    f.env.InjectFault({.kind = OpKind::kAny, .nth = 1, .sticky = true});
    CHECK(file->Size().status().IsIOError());
    CHECK(f.env.GetChildren(kDir).status().IsIOError());
    CHECK(f.env.OpenFile(kPath, {}).status().IsIOError());
    CHECK(f.env.InjectedFailures() == 3);
    f.env.ClearFault();
    CHECK_OK(file->Size().status());
  }
  SUBCASE("syncs only") {
    f.env.InjectFault({.kind = OpKind::kSyncs, .nth = 3});
    const std::uint64_t before = f.env.OperationCount(OpKind::kSyncs);
    CHECK_OK(file->Write(0, std::string(100, 'x')));
    CHECK_OK(file->Sync());
    auto region = file->Map(100, /*writable=*/true);
    REQUIRE_OK(region.status());
    CHECK_OK((*region)->Sync(0, 10));
    CHECK((f.env.SyncDir(kDir).IsIOError()));
    CHECK(f.env.OperationCount(OpKind::kSyncs) == before + 3);
  }
  SUBCASE("writes only") {
    f.env.InjectFault({.kind = OpKind::kWrites, .nth = 3, .sticky = true});
    CHECK_OK(file->Sync());
    CHECK_OK(file->Allocate(10));
    CHECK_OK(file->Truncate(5));
    const Status failed = file->Write(0, "x");
    CHECK(failed.IsIOError());
    CHECK(failed.message().find("No space left on device") != std::string::npos);
    CHECK(file->Allocate(20).IsIOError());
    CHECK_OK(file->Sync());
  }
}

TEST_CASE("FaultInjectionEnv: a short write writes a prefix, then fails") {
  Fixture f;
  auto file = f.Open();
  SUBCASE("the given length") {
    f.env.InjectFault({.kind = OpKind::kWrites, .nth = 1, .short_write_bytes = 3});
    CHECK(file->Write(0, "abcdef").IsIOError());
    CHECK(ReadFile(&f.env, kPath) == "abc");
  }
  SUBCASE("never all of it") {
    f.env.InjectFault({.kind = OpKind::kWrites, .nth = 1, .short_write_bytes = 100});
    CHECK(file->Write(0, "abcdef").IsIOError());
    CHECK(ReadFile(&f.env, kPath) == "abcde");
  }
}

TEST_CASE("FaultInjectionEnv: concurrent writers and syncs") {
  Fixture f;
  constexpr int kThreads = 4;
  constexpr int kRecords = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&f, t] {
      auto file = f.env.OpenFile("/d/" + std::to_string(t), {.create = true, .writable = true});
      if (!file.ok()) return;
      for (int i = 0; i < kRecords; ++i) {
        if (!(*file)->Write(i, std::string(1, static_cast<char>('a' + t))).ok()) return;
        if (!(*file)->Sync().ok()) return;
        if (!f.env.SyncDir(kDir).ok()) return;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  f.Crash(7, CrashMode::kDropUnsynced);
  for (int t = 0; t < kThreads; ++t) {
    CHECK(ReadFile(&f.env, "/d/" + std::to_string(t)) ==
          std::string(kRecords, static_cast<char>('a' + t)));
  }
}

}  // namespace
}  // namespace es
