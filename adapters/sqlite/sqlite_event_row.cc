#include "adapters/sqlite/sqlite_event_row.h"

#include <algorithm>

#include "adapters/common/string_list_codec.h"

namespace es {

Result<SequencedEvent> ReadEventRow(SqliteStatement& row, const AesGcm* cipher,
                                    SealedWithoutKey sealed_without_key) {
  SequencedEvent sequenced;
  sequenced.position = row.ColumnInt64(0);
  Event& event = sequenced.event;
  event.type = row.ColumnBytes(1);
  StoredRow stored{
      .position = sequenced.position, .codec = row.ColumnInt64(8), .data = row.ColumnBytes(2)};
  if (!row.ColumnIsNull(7)) stored.metadata = row.ColumnBytes(7);
  ES_RETURN_IF_ERROR(OpenEventValues(stored, cipher, sealed_without_key, &event));
  ES_ASSIGN_OR_RETURN(event.tags, DecodeTags(row.ColumnBytes(3)));
  if (!row.ColumnIsNull(4)) {
    event.stream = StreamVersion{std::string(row.ColumnBytes(4)), row.ColumnInt64(5)};
  }
  if (!row.ColumnIsNull(6)) {
    std::string_view uuid = row.ColumnBytes(6);
    if (uuid.size() != 16) {
      return Status::Corruption("uuid column of event " + std::to_string(sequenced.position) +
                                " is not 16 bytes");
    }
    event.uuid.emplace();
    std::copy(uuid.begin(), uuid.end(), event.uuid->begin());
  }
  return sequenced;
}

}  // namespace es
