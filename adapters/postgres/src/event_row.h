// An event as a result row holds it (Schema's event columns): what reads return and verify checks.
#ifndef ES_ADAPTERS_POSTGRES_SRC_EVENT_ROW_H_
#define ES_ADAPTERS_POSTGRES_SRC_EVENT_ROW_H_

#include <libpq-fe.h>

#include "adapters/common/event_codec.h"
#include "engine/crypto/aes_gcm.h"
#include "es/event.h"
#include "es/result.h"

namespace es::postgres {

// The event whose columns start at `column` of row `row` of a binary result, its data and
// metadata opened with `cipher` (null: the tables are not encrypted, or verify has no key).
// Plain rows keep their metadata in metadata_keys and metadata_values, sealed rows in
// sealed_metadata (docs/postgres.md). Corruption naming the event when its values do not decode
// (OpenEventValues).
Result<SequencedEvent> EventAt(const PGresult* result, int row, int column, const AesGcm* cipher,
                               SealedWithoutKey sealed_without_key = SealedWithoutKey::kRefuse);

}  // namespace es::postgres

#endif  // ES_ADAPTERS_POSTGRES_SRC_EVENT_ROW_H_
