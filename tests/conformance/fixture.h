// The conformance suite runs every case against every recorder backend. A backend supplies a
// Fixture; a case calls Restart() between its phases. Backends that persist (the engine) are run
// twice: once with Restart() doing nothing and once with Restart() closing and reopening the
// recorder, so that every state a case checks is also checked after recovery.
#ifndef ES_TESTS_CONFORMANCE_FIXTURE_H_
#define ES_TESTS_CONFORMANCE_FIXTURE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "es/recorder.h"

namespace es::conformance {

class Fixture {
 public:
  virtual ~Fixture() = default;
  virtual Recorder& recorder() = 0;
  // Closes and reopens the recorder when this run tests recovery; otherwise does nothing.
  // Fails the test (via doctest REQUIRE) if reopening fails.
  virtual void Restart() = 0;
};

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Fixture>()> make;
};

// Every backend built into this test binary (defined in backends.cc).
const std::vector<Backend>& Backends();

}  // namespace es::conformance

#endif  // ES_TESTS_CONFORMANCE_FIXTURE_H_
