#include "adapters/common/event_codec.h"

#include <crypto++/misc.h>

#include <limits>

#include "adapters/common/string_list_codec.h"
#include "engine/crypto/key_derivation.h"
#include "engine/crypto/store_cipher.h"
#include "engine/util/coding.h"

namespace es {
namespace {

// A sealed value's bytes beyond its plaintext: the stored nonce and the tag.
constexpr std::size_t kSealedOverhead = AesGcm::kNonceSize + AesGcm::kTagSize;

std::string WrongKey(std::string_view tables, std::int64_t recorded, std::int64_t key_id) {
  return std::string(tables) + " are encrypted under key id " + std::to_string(recorded) +
         "; the key given has id " + std::to_string(key_id) + ": it is the wrong key";
}

}  // namespace

std::string SealedValueContext(char column, std::int64_t position) {
  std::string context(9, column);
  EncodeFixed<std::int64_t>(context.data() + 1, position);
  return context;
}

Result<EventDataKey> EventDataKeyFrom(KeyProvider& provider, std::string_view purpose) {
  ES_ASSIGN_OR_RETURN(std::string key, provider.MasterKey());
  Status checked = StoreCipher::CheckMasterKey(key);
  EventDataKey data_key;
  data_key.key_id = KeyIdOf(key);
  AesGcm::Key derived = DeriveKey(key, "", purpose);
  CryptoPP::SecureWipeArray(key.data(), key.size());
  if (checked.ok()) data_key.cipher = std::make_unique<AesGcm>(derived);
  CryptoPP::SecureWipeArray(derived.data(), derived.size());
  ES_RETURN_IF_ERROR(checked);
  return data_key;
}

std::optional<EventCompressor> CompressorFor(Compression compression, int level) {
  if (compression != Compression::kZstd) return std::nullopt;
  return std::optional<EventCompressor>(std::in_place, level, kMinCompressedBytes);
}

std::vector<std::optional<std::string>> CompressEventData(const EventCompressor* compressor,
                                                          std::span<const Event> events) {
  std::vector<std::optional<std::string>> compressed(compressor != nullptr ? events.size() : 0);
  for (std::size_t i = 0; i < compressed.size(); ++i) {
    std::string bytes;
    if (compressor->Compress(events[i].data, nullptr, &bytes)) compressed[i] = std::move(bytes);
  }
  return compressed;
}

Status SealEventValues(const AesGcm* cipher, std::int64_t position, const Event& event,
                       const std::string* compressed, StoredValues* stored) {
  stored->codec = (compressed != nullptr ? kDataZstd : kDataPlain) |
                  (cipher != nullptr ? kDataEncrypted : kDataPlain);
  stored->data = compressed != nullptr ? std::string_view(*compressed) : event.data;
  stored->metadata.clear();
  if (!event.metadata.empty()) stored->metadata = EncodeMetadata(event.metadata);
  if (cipher == nullptr) return Status::OK();
  ES_RETURN_IF_ERROR(cipher->SealWithRandomNonce(SealedValueContext('d', position), stored->data,
                                                 &stored->sealed_data));
  stored->data = stored->sealed_data;
  if (!stored->metadata.empty()) {
    std::string sealed_metadata;
    ES_RETURN_IF_ERROR(cipher->SealWithRandomNonce(SealedValueContext('m', position),
                                                   stored->metadata, &sealed_metadata));
    stored->metadata = std::move(sealed_metadata);
  }
  return Status::OK();
}

Status OpenEventValues(const StoredRow& row, const AesGcm* cipher,
                       SealedWithoutKey sealed_without_key, Event* event) {
  const std::string where = "event " + std::to_string(row.position);
  if ((row.codec & ~(kDataZstd | kDataEncrypted)) != 0) {
    return Status::Corruption("unknown data_codec of " + where);
  }
  const bool encrypted = (row.codec & kDataEncrypted) != 0;
  if (encrypted && cipher == nullptr) {
    if (sealed_without_key == SealedWithoutKey::kRefuse) {
      return Status::Corruption(where + " is encrypted, and its tables have no key");
    }
    if (row.data.size() < kSealedOverhead) {
      return Status::Corruption(where + " data is shorter than a sealed value's nonce and tag");
    }
    if (row.metadata && row.metadata->size() < kSealedOverhead) {
      return Status::Corruption(where + " metadata is shorter than a sealed value's nonce and tag");
    }
    return Status::OK();  // nothing more to read without the key
  }
  if (encrypted) {
    ES_RETURN_IF_ERROR(
        cipher->OpenWithStoredNonce(SealedValueContext('d', row.position), row.data, &event->data)
            .WithContext(where + " data"));
  } else {
    event->data = row.data;
  }
  if (row.metadata) {
    std::string opened;
    if (encrypted) {
      ES_RETURN_IF_ERROR(
          cipher->OpenWithStoredNonce(SealedValueContext('m', row.position), *row.metadata, &opened)
              .WithContext(where + " metadata"));
    }
    ES_ASSIGN_OR_RETURN(event->metadata,
                        DecodeMetadata(encrypted ? std::string_view(opened) : *row.metadata));
  }
  if ((row.codec & kDataZstd) != 0) {
    std::string compressed = std::move(event->data);
    ES_RETURN_IF_ERROR(
        DecompressEventData(compressed, nullptr, kMaxEventData, &event->data).WithContext(where));
  }
  return Status::OK();
}

Status CheckKeyAgainstRecorded(std::string_view tables, std::optional<std::int64_t> recorded,
                               std::optional<std::int64_t> key_id) {
  if (!recorded) return Status::OK();
  if (!key_id) {
    return Status::InvalidArgument(std::string(tables) + " are encrypted (key id " +
                                   std::to_string(*recorded) +
                                   "): open them with their key (key_provider or CIPHER_KEY)");
  }
  if (*recorded != *key_id) return Status::InvalidArgument(WrongKey(tables, *recorded, *key_id));
  return Status::OK();
}

Status PlainEventsRefuseKey(std::string_view tables) {
  return Status::InvalidArgument(std::string(tables) +
                                 " hold events that are not encrypted, and a key was given: tables "
                                 "are encrypted from their first event (export them into new ones "
                                 "to encrypt them)");
}

Result<EventDataKey> VerifyKey(std::string_view tables, std::optional<std::int64_t> recorded,
                               KeyProvider* provider, std::string_view purpose) {
  if (provider == nullptr) return EventDataKey{};
  ES_ASSIGN_OR_RETURN(EventDataKey key, EventDataKeyFrom(*provider, purpose));
  if (!recorded) {
    return Status::InvalidArgument(std::string(tables) + " are not encrypted, and a key was given");
  }
  if (*recorded != key.key_id) {
    return Status::InvalidArgument(WrongKey(tables, *recorded, key.key_id));
  }
  return key;
}

std::string SealingMismatch(std::int64_t codec, bool key_recorded) {
  const bool sealed = (codec & kDataEncrypted) != 0;
  if (sealed == key_recorded) return "";
  return sealed ? "the event is encrypted, and the tables record no key id"
                : "the event is not encrypted, and the tables record a key id";
}

std::string BadKeyId(std::optional<std::int64_t> key_id) {
  if (!key_id || (*key_id >= 1 && *key_id <= std::numeric_limits<std::uint32_t>::max())) {
    return "";
  }
  return "key_id " + std::to_string(*key_id) + " is not a key id (1 to 2^32-1)";
}

}  // namespace es
