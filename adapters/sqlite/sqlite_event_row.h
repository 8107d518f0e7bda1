// One row of the SQLite events table (docs/sqlite.md): how its data_codec marks compressed and
// sealed values, the key that seals them, and the event it holds.
#ifndef ES_ADAPTERS_SQLITE_SQLITE_EVENT_ROW_H_
#define ES_ADAPTERS_SQLITE_SQLITE_EVENT_ROW_H_

#include <cstdint>
#include <memory>
#include <string>

#include "adapters/sqlite/sqlite_connection.h"
#include "engine/crypto/aes_gcm.h"
#include "es/encryption.h"
#include "es/event.h"
#include "es/result.h"

namespace es {

// The data_codec column: how the data column holds the event's data (bits).
inline constexpr std::int64_t kDataPlain = 0;
inline constexpr std::int64_t kDataZstd = 1;  // a zstd frame (engine/compress)
// data, and metadata when present, sealed (AesGcm::SealWithRandomNonce) after any compression.
inline constexpr std::int64_t kDataEncrypted = 2;

// The associated data of a sealed value: which column ('d' data, 'm' metadata), and the event's
// position, so that no sealed value can move to another row or column unnoticed.
std::string SealedValueContext(char column, std::int64_t position);

// The event data key of a master key, and the id the meta table records for it.
struct SqliteDataKey {
  std::int64_t key_id = 0;
  std::unique_ptr<AesGcm> cipher;
};
// InvalidArgument when the provider's key is not 16, 24 or 32 bytes; the provider's own failure
// otherwise. No copy of the master key outlives the call.
Result<SqliteDataKey> SqliteDataKeyFrom(KeyProvider& provider);

// What ReadEventRow does with a sealed row when it has no cipher.
enum class SealedWithoutKey {
  kRefuse,      // Corruption: a reader cannot return such an event
  kCheckShape,  // verify: check that the sealed values can hold a nonce and a tag, and return the
                // event without its data and metadata
};

// The event of the current row of `row` (kEventColumns), opened with `cipher` (null: the tables
// are not encrypted, or verify has no key). Corruption naming the event when a column does not
// decode: an unknown codec bit, a sealed value that does not authenticate, compressed data that
// does not decompress, a bad tag or metadata list, a uuid not of 16 bytes.
Result<SequencedEvent> ReadEventRow(
    SqliteStatement& row, const AesGcm* cipher,
    SealedWithoutKey sealed_without_key = SealedWithoutKey::kRefuse);

}  // namespace es

#endif  // ES_ADAPTERS_SQLITE_SQLITE_EVENT_ROW_H_
