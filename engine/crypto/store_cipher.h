// The encryption of one store (docs/encryption.md): the id of its master key, the key of its
// event entries and the keys of its index checkpoints, all derived from the master key and the
// store id, so that stores sharing a master key never share a (key, nonce) pair.
#ifndef ES_ENGINE_CRYPTO_STORE_CIPHER_H_
#define ES_ENGINE_CRYPTO_STORE_CIPHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/crypto/aes_gcm.h"
#include "engine/format/file_headers.h"
#include "es/encryption.h"
#include "es/result.h"

namespace es {

class StoreCipher {
 public:
  // InvalidArgument unless `master_key` is 16, 24 or 32 bytes (AES-128, -192 or -256 keys as the
  // Python library's CIPHER_KEY takes them; every key derived from it is 256 bits).
  static Result<std::unique_ptr<StoreCipher>> Create(std::string_view master_key,
                                                     const StoreId& store_id);

  // InvalidArgument unless `master_key` has a length Create accepts.
  static Status CheckMasterKey(std::string_view master_key);

  // The id (KeyIdOf) of the key `provider` gives, checked as Create checks it: for a new store.
  static Result<std::uint32_t> KeyIdOfProvided(KeyProvider& provider);

  // The cipher of the store in `dir` whose current store.meta slot is `meta`, with the key
  // `provider` gives (null: none given): null when the store is not encrypted. InvalidArgument
  // naming `dir` when the store is encrypted and no key was given, when the key is not the one
  // whose id the store records, or when a key was given for a store that is not encrypted.
  static Result<std::unique_ptr<StoreCipher>> ForStore(KeyProvider* provider, const MetaSlot& meta,
                                                       const std::string& dir);

  ~StoreCipher();
  StoreCipher(const StoreCipher&) = delete;
  StoreCipher& operator=(const StoreCipher&) = delete;

  std::uint32_t key_id() const { return key_id_; }
  // Encrypts every event entry of the store (nonces: docs/format.md, "Event entry").
  const AesGcm& entries() const { return entries_; }
  // The key of the checkpoint file with `salt` (random per file) as of `position`, written by
  // the open of `writer_epoch`: its blocks number their nonces from 0.
  std::unique_ptr<AesGcm> CheckpointKey(std::uint64_t salt, std::int64_t position,
                                        std::uint64_t writer_epoch) const;

 private:
  StoreCipher(std::uint32_t key_id, const AesGcm::Key& entries, const AesGcm::Key& checkpoints)
      : key_id_(key_id), entries_(entries), checkpoints_(checkpoints) {}

  const std::uint32_t key_id_;
  const AesGcm entries_;
  AesGcm::Key checkpoints_;  // the root of the checkpoint keys
};

}  // namespace es

#endif  // ES_ENGINE_CRYPTO_STORE_CIPHER_H_
