// Keys for encrypted stores (docs/encryption.md). A store is encrypted from its creation when
// Options::key_provider is set, and remembers the id of its key: every later open needs the same
// key, and an open without it, or with another, fails before anything is read or written.
#ifndef ES_ENCRYPTION_H_
#define ES_ENCRYPTION_H_

#include <memory>
#include <string>
#include <string_view>

#include "es/result.h"

namespace es {

// Supplies the master key of an encrypted store: 16, 24 or 32 bytes (every key the store derives
// from it is an AES-256 key). Implement it to fetch keys from a key-management service; it is
// called once per open, and the store keeps only keys derived from what it returns.
class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  virtual Result<std::string> MasterKey() = 0;
};

// A provider of one fixed key (not checked until an open uses it).
std::shared_ptr<KeyProvider> FixedKeyProvider(std::string master_key);

// The provider of a key given as the Python library's CIPHER_KEY takes it: base64 (standard
// alphabet, padded) of 16, 24 or 32 bytes. InvalidArgument otherwise.
Result<std::shared_ptr<KeyProvider>> KeyProviderFromBase64(std::string_view text);

}  // namespace es

#endif  // ES_ENCRYPTION_H_
