// OptionsFromEnvironment (es/options.h).
#include <charconv>
#include <string>

#include "api/src/environment.h"
#include "es/options.h"

namespace es {

Result<Options> OptionsFromEnvironment(std::string_view application_name, Options base) {
  const EnvironmentReader environment(application_name);
  std::optional<std::string> topic = environment.Get("COMPRESSOR_TOPIC");
  if (!topic) return base;
  if (topic->empty() || *topic == "none") {
    base.compression = Compression::kNone;
    return base;
  }
  const std::string_view text = *topic;
  auto invalid = [&] {
    return Status::InvalidArgument(environment.SourceOf("COMPRESSOR_TOPIC") +
                                   " must be zstd, zstd:LEVEL (1 to 19) or none, not '" + *topic +
                                   "'");
  };
  if (!text.starts_with("zstd")) return invalid();
  base.compression = Compression::kZstd;
  if (text == "zstd") return base;
  if (!text.starts_with("zstd:")) return invalid();
  const std::string_view level = text.substr(5);
  int value = 0;
  auto [end, error] = std::from_chars(level.data(), level.data() + level.size(), value);
  if (error != std::errc() || end != level.data() + level.size() || value < 1 || value > 19) {
    return invalid();
  }
  base.compression_level = value;
  return base;
}

}  // namespace es
