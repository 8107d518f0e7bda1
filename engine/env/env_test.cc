// Every case runs against the POSIX Env (in a fresh temporary directory), the in-memory Env and the
// fault-injection Env, so that tests written against the in-memory Envs mean the same thing on
// disk.
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "engine/env/fault_env.h"
#include "engine/testing/status_checks.h"
#include "es/env.h"

namespace es {
namespace {

class PosixFixture {
 public:
  PosixFixture() {
    char dir[] = "/tmp/es_env_test.XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    root_ = dir;
  }
  ~PosixFixture() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  PosixFixture(const PosixFixture&) = delete;
  PosixFixture& operator=(const PosixFixture&) = delete;

  Env* env() { return Env::Default(); }
  std::string Path(std::string_view name) const { return root_ + "/" + std::string(name); }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

// The POSIX Env with its writes and syncs through io_uring (POSIX alone where no ring starts).
class IoUringFixture : public PosixFixture {
 public:
  IoUringFixture() {
    auto ring = NewIoUringEnv();
    if (ring.ok()) {
      env_ = std::move(ring).value();
    } else {
      MESSAGE("no io_uring here (" << ring.status().ToString() << "): testing POSIX again");
    }
  }

  Env* env() { return env_ ? env_.get() : Env::Default(); }

 private:
  std::unique_ptr<Env> env_;
};

class MemFixture {
 public:
  MemFixture() : env_(NewMemEnv()) { REQUIRE_OK(env_->CreateDir(root_)); }

  Env* env() { return env_.get(); }
  std::string Path(std::string_view name) const { return root_ + "/" + std::string(name); }
  const std::string& root() const { return root_; }

 private:
  std::unique_ptr<Env> env_;
  std::string root_ = "/mem";
};

// The fault-injection Env must behave as an Env first.
class FaultFixture {
 public:
  FaultFixture() { REQUIRE_OK(env_.CreateDir(root_)); }

  Env* env() { return &env_; }
  std::string Path(std::string_view name) const { return root_ + "/" + std::string(name); }
  const std::string& root() const { return root_; }

 private:
  FaultInjectionEnv env_;
  std::string root_ = "/fault";
};

std::unique_ptr<File> Open(Env* env, const std::string& path, bool create) {
  Env::OpenMode mode;
  mode.create = create;
  mode.writable = create;
  auto file = env->OpenFile(path, mode);
  REQUIRE_OK(file.status());
  return std::move(file).value();
}

std::unique_ptr<File> OpenReadOnly(Env* env, const std::string& path) {
  return Open(env, path, /*create=*/false);
}

std::string Read(const File& file, std::uint64_t offset, std::size_t n) {
  std::string out(n, '?');
  REQUIRE_OK(file.Read(offset, n, out.data()));
  return out;
}

std::uint64_t SizeOf(const File& file) {
  auto size = file.Size();
  REQUIRE_OK(size.status());
  return *size;
}

void WriteFile(Env* env, const std::string& path, std::string_view contents) {
  auto file = Open(env, path, /*create=*/true);
  REQUIRE_OK(file->Truncate(0));
  REQUIRE_OK(file->Write(0, contents));
}

std::vector<std::string> SortedChildren(Env* env, const std::string& dir) {
  auto children = env->GetChildren(dir);
  REQUIRE_OK(children.status());
  std::sort(children->begin(), children->end());
  return *children;
}

#define ENV_FIXTURES PosixFixture, IoUringFixture, MemFixture, FaultFixture

TEST_CASE_TEMPLATE("Env: write, read, size, allocate, truncate", Fixture, ENV_FIXTURES) {
  Fixture f;
  Env* env = f.env();
  const std::string path = f.Path("data");

  auto file = Open(env, path, /*create=*/true);
  CHECK(SizeOf(*file) == 0);
  REQUIRE_OK(file->Write(0, "hello"));
  REQUIRE_OK(file->Write(5, " world"));
  CHECK_OK(file->Sync());
  CHECK(SizeOf(*file) == 11);
  CHECK(Read(*file, 0, 11) == "hello world");
  CHECK(Read(*file, 6, 5) == "world");
  CHECK(env->FileExists(path));

  // A write past the end leaves a zero-filled gap.
  REQUIRE_OK(file->Write(13, "!"));
  CHECK(Read(*file, 11, 3) == std::string("\0\0!", 3));

  REQUIRE_OK(file->Allocate(4096));
  CHECK(SizeOf(*file) == 4096);
  CHECK(Read(*file, 14, 4096 - 14) == std::string(4096 - 14, '\0'));
  // Allocate never shrinks.
  REQUIRE_OK(file->Allocate(10));
  CHECK(SizeOf(*file) == 4096);

  REQUIRE_OK(file->Truncate(5));
  CHECK(SizeOf(*file) == 5);
  CHECK(Read(*file, 0, 5) == "hello");
  // Bytes cut off by a truncation do not reappear when the file grows again.
  REQUIRE_OK(file->Truncate(11));
  CHECK(Read(*file, 0, 11) == std::string("hello\0\0\0\0\0\0", 11));

  // Another handle sees the same contents; a read-only one cannot write.
  auto reader = OpenReadOnly(env, path);
  CHECK(Read(*reader, 0, 5) == "hello");
  CHECK_FALSE(reader->Write(0, "x").ok());
  CHECK_FALSE(reader->Truncate(0).ok());
}

TEST_CASE_TEMPLATE("Env: reading past the end fails", Fixture, ENV_FIXTURES) {
  Fixture f;
  auto file = Open(f.env(), f.Path("data"), /*create=*/true);
  REQUIRE_OK(file->Write(0, "0123456789"));
  char buf[16];
  CHECK_OK(file->Read(10, 0, buf));
  CHECK(file->Read(5, 6, buf).IsIOError());
  CHECK(file->Read(0, 11, buf).IsIOError());
  CHECK(file->Read(100, 1, buf).IsIOError());
}

TEST_CASE_TEMPLATE("Env: missing files are NotFound", Fixture, ENV_FIXTURES) {
  Fixture f;
  Env* env = f.env();
  const std::string missing = f.Path("missing");

  CHECK_FALSE(env->FileExists(missing));
  auto opened = env->OpenFile(missing, Env::OpenMode{});
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.status().IsNotFound());
  CHECK(opened.status().message().find(missing) != std::string::npos);
  CHECK(env->OpenFile(missing, Env::OpenMode{.create = false, .writable = true})
            .status()
            .IsNotFound());
  CHECK(env->OpenFile(f.Path("no_dir/file"), Env::OpenMode{.create = true}).status().IsNotFound());
  CHECK(env->RemoveFile(missing).IsNotFound());
  CHECK(env->RenameFile(missing, f.Path("other")).IsNotFound());
  CHECK(env->GetChildren(missing).status().IsNotFound());
  CHECK(env->CreateDir(f.Path("no_dir/sub")).IsNotFound());
}

TEST_CASE_TEMPLATE("Env: mappings share the file's bytes", Fixture, ENV_FIXTURES) {
  Fixture f;
  Env* env = f.env();
  const std::string path = f.Path("mapped");
  constexpr std::uint64_t kSize = 3 * 4096;

  auto file = Open(env, path, /*create=*/true);
  REQUIRE_OK(file->Allocate(kSize));
  REQUIRE_OK(file->Write(100, "abc"));

  SUBCASE("read-only") {
    auto region = file->Map(kSize, /*writable=*/false);
    REQUIRE_OK(region.status());
    CHECK((*region)->size() == kSize);
    CHECK(std::string_view((*region)->data() + 100, 3) == "abc");
    REQUIRE_OK(file->Write(5000, "later"));
    CHECK(std::string_view((*region)->data() + 5000, 5) == "later");
  }

  SUBCASE("writable") {
    auto region = file->Map(kSize, /*writable=*/true);
    REQUIRE_OK(region.status());
    char* data = (*region)->data();
    CHECK(std::string_view(data + 100, 3) == "abc");

    std::copy_n("xyz", 3, data + 5000);
    CHECK_OK((*region)->Sync(5000, 3));
    CHECK(Read(*file, 5000, 3) == "xyz");

    REQUIRE_OK(file->Write(9000, "through file"));
    CHECK(std::string_view(data + 9000, 12) == "through file");

    CHECK_OK((*region)->Sync(0, kSize));
    CHECK_OK((*region)->Sync(kSize, 0));
    CHECK((*region)->Sync(kSize - 1, 2).IsInvalidArgument());
  }

  SUBCASE("a prefix of the file") {
    auto region = file->Map(200, /*writable=*/false);
    REQUIRE_OK(region.status());
    CHECK((*region)->size() == 200);
    CHECK(std::string_view((*region)->data() + 100, 3) == "abc");
  }

  SUBCASE("outlives the file handle and the directory entry") {
    auto region = file->Map(kSize, /*writable=*/true);
    REQUIRE_OK(region.status());
    file.reset();
    REQUIRE_OK(env->RemoveFile(path));
    (*region)->data()[kSize - 1] = 'z';
    CHECK(std::string_view((*region)->data() + 100, 3) == "abc");
  }

  SUBCASE("a read-only file cannot be mapped writable") {
    auto reader = OpenReadOnly(env, path);
    CHECK(reader->Map(kSize, /*writable=*/true).status().IsInvalidArgument());
    auto region = reader->Map(kSize, /*writable=*/false);
    REQUIRE_OK(region.status());
    CHECK(std::string_view((*region)->data() + 100, 3) == "abc");
  }

  SUBCASE("not past the end of the file") {
    CHECK(file->Map(kSize + 1, /*writable=*/false).status().IsInvalidArgument());
  }

  SUBCASE("empty") {
    auto region = file->Map(0, /*writable=*/true);
    REQUIRE_OK(region.status());
    CHECK((*region)->size() == 0);
    CHECK_OK((*region)->Sync(0, 0));
  }
}

TEST_CASE_TEMPLATE("Env: directories", Fixture, ENV_FIXTURES) {
  Fixture f;
  Env* env = f.env();
  const std::string sub = f.Path("sub");

  CHECK(SortedChildren(env, f.root()).empty());
  REQUIRE_OK(env->CreateDir(sub));
  CHECK_OK(env->CreateDir(sub));
  CHECK(env->FileExists(sub));
  WriteFile(env, f.Path("b"), "b");
  WriteFile(env, f.Path("a"), "a");
  WriteFile(env, sub + "/c", "c");

  CHECK(SortedChildren(env, f.root()) == std::vector<std::string>{"a", "b", "sub"});
  CHECK(SortedChildren(env, sub) == std::vector<std::string>{"c"});
  CHECK_OK(env->SyncDir(f.root()));
  CHECK_OK(env->SyncDir(sub));

  // A file is not a directory.
  CHECK_FALSE(env->CreateDir(f.Path("a")).ok());
  CHECK_FALSE(env->GetChildren(f.Path("a")).ok());
}

TEST_CASE_TEMPLATE("Env: remove", Fixture, ENV_FIXTURES) {
  Fixture f;
  Env* env = f.env();
  const std::string path = f.Path("doomed");
  WriteFile(env, path, "contents");
  WriteFile(env, f.Path("kept"), "kept");

  auto open = OpenReadOnly(env, path);
  REQUIRE_OK(env->RemoveFile(path));
  CHECK_FALSE(env->FileExists(path));
  CHECK(SortedChildren(env, f.root()) == std::vector<std::string>{"kept"});
  CHECK(env->RemoveFile(path).IsNotFound());
  // As with POSIX unlink, an open handle keeps the old contents.
  CHECK(Read(*open, 0, 8) == "contents");

  // A new file under the old name starts empty.
  auto fresh = Open(env, path, /*create=*/true);
  CHECK(SizeOf(*fresh) == 0);
  CHECK(SizeOf(*open) == 8);
}

TEST_CASE_TEMPLATE("Env: rename replaces the target", Fixture, ENV_FIXTURES) {
  Fixture f;
  Env* env = f.env();
  const std::string from = f.Path("from");
  const std::string to = f.Path("to");
  WriteFile(env, from, "new contents");
  WriteFile(env, to, "old");
  auto old_target = OpenReadOnly(env, to);

  REQUIRE_OK(env->RenameFile(from, to));
  CHECK_FALSE(env->FileExists(from));
  CHECK(SortedChildren(env, f.root()) == std::vector<std::string>{"to"});
  auto renamed = OpenReadOnly(env, to);
  CHECK(SizeOf(*renamed) == 12);
  CHECK(Read(*renamed, 0, 12) == "new contents");
  CHECK(Read(*old_target, 0, 3) == "old");

  REQUIRE_OK(env->CreateDir(f.Path("sub")));
  REQUIRE_OK(env->RenameFile(to, f.Path("sub/moved")));
  CHECK(SortedChildren(env, f.Path("sub")) == std::vector<std::string>{"moved"});
}

TEST_CASE_TEMPLATE("Env: locks are exclusive until released", Fixture, ENV_FIXTURES) {
  Fixture f;
  Env* env = f.env();
  const std::string path = f.Path("LOCK");

  auto first = env->LockFile(path);
  REQUIRE_OK(first.status());
  CHECK(env->FileExists(path));

  auto second = env->LockFile(path);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().IsLocked());
  CHECK(second.status().message().find(path) != std::string::npos);

  // Another lock file is independent.
  auto other = env->LockFile(f.Path("OTHER_LOCK"));
  CHECK_OK(other.status());

  first->reset();
  auto third = env->LockFile(path);
  CHECK_OK(third.status());

  CHECK(env->LockFile(f.Path("no_dir/LOCK")).status().IsNotFound());
}

TEST_CASE_TEMPLATE("Env: clock and random bytes", Fixture, ENV_FIXTURES) {
  Fixture f;
  Env* env = f.env();

  constexpr std::uint64_t kJan2020Micros = 1577836800ULL * 1000000;
  const std::uint64_t now = env->NowMicros();
  CHECK(now > kJan2020Micros);

  unsigned char a[32] = {};
  unsigned char b[32] = {};
  env->RandomBytes(a, sizeof(a));
  env->RandomBytes(b, sizeof(b));
  CHECK(std::any_of(std::begin(a), std::end(a), [](unsigned char c) { return c != 0; }));
  CHECK_FALSE(std::equal(std::begin(a), std::end(a), std::begin(b)));
  // Odd lengths are filled completely.
  unsigned char odd[13] = {};
  env->RandomBytes(odd, sizeof(odd));
  CHECK(std::any_of(std::begin(odd) + 8, std::end(odd), [](unsigned char c) { return c != 0; }));
}

TEST_CASE_TEMPLATE("Env: concurrent writers to one file", Fixture, ENV_FIXTURES) {
  Fixture f;
  auto file = Open(f.env(), f.Path("shared"), /*create=*/true);
  constexpr std::uint64_t kThreads = 4;
  constexpr std::uint64_t kRecordsPerThread = 200;
  constexpr std::size_t kRecordSize = 8;
  // Records interleave across threads, so that writers keep extending the file concurrently.
  const auto record = [](std::uint64_t n) { return std::to_string(10000000 + n); };

  std::vector<std::thread> threads;
  for (std::uint64_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t n = t; n < kThreads * kRecordsPerThread; n += kThreads) {
        if (!file->Write(n * kRecordSize, record(n)).ok()) return;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  REQUIRE(SizeOf(*file) == kThreads * kRecordsPerThread * kRecordSize);
  for (std::uint64_t n = 0; n < kThreads * kRecordsPerThread; ++n) {
    CHECK(Read(*file, n * kRecordSize, kRecordSize) == record(n));
  }
}

TEST_CASE("MemEnv: a mapped file cannot change size") {
  auto env = NewMemEnv();
  REQUIRE_OK(env->CreateDir("/d"));
  auto file = Open(env.get(), "/d/f", /*create=*/true);
  REQUIRE_OK(file->Allocate(100));
  {
    auto region = file->Map(100, /*writable=*/true);
    REQUIRE_OK(region.status());
    CHECK(file->Allocate(200).IsIOError());
    CHECK(file->Truncate(50).IsIOError());
    CHECK(file->Write(100, "x").IsIOError());
    // Operations that keep the size are fine.
    CHECK_OK(file->Allocate(100));
    CHECK_OK(file->Truncate(100));
    CHECK_OK(file->Write(99, "x"));
    CHECK((*region)->data()[99] == 'x');
  }
  CHECK_OK(file->Allocate(200));
  CHECK(SizeOf(*file) == 200);
}

TEST_CASE("MemEnv: paths are normalized") {
  auto env = NewMemEnv();
  REQUIRE_OK(env->CreateDir("/d/"));
  WriteFile(env.get(), "/d//f", "x");
  CHECK(env->FileExists("/d/f"));
  CHECK(SortedChildren(env.get(), "/d") == std::vector<std::string>{"f"});
  CHECK(SortedChildren(env.get(), "/") == std::vector<std::string>{"d"});
}

TEST_CASE("MemEnv: instances are independent") {
  auto a = NewMemEnv();
  auto b = NewMemEnv();
  WriteFile(a.get(), "/f", "x");
  CHECK(a->FileExists("/f"));
  CHECK_FALSE(b->FileExists("/f"));
  auto lock_a = a->LockFile("/LOCK");
  auto lock_b = b->LockFile("/LOCK");
  CHECK_OK(lock_a.status());
  CHECK_OK(lock_b.status());
}

}  // namespace
}  // namespace es
