// FixedKeyProvider and KeyProviderFromBase64 (es/encryption.h).
#include <crypto++/misc.h>

#include "engine/crypto/base64.h"
#include "engine/crypto/store_cipher.h"
#include "es/encryption.h"

namespace es {
namespace {

class FixedKey final : public KeyProvider {
 public:
  explicit FixedKey(std::string key) : key_(std::move(key)) {}
  ~FixedKey() override { CryptoPP::SecureWipeArray(key_.data(), key_.size()); }
  Result<std::string> MasterKey() override { return key_; }

 private:
  std::string key_;
};

}  // namespace

std::shared_ptr<KeyProvider> FixedKeyProvider(std::string master_key) {
  return std::make_shared<FixedKey>(std::move(master_key));
}

Result<std::shared_ptr<KeyProvider>> KeyProviderFromBase64(std::string_view text) {
  Result<std::string> key = Base64Decode(text);
  if (!key.ok()) return key.status().WithContext("encryption key");
  ES_RETURN_IF_ERROR(StoreCipher::CheckMasterKey(*key));
  return FixedKeyProvider(std::move(key).value());
}

}  // namespace es
