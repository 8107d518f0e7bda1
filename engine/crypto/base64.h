// Base64 (RFC 4648, standard alphabet, padded): event data in the tools' JSON and keys in
// CIPHER_KEY.
#ifndef ES_ENGINE_CRYPTO_BASE64_H_
#define ES_ENGINE_CRYPTO_BASE64_H_

#include <string>
#include <string_view>

#include "es/result.h"

namespace es {

std::string Base64Encode(std::string_view bytes);

// The bytes `text` encodes. InvalidArgument for anything but whole, padded groups of the standard
// alphabet ('=' only as the last one or two characters).
Result<std::string> Base64Decode(std::string_view text);

}  // namespace es

#endif  // ES_ENGINE_CRYPTO_BASE64_H_
