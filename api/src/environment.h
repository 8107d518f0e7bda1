// Configuration from environment variables, as the Python library reads it: a variable may be
// given per application ("<APPLICATION_NAME>_<NAME>", upper-cased) with the plain name as the
// fallback; booleans are y/yes/t/true/on/1 or n/no/f/false/off/0 in any case.
#ifndef ES_API_SRC_ENVIRONMENT_H_
#define ES_API_SRC_ENVIRONMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "es/result.h"

namespace es {

class EnvironmentReader {
 public:
  explicit EnvironmentReader(std::string_view application_name);

  // The value of `name` (per application first), or null when neither variable is set.
  std::optional<std::string> Get(std::string_view name) const;
  // InvalidArgument naming the variable when the value is not a boolean.
  Result<std::optional<bool>> GetBool(std::string_view name) const;
  // InvalidArgument naming the variable when the value is not a whole number.
  Result<std::optional<std::int64_t>> GetInt(std::string_view name) const;
  // The variable that holds `name`'s value (the per-application one when it is set), for
  // messages.
  std::string SourceOf(std::string_view name) const;

 private:
  std::string prefix_;  // "<APPLICATION_NAME>_", or empty
};

}  // namespace es

#endif  // ES_API_SRC_ENVIRONMENT_H_
