#include "engine/crypto/store_cipher.h"

#include <crypto++/misc.h>

#include <string>

#include "engine/crypto/key_derivation.h"
#include "engine/util/coding.h"

namespace es {
namespace {

std::string_view AsText(const StoreId& id) {
  return std::string_view(reinterpret_cast<const char*>(id.data()), id.size());
}

std::string_view AsText(const AesGcm::Key& key) {
  return std::string_view(reinterpret_cast<const char*>(key.data()), key.size());
}

}  // namespace

Status StoreCipher::CheckMasterKey(std::string_view master_key) {
  if (master_key.size() != 16 && master_key.size() != 24 && master_key.size() != 32) {
    return Status::InvalidArgument("an encryption key must be 16, 24 or 32 bytes, not " +
                                   std::to_string(master_key.size()));
  }
  return Status::OK();
}

Result<std::unique_ptr<StoreCipher>> StoreCipher::Create(std::string_view master_key,
                                                         const StoreId& store_id) {
  ES_RETURN_IF_ERROR(CheckMasterKey(master_key));
  AesGcm::Key entries = DeriveKey(master_key, AsText(store_id), "es event entries v1");
  AesGcm::Key checkpoints = DeriveKey(master_key, AsText(store_id), "es checkpoints v1");
  return std::unique_ptr<StoreCipher>(new StoreCipher(KeyIdOf(master_key), entries, checkpoints));
}

StoreCipher::~StoreCipher() { CryptoPP::SecureWipeArray(checkpoints_.data(), checkpoints_.size()); }

Result<std::uint32_t> StoreCipher::KeyIdOfProvided(KeyProvider& provider) {
  ES_ASSIGN_OR_RETURN(std::string key, provider.MasterKey());
  const Status checked = CheckMasterKey(key);
  const std::uint32_t id = KeyIdOf(key);
  CryptoPP::SecureWipeArray(key.data(), key.size());
  ES_RETURN_IF_ERROR(checked);
  return id;
}

Result<std::unique_ptr<StoreCipher>> StoreCipher::ForStore(KeyProvider* provider,
                                                           const MetaSlot& meta,
                                                           const std::string& dir) {
  if (provider == nullptr) {
    if (meta.key_id == 0) return std::unique_ptr<StoreCipher>();
    return Status::InvalidArgument(dir + " is encrypted (key id " + std::to_string(meta.key_id) +
                                   "): open it with its key (Options::key_provider or CIPHER_KEY)");
  }
  if (meta.key_id == 0) {
    return Status::InvalidArgument(
        dir +
        " is not encrypted, and a key was given: a store is encrypted from its creation "
        "(to encrypt this one, export it into a new store with esdump and esload)");
  }
  ES_ASSIGN_OR_RETURN(std::string key, provider->MasterKey());
  Result<std::unique_ptr<StoreCipher>> cipher = Create(key, meta.store_id);
  CryptoPP::SecureWipeArray(key.data(), key.size());
  ES_RETURN_IF_ERROR(cipher.status());
  if ((*cipher)->key_id() != meta.key_id) {
    return Status::InvalidArgument(dir + " is encrypted under key id " +
                                   std::to_string(meta.key_id) + "; the key given has id " +
                                   std::to_string((*cipher)->key_id()) + ": it is the wrong key");
  }
  return cipher;
}

std::unique_ptr<AesGcm> StoreCipher::CheckpointKey(std::uint64_t salt, std::int64_t position,
                                                   std::uint64_t writer_epoch) const {
  std::string info(24, '\0');
  EncodeFixed<std::uint64_t>(info.data(), salt);
  EncodeFixed<std::int64_t>(info.data() + 8, position);
  EncodeFixed<std::uint64_t>(info.data() + 16, writer_epoch);
  return std::make_unique<AesGcm>(DeriveKey(AsText(checkpoints_), "es checkpoint v1", info));
}

}  // namespace es
