// Env: every file and clock operation the engine performs goes through an Env, so that tests can
// run the engine in memory or inject faults. Env::Default() is the POSIX implementation;
// NewMemEnv() keeps every file in memory.
//
// All methods are thread-safe. Paths are plain strings joined with '/'.
#ifndef ES_ENV_H_
#define ES_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "es/result.h"
#include "es/status.h"

namespace es {

// A mapping of the first size() bytes of a file. The memory stays valid, at the same address,
// until the region is destroyed. Writes through a writable region reach the file; they are
// durable only after Sync() (or File::Sync()).
class MappedRegion {
 public:
  virtual ~MappedRegion() = default;
  virtual char* data() = 0;
  virtual std::uint64_t size() const = 0;
  // Makes bytes [offset, offset + length) written through the mapping durable.
  virtual Status Sync(std::uint64_t offset, std::uint64_t length) = 0;
  // A hint that pages will be touched in no particular order, so that a page fault brings in its
  // own page only: a writer filling a fresh file through the mapping then does not wait for the
  // kernel to read ahead megabytes of zeros. Envs without paging ignore it.
  virtual void HintRandomAccess() {}
};

// An open file addressed by offsets.
class File {
 public:
  virtual ~File() = default;
  // Reads exactly `n` bytes at `offset`; IOError if the file is shorter.
  virtual Status Read(std::uint64_t offset, std::size_t n, char* dst) const = 0;
  virtual Status Write(std::uint64_t offset, std::string_view data) = 0;
  // Makes all written data durable (fdatasync).
  virtual Status Sync() = 0;
  virtual Result<std::uint64_t> Size() const = 0;
  // Grows the file to at least `size` bytes with storage reserved; new bytes read as zero.
  virtual Status Allocate(std::uint64_t size) = 0;
  virtual Status Truncate(std::uint64_t size) = 0;
  // Maps bytes [0, size) of the file; the file must be at least `size` bytes long.
  virtual Result<std::unique_ptr<MappedRegion>> Map(std::uint64_t size, bool writable) = 0;
};

// An exclusive lock held until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX Env. Never destroyed.
  static Env* Default();

  // How this Env issues file writes and syncs, for reports: "posix", "io_uring", "memory", ...
  virtual std::string_view io_backend() const { return "custom"; }

  struct OpenMode {
    bool create = false;    // create the file when missing
    bool writable = false;  // open for writing (implied by create)
  };
  virtual Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  // Names (not paths) of the entries in `dir`, without "." and "..".
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Creates `dir` if missing (not its parents).
  virtual Status CreateDir(const std::string& dir) = 0;
  // Makes the creation, removal and renaming of entries in `dir` durable.
  virtual Status SyncDir(const std::string& dir) = 0;

  // Takes an exclusive lock on `path` (created if missing). Locked when another holder, in this
  // process or another, has it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;

  // Microseconds since the Unix epoch.
  virtual std::uint64_t NowMicros() = 0;
  // `n` random bytes from a source fit for salts and ids.
  virtual void RandomBytes(void* dst, std::size_t n) = 0;
};

// A POSIX Env whose file writes and syncs (of files and of mapped ranges) go through io_uring.
// NotSupported when no ring can be set up here (old kernel, seccomp, memlock limits); the POSIX
// Env then serves.
Result<std::unique_ptr<Env>> NewIoUringEnv();

// An Env whose files live in this process's memory, for tests and benchmarks. Locks behave as
// on POSIX within the Env.
std::unique_ptr<Env> NewMemEnv();

}  // namespace es

#endif  // ES_ENV_H_
