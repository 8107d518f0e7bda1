// Configuration from environment variables, as the Python library reads it: a variable may be
// given per application ("<APPLICATION_NAME>_<NAME>", upper-cased) with the plain name as the
// fallback; booleans are y/yes/t/true/on/1 or n/no/f/false/off/0 in any case.
#ifndef ES_API_SRC_ENVIRONMENT_H_
#define ES_API_SRC_ENVIRONMENT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "es/result.h"

namespace es {

struct Options;

// Reads one environment variable; null when it is not set. Tests substitute their own.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

// y/yes/t/true/on/1 -> true, n/no/f/false/off/0 -> false (any case); null for anything else.
std::optional<bool> ParseBoolean(std::string_view text);

std::string LowerAscii(std::string_view text);

class EnvironmentReader {
 public:
  // `lookup` null: the process environment (getenv).
  explicit EnvironmentReader(std::string_view application_name, EnvironmentLookup lookup = nullptr);

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
  // The variable `name` itself.
  std::optional<std::string> Lookup(const std::string& name) const;

  std::string prefix_;  // "<APPLICATION_NAME>_", or empty
  EnvironmentLookup lookup_;
};

// Sets options->compression, compression_level and key_provider from COMPRESSOR_TOPIC,
// CIPHER_TOPIC and CIPHER_KEY as OptionsFromEnvironment (es/options.h) reads them, for the
// recorders that read the same variables through their own reader. InvalidArgument naming the
// variable when one is malformed. (Defined in engine/options_environment.cc.)
Status ReadCodecSettings(const EnvironmentReader& environment, Options* options);

}  // namespace es

#endif  // ES_API_SRC_ENVIRONMENT_H_
