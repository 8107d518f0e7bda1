// One row of the SQLite events table (docs/sqlite.md): the event it holds, its data and metadata
// compressed and sealed as adapters/common/event_codec.h describes.
#ifndef ES_ADAPTERS_SQLITE_SQLITE_EVENT_ROW_H_
#define ES_ADAPTERS_SQLITE_SQLITE_EVENT_ROW_H_

#include <string_view>

#include "adapters/common/event_codec.h"
#include "adapters/sqlite/sqlite_connection.h"
#include "engine/crypto/aes_gcm.h"
#include "es/event.h"
#include "es/result.h"

namespace es {

// The HKDF purpose of the SQLite tables' event data key (EventDataKeyFrom).
inline constexpr std::string_view kSqliteDataKeyPurpose = "es sqlite event data v1";

// The event of the current row of `row` (kEventColumns), opened with `cipher` (null: the tables
// are not encrypted, or verify has no key). Corruption naming the event when a column does not
// decode: an unknown codec bit, a sealed value that does not authenticate, compressed data that
// does not decompress, a bad tag or metadata list, a uuid not of 16 bytes.
Result<SequencedEvent> ReadEventRow(
    SqliteStatement& row, const AesGcm* cipher,
    SealedWithoutKey sealed_without_key = SealedWithoutKey::kRefuse);

}  // namespace es

#endif  // ES_ADAPTERS_SQLITE_SQLITE_EVENT_ROW_H_
