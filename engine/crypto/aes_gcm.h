// AES-256-GCM (NIST SP 800-38D) with 12-byte nonces and 16-byte tags, through Crypto++: the one
// place the engine encrypts. Crypto++ reports failures by exceptions; none escapes this class.
#ifndef ES_ENGINE_CRYPTO_AES_GCM_H_
#define ES_ENGINE_CRYPTO_AES_GCM_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "es/status.h"

namespace es {

class AesGcm {
 public:
  static constexpr std::size_t kKeySize = 32;
  static constexpr std::size_t kNonceSize = 12;
  static constexpr std::size_t kTagSize = 16;
  using Key = std::array<std::uint8_t, kKeySize>;
  using Nonce = std::array<std::uint8_t, kNonceSize>;

  explicit AesGcm(const Key& key);
  ~AesGcm();
  AesGcm(const AesGcm&) = delete;
  AesGcm& operator=(const AesGcm&) = delete;

  // Encrypts the `length` bytes at `data` in place and writes the tag at data + length. The
  // caller never uses a nonce twice with one key: GCM's confidentiality and integrity both fail
  // if it does. Thread-safe.
  Status Seal(const Nonce& nonce, std::string_view associated_data, char* data,
              std::size_t length) const;

  // Checks and decrypts `sealed` (ciphertext, then the tag) into `plain` (sealed.size() -
  // kTagSize bytes; it may be sealed.data()). Corruption when `sealed` is shorter than a tag or
  // the tag does not authenticate it with `associated_data` (anything changed, or another key);
  // `plain` then holds nothing meaningful. Thread-safe.
  Status Open(const Nonce& nonce, std::string_view associated_data, std::string_view sealed,
              char* plain) const;

  // For values stored where no unique nonce can be derived (a database row whose insert may be
  // retried): `*sealed` becomes a random nonce, then `plain` encrypted, then the tag (28 bytes
  // more than `plain`). Random 96-bit nonces stay safe for about 2^32 values under one key.
  Status SealWithRandomNonce(std::string_view associated_data, std::string_view plain,
                             std::string* sealed) const;
  // The inverse of SealWithRandomNonce. Corruption when `sealed` is too short or does not
  // authenticate.
  Status OpenWithStoredNonce(std::string_view associated_data, std::string_view sealed,
                             std::string* plain) const;

 private:
  struct Ciphers;
  // This key's Crypto++ objects for the calling thread (they keep per-message state, so threads
  // cannot share them), made on its first use there.
  Ciphers& ForThisThread() const;

  const std::uint64_t serial_;  // names this key in each thread's cache; never reused
  Key key_;
};

}  // namespace es

#endif  // ES_ENGINE_CRYPTO_AES_GCM_H_
