#include "adapters/postgres/src/event_row.h"

#include <string>
#include <vector>

#include "adapters/postgres/src/wire.h"

namespace es::postgres {

Result<SequencedEvent> EventAt(const PGresult* result, int row, int column, const AesGcm* cipher,
                               SealedWithoutKey sealed_without_key) {
  SequencedEvent sequenced;
  sequenced.position = GetInt8(result, row, column).value_or(0);
  Event& event = sequenced.event;
  event.type = GetBytes(result, row, column + 1);
  const std::string data = GetBytes(result, row, column + 2);
  StoredRow stored{
      .position = sequenced.position, .codec = GetInt4(result, row, column + 9), .data = data};
  std::string sealed_metadata;
  if (!IsNull(result, row, column + 10)) {
    sealed_metadata = GetBytes(result, row, column + 10);
    stored.metadata = sealed_metadata;
  }
  ES_RETURN_IF_ERROR(OpenEventValues(stored, cipher, sealed_without_key, &event));
  event.tags = GetTextArray(result, row, column + 3);
  if (!IsNull(result, row, column + 4)) {
    event.stream = StreamVersion{GetBytes(result, row, column + 4),
                                 GetInt8(result, row, column + 5).value_or(0)};
  }
  event.uuid = GetUuid(result, row, column + 6);
  if (!stored.metadata) {
    std::vector<std::string> keys = GetTextArray(result, row, column + 7);
    std::vector<std::string> values = GetTextArray(result, row, column + 8);
    for (std::size_t i = 0; i < keys.size() && i < values.size(); ++i) {
      event.metadata.emplace(std::move(keys[i]), std::move(values[i]));
    }
  }
  return sequenced;
}

}  // namespace es::postgres
