// Result<T>: either a value or a non-OK Status (std::expected is C++23; we target C++20).
//
// Accessing value() of a failed Result is a programming error and aborts.
#ifndef ES_RESULT_H_
#define ES_RESULT_H_

#include <cstdlib>
#include <utility>
#include <variant>

#include "es/status.h"

namespace es {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  // `status` must not be OK: a Result without a value must say why.
  Result(Status status) : state_(std::in_place_index<1>, std::move(status)) {  // NOLINT: implicit
    if (std::get<1>(state_).ok()) std::abort();
  }

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // OK when a value is held.
  Status status() const { return ok() ? Status::OK() : std::get<1>(state_); }

  T& value() & { return Checked(), std::get<0>(state_); }
  const T& value() const& { return Checked(), std::get<0>(state_); }
  T&& value() && { return Checked(), std::move(std::get<0>(state_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void Checked() const {
    if (!ok()) std::abort();
  }

  std::variant<T, Status> state_;
};

}  // namespace es

// Assigns the value of a Result expression to `lhs`, or returns its Status from the caller.
#define ES_ASSIGN_OR_RETURN(lhs, expr) \
  ES_ASSIGN_OR_RETURN_IMPL_(ES_CONCAT_(es_r_, __LINE__), lhs, expr)
#define ES_CONCAT_INNER_(a, b) a##b
#define ES_CONCAT_(a, b) ES_CONCAT_INNER_(a, b)
#define ES_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#endif  // ES_RESULT_H_
