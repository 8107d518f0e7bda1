// The blob encoding of an event's tag list and metadata in the SQLite events table, and of the
// metadata the PostgreSQL recorder seals: strings as (LEB128 length, bytes), one after another.
// Tags keep their order and duplicates; metadata is key, value, key, value... in key order.
// docs/sqlite.md describes it for other readers.
#ifndef ES_ADAPTERS_COMMON_STRING_LIST_CODEC_H_
#define ES_ADAPTERS_COMMON_STRING_LIST_CODEC_H_

#include <string>
#include <string_view>
#include <vector>

#include "es/event.h"
#include "es/result.h"

namespace es {

std::string EncodeTags(const std::vector<std::string>& tags);
// Corruption when `blob` is not a list of length-prefixed strings.
Result<std::vector<std::string>> DecodeTags(std::string_view blob);

std::string EncodeMetadata(const Metadata& metadata);
// Corruption when `blob` is not an even list of length-prefixed strings.
Result<Metadata> DecodeMetadata(std::string_view blob);

}  // namespace es

#endif  // ES_ADAPTERS_COMMON_STRING_LIST_CODEC_H_
