// The in-memory Env. A file's contents are shared by its directory entry, its open handles and
// its mappings, so that, as on POSIX, handles keep working after the file is removed or renamed.
//
// A mapping points into the contents' buffer, which therefore must not move while mapped: a file
// cannot change size while any region of it is alive (IOError). Writes within the size are
// visible both ways. Unlike POSIX, a read-only mapping's memory is writable; do not write to it.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/env/errno_status.h"
#include "engine/util/path.h"
#include "engine/util/random_bytes.h"
#include "es/env.h"

namespace es {
namespace {

struct MemFileContents {
  std::mutex mu;
  std::vector<char> bytes;  // guarded by mu
  int live_regions = 0;     // guarded by mu
};

class MemMappedRegion final : public MappedRegion {
 public:
  // Requires contents->mu, so that the buffer cannot move before live_regions pins it.
  MemMappedRegion(std::shared_ptr<MemFileContents> contents, std::string path, std::uint64_t size)
      : contents_(std::move(contents)),
        path_(std::move(path)),
        data_(contents_->bytes.data()),
        size_(size) {
    ++contents_->live_regions;
  }
  ~MemMappedRegion() override {
    std::lock_guard lock(contents_->mu);
    --contents_->live_regions;
  }
  MemMappedRegion(const MemMappedRegion&) = delete;
  MemMappedRegion& operator=(const MemMappedRegion&) = delete;

  char* data() override { return data_; }
  std::uint64_t size() const override { return size_; }

  // The range is checked anyway so that engine bugs show up in in-memory tests too.
  Status Sync(std::uint64_t offset, std::uint64_t length) override {
    if (offset > size_ || length > size_ - offset) {
      return Status::InvalidArgument("msync " + path_ + ": range [" + std::to_string(offset) +
                                     ", +" + std::to_string(length) + ") is outside the " +
                                     std::to_string(size_) + "-byte mapping");
    }
    return Status::OK();
  }

 private:
  const std::shared_ptr<MemFileContents> contents_;
  const std::string path_;
  char* const data_;
  const std::uint64_t size_;
};

class MemFile final : public File {
 public:
  MemFile(std::shared_ptr<MemFileContents> contents, std::string path, bool writable)
      : contents_(std::move(contents)), path_(std::move(path)), writable_(writable) {}

  Status Read(std::uint64_t offset, std::size_t n, char* dst) const override {
    std::lock_guard lock(contents_->mu);
    const std::vector<char>& bytes = contents_->bytes;
    if (offset > bytes.size() || n > bytes.size() - offset) {
      return Status::IOError("read " + path_ + ": " + std::to_string(n) + " bytes at offset " +
                             std::to_string(offset) + " run past the end of the " +
                             std::to_string(bytes.size()) + "-byte file");
    }
    std::copy_n(bytes.data() + offset, n, dst);
    return Status::OK();
  }

  Status Write(std::uint64_t offset, std::string_view data) override {
    if (!writable_) return ErrnoStatus("write", path_, EBADF);
    // Like pwrite, writing nothing does not extend the file.
    if (data.empty()) return Status::OK();
    const std::uint64_t end = offset + data.size();
    if (end < offset) return ErrnoStatus("write", path_, EFBIG);
    std::lock_guard lock(contents_->mu);
    if (end > contents_->bytes.size()) ES_RETURN_IF_ERROR(ResizeLocked("write", end));
    std::copy(data.begin(), data.end(),
              contents_->bytes.begin() + static_cast<std::ptrdiff_t>(offset));
    return Status::OK();
  }

  Status Sync() override { return Status::OK(); }

  Result<std::uint64_t> Size() const override {
    std::lock_guard lock(contents_->mu);
    return static_cast<std::uint64_t>(contents_->bytes.size());
  }

  Status Allocate(std::uint64_t size) override {
    if (!writable_) return ErrnoStatus("fallocate", path_, EBADF);
    std::lock_guard lock(contents_->mu);
    return size > contents_->bytes.size() ? ResizeLocked("fallocate", size) : Status::OK();
  }

  Status Truncate(std::uint64_t size) override {
    if (!writable_) return ErrnoStatus("ftruncate", path_, EBADF);
    std::lock_guard lock(contents_->mu);
    return ResizeLocked("ftruncate", size);
  }

  Result<std::unique_ptr<MappedRegion>> Map(std::uint64_t size, bool writable) override {
    if (writable && !writable_) {
      return Status::InvalidArgument("mmap " + path_ + ": opened read-only, cannot map writable");
    }
    std::lock_guard lock(contents_->mu);
    if (contents_->bytes.size() < size) {
      return Status::InvalidArgument(
          "mmap " + path_ + ": file is " + std::to_string(contents_->bytes.size()) +
          " bytes, shorter than the " + std::to_string(size) + "-byte mapping");
    }
    return std::unique_ptr<MappedRegion>(std::make_unique<MemMappedRegion>(contents_, path_, size));
  }

 private:
  // Requires contents_->mu. New bytes read as zero.
  Status ResizeLocked(std::string_view op, std::uint64_t size) {
    std::vector<char>& bytes = contents_->bytes;
    if (size == bytes.size()) return Status::OK();
    if (contents_->live_regions > 0) {
      return Status::IOError(std::string(op) + " " + path_ + ": cannot resize a mapped file");
    }
    if (size > bytes.max_size()) return ErrnoStatus(op, path_, EFBIG);
    bytes.resize(size);
    return Status::OK();
  }

  const std::shared_ptr<MemFileContents> contents_;
  const std::string path_;
  const bool writable_;
};

// Shared with the FileLocks handed out, so that a lock may harmlessly outlive its Env.
struct LockTable {
  std::mutex mu;
  std::set<std::string> held;  // guarded by mu
};

class MemFileLock final : public FileLock {
 public:
  MemFileLock(std::shared_ptr<LockTable> table, std::string path)
      : table_(std::move(table)), path_(std::move(path)) {}
  ~MemFileLock() override {
    std::lock_guard lock(table_->mu);
    table_->held.erase(path_);
  }
  MemFileLock(const MemFileLock&) = delete;
  MemFileLock& operator=(const MemFileLock&) = delete;

 private:
  const std::shared_ptr<LockTable> table_;
  const std::string path_;
};

std::mt19937_64 SeededGenerator() {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device(),
                     device(), device(), device(), device()};
  return std::mt19937_64(seed);
}

class MemEnv final : public Env {
 public:
  std::string_view io_backend() const override { return "memory"; }

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    const std::string p = NormalizePath(path);
    std::lock_guard lock(mu_);
    if (dirs_.count(p) > 0) return ErrnoStatus("open", path, EISDIR);
    auto it = files_.find(p);
    if (it == files_.end()) {
      if (!mode.create || dirs_.count(ParentDir(p)) == 0) return ErrnoStatus("open", path, ENOENT);
      it = files_.emplace(p, std::make_shared<MemFileContents>()).first;
    }
    return std::unique_ptr<File>(
        std::make_unique<MemFile>(it->second, path, mode.writable || mode.create));
  }

  bool FileExists(const std::string& path) override {
    const std::string p = NormalizePath(path);
    std::lock_guard lock(mu_);
    return files_.count(p) > 0 || dirs_.count(p) > 0;
  }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    const std::string d = NormalizePath(dir);
    std::lock_guard lock(mu_);
    if (dirs_.count(d) == 0) {
      return ErrnoStatus("opendir", dir, files_.count(d) > 0 ? ENOTDIR : ENOENT);
    }
    std::vector<std::string> names;
    const auto add_child = [&](const std::string& entry) {
      // The roots are their own parents.
      if (entry != d && ParentDir(entry) == d) names.push_back(entry.substr(entry.rfind('/') + 1));
    };
    for (const auto& [path, contents] : files_) add_child(path);
    for (const std::string& path : dirs_) add_child(path);
    return names;
  }

  Status RemoveFile(const std::string& path) override {
    const std::string p = NormalizePath(path);
    std::lock_guard lock(mu_);
    if (files_.erase(p) == 0)
      return ErrnoStatus("unlink", path, dirs_.count(p) > 0 ? EISDIR : ENOENT);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    const std::string f = NormalizePath(from);
    const std::string t = NormalizePath(to);
    std::lock_guard lock(mu_);
    const auto it = files_.find(f);
    int err = 0;
    if (it == files_.end()) {
      err = dirs_.count(f) > 0 ? ENOTSUP : ENOENT;
    } else if (dirs_.count(t) > 0) {
      err = EISDIR;
    } else if (dirs_.count(ParentDir(t)) == 0) {
      err = ENOENT;
    }
    if (err != 0) return ErrnoStatus("rename", from + " -> " + to, err);
    std::shared_ptr<MemFileContents> contents = std::move(it->second);
    files_.erase(it);
    files_[t] = std::move(contents);
    return Status::OK();
  }

  Status CreateDir(const std::string& dir) override {
    const std::string d = NormalizePath(dir);
    std::lock_guard lock(mu_);
    if (dirs_.count(d) > 0) return Status::OK();
    if (files_.count(d) > 0) return ErrnoStatus("mkdir", dir, EEXIST);
    if (dirs_.count(ParentDir(d)) == 0) return ErrnoStatus("mkdir", dir, ENOENT);
    dirs_.insert(d);
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    std::lock_guard lock(mu_);
    if (dirs_.count(NormalizePath(dir)) == 0) return ErrnoStatus("open", dir, ENOENT);
    return Status::OK();
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    const std::string p = NormalizePath(path);
    std::lock_guard lock(mu_);
    if (dirs_.count(p) > 0) return ErrnoStatus("open", path, EISDIR);
    if (files_.count(p) == 0) {
      if (dirs_.count(ParentDir(p)) == 0) return ErrnoStatus("open", path, ENOENT);
      files_.emplace(p, std::make_shared<MemFileContents>());
    }
    std::lock_guard locks_lock(locks_->mu);
    if (!locks_->held.insert(p).second) return LockedStatus(path);
    return std::unique_ptr<FileLock>(std::make_unique<MemFileLock>(locks_, p));
  }

  std::uint64_t NowMicros() override {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  }

  void RandomBytes(void* dst, std::size_t n) override {
    std::lock_guard lock(rng_mu_);
    FillFromGenerator(rng_, dst, n);
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<MemFileContents>> files_;  // guarded by mu_
  // "" and "/" are the roots of relative and absolute paths.
  std::set<std::string> dirs_{"", "/"};  // guarded by mu_
  const std::shared_ptr<LockTable> locks_ = std::make_shared<LockTable>();

  std::mutex rng_mu_;
  std::mt19937_64 rng_ = SeededGenerator();  // guarded by rng_mu_
};

}  // namespace

std::unique_ptr<Env> NewMemEnv() { return std::make_unique<MemEnv>(); }

}  // namespace es
