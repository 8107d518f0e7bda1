// A doctest check of a recorder's verify report (es/recorder_verify.h) that prints every problem
// when the one expected is missing. Test-only, for the SQLite and PostgreSQL verify tests.
#ifndef ES_ENGINE_TESTING_RECORDER_VERIFY_CHECKS_H_
#define ES_ENGINE_TESTING_RECORDER_VERIFY_CHECKS_H_

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "es/recorder_verify.h"

namespace es::testing {

// Whether `report` has a problem in `table` at `position` whose message holds `says`.
inline bool Reports(const RecorderVerifyReport& report, const std::string& table,
                    std::optional<std::int64_t> position, const std::string& says) {
  for (const RecorderProblem& problem : report.problems) {
    if (problem.table == table && problem.position == position &&
        problem.message.find(says) != std::string::npos) {
      return true;
    }
  }
  for (const RecorderProblem& problem : report.problems) {
    MESSAGE(problem.table << "@" << (problem.position ? std::to_string(*problem.position) : "-")
                          << ": " << problem.message);
  }
  return false;
}

}  // namespace es::testing

#endif  // ES_ENGINE_TESTING_RECORDER_VERIFY_CHECKS_H_
