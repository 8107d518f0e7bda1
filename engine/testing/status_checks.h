// doctest assertions on a Status that print its message when they fail. Test-only.
#ifndef ES_ENGINE_TESTING_STATUS_CHECKS_H_
#define ES_ENGINE_TESTING_STATUS_CHECKS_H_

#include <doctest/doctest.h>

#include "es/status.h"

#define CHECK_OK(expr)                                                 \
  do {                                                                 \
    const ::es::Status check_ok_status_ = (expr);                      \
    CHECK_MESSAGE(check_ok_status_.ok(), check_ok_status_.ToString()); \
  } while (0)

#define REQUIRE_OK(expr)                                                     \
  do {                                                                       \
    const ::es::Status require_ok_status_ = (expr);                          \
    REQUIRE_MESSAGE(require_ok_status_.ok(), require_ok_status_.ToString()); \
  } while (0)

#endif  // ES_ENGINE_TESTING_STATUS_CHECKS_H_
