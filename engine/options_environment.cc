// OptionsFromEnvironment (es/options.h).
#include <charconv>
#include <string>

#include "api/src/environment.h"
#include "es/encryption.h"
#include "es/options.h"

namespace es {
namespace {

Status ReadCompression(const EnvironmentReader& environment, Options* options) {
  std::optional<std::string> topic = environment.Get("COMPRESSOR_TOPIC");
  if (!topic) return Status::OK();
  if (topic->empty() || *topic == "none") {
    options->compression = Compression::kNone;
    return Status::OK();
  }
  const std::string_view text = *topic;
  auto invalid = [&] {
    return Status::InvalidArgument(environment.SourceOf("COMPRESSOR_TOPIC") +
                                   " must be zstd, zstd:LEVEL (1 to 19) or none, not '" + *topic +
                                   "'");
  };
  if (!text.starts_with("zstd")) return invalid();
  options->compression = Compression::kZstd;
  if (text == "zstd") return Status::OK();
  if (!text.starts_with("zstd:")) return invalid();
  const std::string_view level = text.substr(5);
  int value = 0;
  auto [end, error] = std::from_chars(level.data(), level.data() + level.size(), value);
  if (error != std::errc() || end != level.data() + level.size() || value < 1 || value > 19) {
    return invalid();
  }
  options->compression_level = value;
  return Status::OK();
}

Status ReadCipher(const EnvironmentReader& environment, Options* options) {
  std::optional<std::string> topic = environment.Get("CIPHER_TOPIC");
  if (topic && !topic->empty() && *topic != "aes-256-gcm" &&
      *topic != "eventsourcing.cipher:AESCipher") {
    return Status::InvalidArgument(
        environment.SourceOf("CIPHER_TOPIC") +
        " must be aes-256-gcm (or eventsourcing.cipher:AESCipher), not '" + *topic + "'");
  }
  std::optional<std::string> key = environment.Get("CIPHER_KEY");
  if (!key) {
    if (topic && !topic->empty()) {
      return Status::InvalidArgument(environment.SourceOf("CIPHER_TOPIC") +
                                     " is set, but CIPHER_KEY is not");
    }
    return Status::OK();
  }
  Result<std::shared_ptr<KeyProvider>> provider = KeyProviderFromBase64(*key);
  if (!provider.ok()) return provider.status().WithContext(environment.SourceOf("CIPHER_KEY"));
  options->key_provider = std::move(provider).value();
  return Status::OK();
}

}  // namespace

Status ReadCodecSettings(const EnvironmentReader& environment, Options* options) {
  ES_RETURN_IF_ERROR(ReadCompression(environment, options));
  return ReadCipher(environment, options);
}

Result<Options> OptionsFromEnvironment(std::string_view application_name, Options base) {
  ES_RETURN_IF_ERROR(ReadCodecSettings(EnvironmentReader(application_name), &base));
  return base;
}

}  // namespace es
