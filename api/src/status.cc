#include "es/status.h"

namespace es {

std::string_view Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kNotFound:
      return "not_found";
    case Code::kCorruption:
      return "corruption";
    case Code::kNotSupported:
      return "not_supported";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kIOError:
      return "io_error";
    case Code::kConditionFailed:
      return "condition_failed";
    case Code::kIntegrityError:
      return "integrity_error";
    case Code::kLocked:
      return "locked";
    case Code::kPoisoned:
      return "poisoned";
    case Code::kTimeout:
      return "timeout";
    case Code::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string message(context);
  message += ": ";
  message += message_;
  return Status(code_, message);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace es
