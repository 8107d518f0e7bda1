#include "adapters/sqlite/sqlite_event_row.h"

#include <crypto++/misc.h>

#include <algorithm>

#include "adapters/sqlite/string_list_codec.h"
#include "engine/compress/event_compressor.h"
#include "engine/crypto/key_derivation.h"
#include "engine/crypto/store_cipher.h"
#include "engine/util/coding.h"

namespace es {
namespace {

// A sealed value's bytes beyond its plaintext: the stored nonce and the tag.
constexpr std::size_t kSealedOverhead = AesGcm::kNonceSize + AesGcm::kTagSize;

}  // namespace

std::string SealedValueContext(char column, std::int64_t position) {
  std::string context(9, column);
  EncodeFixed<std::int64_t>(context.data() + 1, position);
  return context;
}

Result<SqliteDataKey> SqliteDataKeyFrom(KeyProvider& provider) {
  ES_ASSIGN_OR_RETURN(std::string key, provider.MasterKey());
  Status checked = StoreCipher::CheckMasterKey(key);
  SqliteDataKey data_key;
  data_key.key_id = KeyIdOf(key);
  AesGcm::Key derived = DeriveKey(key, "", "es sqlite event data v1");
  CryptoPP::SecureWipeArray(key.data(), key.size());
  if (checked.ok()) data_key.cipher = std::make_unique<AesGcm>(derived);
  CryptoPP::SecureWipeArray(derived.data(), derived.size());
  ES_RETURN_IF_ERROR(checked);
  return data_key;
}

Result<SequencedEvent> ReadEventRow(SqliteStatement& row, const AesGcm* cipher,
                                    SealedWithoutKey sealed_without_key) {
  SequencedEvent sequenced;
  sequenced.position = row.ColumnInt64(0);
  const std::string where = "event " + std::to_string(sequenced.position);
  const std::int64_t codec = row.ColumnInt64(8);
  if ((codec & ~(kDataZstd | kDataEncrypted)) != 0) {
    return Status::Corruption("unknown data_codec of " + where);
  }
  const bool encrypted = (codec & kDataEncrypted) != 0;
  Event& event = sequenced.event;
  event.type = row.ColumnBytes(1);
  if (encrypted && cipher == nullptr) {
    if (sealed_without_key == SealedWithoutKey::kRefuse) {
      return Status::Corruption(where + " is encrypted, and its tables have no key");
    }
    for (int column : {2, 7}) {
      if (!row.ColumnIsNull(column) && row.ColumnBytes(column).size() < kSealedOverhead) {
        return Status::Corruption(where + (column == 2 ? " data" : " metadata") +
                                  " is shorter than a sealed value's nonce and tag");
      }
    }
  } else if (encrypted) {
    ES_RETURN_IF_ERROR(cipher
                           ->OpenWithStoredNonce(SealedValueContext('d', sequenced.position),
                                                 row.ColumnBytes(2), &event.data)
                           .WithContext(where + " data"));
  } else {
    event.data = row.ColumnBytes(2);
  }
  ES_ASSIGN_OR_RETURN(event.tags, DecodeTags(row.ColumnBytes(3)));
  if (!row.ColumnIsNull(4)) {
    event.stream = StreamVersion{std::string(row.ColumnBytes(4)), row.ColumnInt64(5)};
  }
  if (!row.ColumnIsNull(6)) {
    std::string_view uuid = row.ColumnBytes(6);
    if (uuid.size() != 16)
      return Status::Corruption("uuid column of " + where + " is not 16 bytes");
    event.uuid.emplace();
    std::copy(uuid.begin(), uuid.end(), event.uuid->begin());
  }
  if (encrypted && cipher == nullptr) return sequenced;  // nothing more to read without the key
  if (!row.ColumnIsNull(7)) {
    std::string opened;
    if (encrypted) {
      ES_RETURN_IF_ERROR(cipher
                             ->OpenWithStoredNonce(SealedValueContext('m', sequenced.position),
                                                   row.ColumnBytes(7), &opened)
                             .WithContext(where + " metadata"));
    }
    ES_ASSIGN_OR_RETURN(event.metadata,
                        DecodeMetadata(encrypted ? std::string_view(opened) : row.ColumnBytes(7)));
  }
  if ((codec & kDataZstd) != 0) {
    std::string compressed = std::move(event.data);
    ES_RETURN_IF_ERROR(
        DecompressEventData(compressed, nullptr, kMaxEventData, &event.data).WithContext(where));
  }
  return sequenced;
}

}  // namespace es
