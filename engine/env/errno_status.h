// Error statuses shared by the Envs, so that the POSIX and in-memory Envs report the same failure
// with the same code and message and tests can run unchanged against either.
#ifndef ES_ENGINE_ENV_ERRNO_STATUS_H_
#define ES_ENGINE_ENV_ERRNO_STATUS_H_

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>

#include "es/status.h"

namespace es {

// "<op> <path>: <strerror(err)>". ENOENT is NotFound so that callers can tell a missing file from
// a failing one.
inline Status ErrnoStatus(std::string_view op, std::string_view path, int err) {
  std::string msg(op);
  msg += ' ';
  msg += path;
  msg += ": ";
  // Unlike std::strerror, error_category::message is thread-safe.
  msg += std::generic_category().message(err);
  return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
}

inline Status LockedStatus(std::string_view path) {
  std::string msg(path);
  msg += " is locked by another process or handle";
  return Status::Locked(msg);
}

}  // namespace es

#endif  // ES_ENGINE_ENV_ERRNO_STATUS_H_
