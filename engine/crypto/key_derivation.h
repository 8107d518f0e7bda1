// Keys derived from a store's master key (docs/encryption.md): one per use, so that no two uses
// can share a nonce under one key.
#ifndef ES_ENGINE_CRYPTO_KEY_DERIVATION_H_
#define ES_ENGINE_CRYPTO_KEY_DERIVATION_H_

#include <cstdint>
#include <string_view>

#include "engine/crypto/aes_gcm.h"

namespace es {

// HKDF-SHA256 (RFC 5869) of `master` with `salt` and `info`: an AES-256 key.
AesGcm::Key DeriveKey(std::string_view master, std::string_view salt, std::string_view info);

// The id a store records for its master key: the first four bytes (little-endian) of
// HMAC-SHA256(master, "es key id v1"), 1 in place of 0 (0 means "not encrypted"). It tells a
// wrong key from the right one before anything is read, and reveals nothing usable about the key.
std::uint32_t KeyIdOf(std::string_view master);

}  // namespace es

#endif  // ES_ENGINE_CRYPTO_KEY_DERIVATION_H_
