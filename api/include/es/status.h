// Status: the outcome of an operation at the engine boundary.
//
// No exception crosses the engine boundary; every fallible call returns a Status or a Result<T>.
// An OK status carries no message and costs no allocation. Codes are stable: callers branch on
// them (IsConditionFailed(), IsIntegrityError(), ...) and print ToString() for people.
#ifndef ES_STATUS_H_
#define ES_STATUS_H_

#include <string>
#include <string_view>

namespace es {

class [[nodiscard]] Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound,
    kCorruption,
    kNotSupported,
    kInvalidArgument,
    kIOError,
    // A DCB append condition matched an event: nothing was written.
    kConditionFailed,
    // An (originator id, version) or tracking record already exists, or a tracking id is not
    // greater than the application's maximum: nothing was written.
    kIntegrityError,
    // Another writer holds the store's LOCK.
    kLocked,
    // A write or sync failed earlier; the store refuses writes until it is reopened.
    kPoisoned,
    kTimeout,
    kInterrupted,
  };

  Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status NotSupported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status ConditionFailed(std::string_view msg) {
    return Status(Code::kConditionFailed, msg);
  }
  static Status IntegrityError(std::string_view msg) { return Status(Code::kIntegrityError, msg); }
  static Status Locked(std::string_view msg) { return Status(Code::kLocked, msg); }
  static Status Poisoned(std::string_view msg) { return Status(Code::kPoisoned, msg); }
  static Status Timeout(std::string_view msg) { return Status(Code::kTimeout, msg); }
  static Status Interrupted(std::string_view msg) { return Status(Code::kInterrupted, msg); }

  bool ok() const { return code_ == Code::kOk; }
  // Drops a status on purpose, where no caller could act on it (a destructor, say).
  void IgnoreError() const {}
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsConditionFailed() const { return code_ == Code::kConditionFailed; }
  bool IsIntegrityError() const { return code_ == Code::kIntegrityError; }
  bool IsLocked() const { return code_ == Code::kLocked; }
  bool IsPoisoned() const { return code_ == Code::kPoisoned; }
  bool IsTimeout() const { return code_ == Code::kTimeout; }
  bool IsInterrupted() const { return code_ == Code::kInterrupted; }

  // The same code with "<context>: " before the message (OK stays OK).
  Status WithContext(std::string_view context) const;

  // "OK" or "<code name>: <message>".
  std::string ToString() const;

  // The stable lower-case name of a code ("condition_failed", "io_error", ...), as used in
  // tool output.
  static std::string_view CodeName(Code code);

 private:
  Status(Code code, std::string_view msg) : code_(code), message_(msg) {}

  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace es

// Propagates a non-OK Status (or the Status of a failed Result) to the caller.
#define ES_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::es::Status es_status_ = (expr);        \
    if (!es_status_.ok()) return es_status_; \
  } while (0)

#endif  // ES_STATUS_H_
