#include "engine/env/io_ring.h"

#include <liburing.h>

#include <cerrno>
#include <cstring>

#include "engine/env/errno_status.h"

namespace es {
namespace {

// Operations are submitted one at a time; a few entries leave room for none to be dropped.
constexpr unsigned kRingEntries = 4;

}  // namespace

Result<std::unique_ptr<IoRing>> IoRing::Start() {
  auto ring = std::make_unique<io_uring>();
  int err = io_uring_queue_init(kRingEntries, ring.get(), 0);
  if (err < 0) {
    return Status::NotSupported(std::string("io_uring_queue_init: ") + std::strerror(-err));
  }
  return std::unique_ptr<IoRing>(new IoRing(std::move(ring)));
}

IoRing::IoRing(std::unique_ptr<io_uring> ring) : ring_(std::move(ring)) {}

IoRing::~IoRing() { io_uring_queue_exit(ring_.get()); }

int IoRing::SubmitAndWait() {
  int submitted;
  do {
    submitted = io_uring_submit(ring_.get());
  } while (submitted == -EINTR);
  if (submitted < 0) return submitted;
  io_uring_cqe* cqe = nullptr;
  int err;
  do {
    err = io_uring_wait_cqe(ring_.get(), &cqe);
  } while (err == -EINTR);
  if (err < 0) return err;
  int result = cqe->res;
  io_uring_cqe_seen(ring_.get(), cqe);
  return result;
}

Status IoRing::Write(int fd, std::uint64_t offset, std::string_view data, const std::string& path) {
  std::lock_guard lock(mu_);
  while (!data.empty()) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
    io_uring_prep_write(sqe, fd, data.data(), static_cast<unsigned>(data.size()), offset);
    int r = SubmitAndWait();
    if (r == -EINTR || r == -EAGAIN) continue;
    if (r < 0) return ErrnoStatus("write (io_uring)", path, -r);
    if (r == 0) return Status::IOError("write (io_uring) " + path + ": no progress");
    data.remove_prefix(static_cast<std::size_t>(r));
    offset += static_cast<std::uint64_t>(r);
  }
  return Status::OK();
}

Status IoRing::SyncRange(int fd, std::uint64_t offset, std::uint64_t length,
                         const std::string& path) {
  std::lock_guard lock(mu_);
  int r;
  do {
    io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
    io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
    sqe->off = offset;
    sqe->len = static_cast<unsigned>(length);
    r = SubmitAndWait();
  } while (r == -EINTR || r == -EAGAIN);
  if (r < 0) return ErrnoStatus("fdatasync (io_uring)", path, -r);
  return Status::OK();
}

}  // namespace es
