// The POSIX Env: files through pread/pwrite, mappings through mmap, locks through flock. In its
// io_uring mode (NewIoUringEnv) file writes and syncs, including syncs of mapped ranges, go
// through an IoRing instead.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "engine/env/errno_status.h"
#include "engine/env/io_ring.h"
#include "es/env.h"

namespace es {
namespace {

// Calls `f` until it does not fail with EINTR; `f` returns -1 and sets errno on failure.
template <typename F>
auto RetryOnEintr(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r == -1 && errno == EINTR);
  return r;
}

class PosixMappedRegion final : public MappedRegion {
 public:
  // With a ring, `fd` is the region's own descriptor of the file (closed with the region), for
  // syncing its ranges; otherwise -1.
  PosixMappedRegion(char* base, std::uint64_t size, std::string path, IoRing* ring, int fd)
      : base_(base), size_(size), path_(std::move(path)), ring_(ring), fd_(fd) {}
  ~PosixMappedRegion() override {
    if (size_ > 0) munmap(base_, size_);
    if (fd_ >= 0) close(fd_);
  }
  PosixMappedRegion(const PosixMappedRegion&) = delete;
  PosixMappedRegion& operator=(const PosixMappedRegion&) = delete;

  char* data() override { return base_; }
  std::uint64_t size() const override { return size_; }
  void HintRandomAccess() override {
    // Only a hint: a kernel that refuses it reads ahead as before.
    if (size_ > 0) madvise(base_, size_, MADV_RANDOM);
  }

  Status Sync(std::uint64_t offset, std::uint64_t length) override {
    if (offset > size_ || length > size_ - offset) {
      return Status::InvalidArgument("msync " + path_ + ": range [" + std::to_string(offset) +
                                     ", +" + std::to_string(length) + ") is outside the " +
                                     std::to_string(size_) + "-byte mapping");
    }
    if (length == 0) return Status::OK();
    if (ring_ != nullptr) return ring_->SyncRange(fd_, offset, length, path_);
    // msync requires a page-aligned start address.
    static const auto page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
    const std::uint64_t start = offset / page * page;
    if (msync(base_ + start, offset + length - start, MS_SYNC) != 0) {
      return ErrnoStatus("msync", path_, errno);
    }
    return Status::OK();
  }

 private:
  char* const base_;
  const std::uint64_t size_;
  const std::string path_;
  IoRing* const ring_;
  const int fd_;
};

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path, bool writable, IoRing* ring)
      : fd_(fd), path_(std::move(path)), writable_(writable), ring_(ring) {}
  ~PosixFile() override { close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  Status Read(std::uint64_t offset, std::size_t n, char* dst) const override {
    while (n > 0) {
      const ssize_t r =
          RetryOnEintr([&] { return pread(fd_, dst, n, static_cast<off_t>(offset)); });
      if (r < 0) return ErrnoStatus("read", path_, errno);
      if (r == 0) {
        return Status::IOError("read " + path_ + ": end of file at offset " +
                               std::to_string(offset) + " with " + std::to_string(n) +
                               " bytes still to read");
      }
      dst += r;
      n -= static_cast<std::size_t>(r);
      offset += static_cast<std::uint64_t>(r);
    }
    return Status::OK();
  }

  Status Write(std::uint64_t offset, std::string_view data) override {
    if (ring_ != nullptr) return ring_->Write(fd_, offset, data, path_);
    while (!data.empty()) {
      const ssize_t r = RetryOnEintr(
          [&] { return pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset)); });
      if (r < 0) return ErrnoStatus("write", path_, errno);
      data.remove_prefix(static_cast<std::size_t>(r));
      offset += static_cast<std::uint64_t>(r);
    }
    return Status::OK();
  }

  Status Sync() override {
    if (ring_ != nullptr) return ring_->SyncRange(fd_, 0, 0, path_);
    if (fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
    return Status::OK();
  }

  Result<std::uint64_t> Size() const override {
    struct stat st;
    if (fstat(fd_, &st) != 0) return ErrnoStatus("fstat", path_, errno);
    return static_cast<std::uint64_t>(st.st_size);
  }

  Status Allocate(std::uint64_t size) override {
    // posix_fallocate rejects a zero length, and every file is at least zero bytes long.
    if (size == 0) return Status::OK();
    int err;
    do {
      err = posix_fallocate(fd_, 0, static_cast<off_t>(size));
    } while (err == EINTR);
    if (err == 0) return Status::OK();
    if (err != EOPNOTSUPP) return ErrnoStatus("fallocate", path_, err);
    // The file system cannot reserve blocks; a sparse extension at least reads as zeros.
    ES_ASSIGN_OR_RETURN(const std::uint64_t current, Size());
    return current >= size ? Status::OK() : Truncate(size);
  }

  Status Truncate(std::uint64_t size) override {
    if (RetryOnEintr([&] { return ftruncate(fd_, static_cast<off_t>(size)); }) != 0) {
      return ErrnoStatus("ftruncate", path_, errno);
    }
    return Status::OK();
  }

  Result<std::unique_ptr<MappedRegion>> Map(std::uint64_t size, bool writable) override {
    if (writable && !writable_) {
      return Status::InvalidArgument("mmap " + path_ + ": opened read-only, cannot map writable");
    }
    // Touching a mapped page past the end of the file raises SIGBUS; fail here instead.
    ES_ASSIGN_OR_RETURN(const std::uint64_t file_size, Size());
    if (file_size < size) {
      return Status::InvalidArgument("mmap " + path_ + ": file is " + std::to_string(file_size) +
                                     " bytes, shorter than the " + std::to_string(size) +
                                     "-byte mapping");
    }
    // mmap rejects a zero length; an empty region needs no address.
    if (size == 0) {
      return std::unique_ptr<MappedRegion>(
          std::make_unique<PosixMappedRegion>(nullptr, 0, path_, nullptr, -1));
    }
    // The region may outlive this file, so it syncs through a descriptor of its own.
    int region_fd = -1;
    if (ring_ != nullptr && writable) {
      region_fd = fcntl(fd_, F_DUPFD_CLOEXEC, 0);
      if (region_fd < 0) return ErrnoStatus("dup", path_, errno);
    }
    void* base = mmap(nullptr, size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd_, 0);
    if (base == MAP_FAILED) {
      const int err = errno;
      if (region_fd >= 0) close(region_fd);
      return ErrnoStatus("mmap", path_, err);
    }
    return std::unique_ptr<MappedRegion>(std::make_unique<PosixMappedRegion>(
        static_cast<char*>(base), size, path_, region_fd >= 0 ? ring_ : nullptr, region_fd));
  }

 private:
  const int fd_;
  const std::string path_;
  const bool writable_;
  IoRing* const ring_;  // null: plain system calls
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  // Closing the only descriptor of the open file description releases the flock.
  ~PosixFileLock() override { close(fd_); }
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  const int fd_;
};

class PosixEnv final : public Env {
 public:
  explicit PosixEnv(std::unique_ptr<IoRing> ring) : ring_(std::move(ring)) {}

  std::string_view io_backend() const override { return ring_ ? "io_uring" : "posix"; }

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    const bool writable = mode.writable || mode.create;
    const int flags = O_CLOEXEC | (writable ? O_RDWR : O_RDONLY) | (mode.create ? O_CREAT : 0);
    const int fd = RetryOnEintr([&] { return open(path.c_str(), flags, 0644); });
    if (fd < 0) return ErrnoStatus("open", path, errno);
    return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, path, writable, ring_.get()));
  }

  bool FileExists(const std::string& path) override { return access(path.c_str(), F_OK) == 0; }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    const int fd =
        RetryOnEintr([&] { return open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return ErrnoStatus("opendir", dir, errno);
    const std::unique_ptr<DIR, int (*)(DIR*)> d(fdopendir(fd), &closedir);
    if (d == nullptr) {
      const int err = errno;
      close(fd);
      return ErrnoStatus("opendir", dir, err);
    }
    std::vector<std::string> names;
    for (;;) {
      // readdir signals an error only through errno.
      errno = 0;
      const dirent* entry = readdir(d.get());
      if (entry == nullptr) break;
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    if (errno != 0) return ErrnoStatus("readdir", dir, errno);
    return names;
  }

  Status RemoveFile(const std::string& path) override {
    if (unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("rename", from + " -> " + to, errno);
    }
    return Status::OK();
  }

  Status CreateDir(const std::string& dir) override {
    if (mkdir(dir.c_str(), 0755) == 0) return Status::OK();
    const int err = errno;
    struct stat st;
    if (err == EEXIST && stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::OK();
    return ErrnoStatus("mkdir", dir, err);
  }

  Status SyncDir(const std::string& dir) override {
    const int fd =
        RetryOnEintr([&] { return open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return ErrnoStatus("open", dir, errno);
    const int r = fsync(fd);
    const int err = errno;
    close(fd);
    if (r != 0) return ErrnoStatus("fsync", dir, err);
    return Status::OK();
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    const int fd =
        RetryOnEintr([&] { return open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644); });
    if (fd < 0) return ErrnoStatus("open", path, errno);
    // flock, unlike fcntl locks, also conflicts between two descriptions in one process, so that
    // a second open of the same store in this process is refused too.
    if (RetryOnEintr([&] { return flock(fd, LOCK_EX | LOCK_NB); }) != 0) {
      const int err = errno;
      close(fd);
      return err == EWOULDBLOCK ? LockedStatus(path) : ErrnoStatus("flock", path, err);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }

  std::uint64_t NowMicros() override {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000 +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
  }

  void RandomBytes(void* dst, std::size_t n) override {
    auto* out = static_cast<char*>(dst);
    while (n > 0) {
      const ssize_t r = RetryOnEintr([&] { return getrandom(out, n, 0); });
      if (r < 0) {
        // The interface cannot report failure, and salts and ids must never silently turn out
        // predictable.
        std::fprintf(stderr, "es: getrandom: %s\n", std::generic_category().message(errno).c_str());
        std::abort();
      }
      out += r;
      n -= static_cast<std::size_t>(r);
    }
  }

 private:
  const std::unique_ptr<IoRing> ring_;
};

}  // namespace

Env* Env::Default() {
  static Env* const env = new PosixEnv(nullptr);
  return env;
}

Result<std::unique_ptr<Env>> NewIoUringEnv() {
  ES_ASSIGN_OR_RETURN(std::unique_ptr<IoRing> ring, IoRing::Start());
  return std::unique_ptr<Env>(std::make_unique<PosixEnv>(std::move(ring)));
}

}  // namespace es
