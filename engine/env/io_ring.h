// IoRing: file writes and syncs issued through one io_uring (liburing), for the POSIX Env's
// io_uring mode. Each call submits its operation and waits for it, so the ring replaces the
// system calls one for one; callers that want to batch make one call per group (the store's
// group commit does).
//
// Thread-safe: one mutex serialises the ring (the engine has one writer at a time).
#ifndef ES_ENGINE_ENV_IO_RING_H_
#define ES_ENGINE_ENV_IO_RING_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "es/result.h"
#include "es/status.h"

struct io_uring;

namespace es {

class IoRing {
 public:
  // NotSupported, with the kernel's reason, when a ring cannot be set up (old kernels, seccomp
  // filters in containers, RLIMIT_MEMLOCK).
  static Result<std::unique_ptr<IoRing>> Start();
  ~IoRing();
  IoRing(const IoRing&) = delete;
  IoRing& operator=(const IoRing&) = delete;

  // Writes all of `data` at `offset` of `fd` (resubmitting after a short write), like pwrite.
  Status Write(int fd, std::uint64_t offset, std::string_view data, const std::string& path);
  // fdatasync of the bytes [offset, offset + length) of `fd`; length 0 means the whole file.
  Status SyncRange(int fd, std::uint64_t offset, std::uint64_t length, const std::string& path);

 private:
  explicit IoRing(std::unique_ptr<io_uring> ring);
  // Submits the prepared entry and waits for its completion: its result, or -errno.
  int SubmitAndWait();

  std::mutex mu_;
  std::unique_ptr<io_uring> ring_;  // guarded by mu_
};

}  // namespace es

#endif  // ES_ENGINE_ENV_IO_RING_H_
